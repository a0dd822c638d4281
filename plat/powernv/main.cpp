// powernv platform entry: called by isa/ppc64/entry.S once the CPU is little-endian with a stack.
#include "common/boot.hpp"
#include "common/log.hpp"
#include "isa/ppc64/l1d_flush.hpp"
#include "plat/powernv/host_fdt.hpp"
#include "plat/powernv/opal.hpp"
#include "plat/powernv/smp.hpp"

#include <tessera/arch.hpp>

extern "C" char _image_start[], _image_end[], __bss_start[], __bss_end[];

namespace tessera {
namespace {
powernv::HostInfo host;
}

usize plat::memory_ranges(RealRange* out, usize max) {
    usize n = host.ram_count < max ? host.ram_count : max;
    for (usize i = 0; i < n; ++i) out[i] = host.ram[i];
    return n;
}

usize plat::reserved_ranges(RealRange* out, usize max) {
    usize n = 0;
    auto push = [&](RealRange r) {
        if (n < max && r.size) out[n++] = r;
    };
    push(RealRange{RealAddr(0), 0x20000000}); // skiboot's own area below the payload
    push(RealRange{RealAddr(reinterpret_cast<uptr>(_image_start)),
                   static_cast<u64>(_image_end - _image_start)});
    push(host.bundle);
    for (usize i = 0; i < host.reserved_count; ++i) push(host.reserved[i]);
    return n;
}

RealRange plat::boot_bundle() {
    return host.bundle;
}
void plat::image_footprint(Footprint& out) {
    out.image = static_cast<u64>(_image_end - _image_start);
    out.image_bss = static_cast<u64>(__bss_end - __bss_start);
}

u64 plat::timebase_hz() {
    return host.timebase_hz;
}

} // namespace tessera

extern "C" [[noreturn]] void powernv_main(void* fdt, tessera::u64 opal_base,
                                          tessera::u64 opal_entry) {
    using namespace tessera;
    opal::init(opal_base, opal_entry);
    // Hypervisor interrupts must be taken little-endian, like the rest of Tessera.
    if (opal_call(opal::REINIT_CPUS, opal::kReinitHileLe) != opal::SUCCESS)
        log("powernv: OPAL_REINIT_CPUS(HILE_LE) failed\n");
    arch::early_init();
    if (!powernv::read_host_fdt(fdt, host)) plat::power_off(1);
    log("powernv: %zu RAM range(s), %u CPU thread(s), timebase %llu Hz\n", host.ram_count,
        host.cpu_threads, static_cast<unsigned long long>(host.timebase_hz));
    // What the guests are told about speculation, and how the L1D is emptied before each guest
    // entry: before any CPU runs one.
    arch::init_speculation(host.fw, host.l1d_bytes);
    powernv::start_secondaries(host);
    boot_main();
}
