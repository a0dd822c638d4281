#include "common/boot.hpp"

#include "common/log.hpp"

#include <tessera/arch.hpp>

#ifndef TESSERA_TARGET_NAME
#define TESSERA_TARGET_NAME "host"
#endif

namespace tessera {

void boot_main() {
    log("Tessera hypervisor, target " TESSERA_TARGET_NAME "\n");
    RealRange ram[16];
    usize n = plat::memory_ranges(ram, 16);
    u64 total = 0;
    for (usize i = 0; i < n; ++i) total += ram[i].size;
    log("memory: %llu MiB in %zu range(s)\n", static_cast<unsigned long long>(total / MiB), n);
    RealRange b = plat::boot_bundle();
    if (b.size)
        log("bundle: %llu bytes at %#llx\n", static_cast<unsigned long long>(b.size),
            static_cast<unsigned long long>(b.base.value()));
    else
        log("bundle: none\n");
    log("no LPAR to run yet: powering off\n");
    plat::power_off(0);
}

} // namespace tessera
