// pc platform entry: called by isa/ia32/entry.S with the multiboot magic and info pointer.
#include "common/boot.hpp"
#include "common/log.hpp"

#include <multiboot/multiboot.h>
#include <plat/smp.hpp>
#include <plat/timer.hpp>
#include <plat/watchdog.hpp>
#include <tessera/arch.hpp>

extern "C" char _image_start[], _image_end[], __bss_start[], __bss_end[];

namespace tessera {
namespace {

constexpr usize kMaxRanges = 16;
RealRange ram[kMaxRanges];
usize ram_count = 0;
RealRange bundle;
RealRange mbi_range;

void read_multiboot(const multiboot_info_t* mbi) {
    mbi_range = RealRange{RealAddr(reinterpret_cast<uptr>(mbi)), sizeof(*mbi)};
    if (mbi->flags & MULTIBOOT_INFO_MEM_MAP) {
        u32 off = 0;
        while (off + sizeof(multiboot_memory_map_t) <= mbi->mmap_length + 4 &&
               ram_count < kMaxRanges) {
            auto* e = reinterpret_cast<const multiboot_memory_map_t*>(mbi->mmap_addr + off);
            if (e->type == MULTIBOOT_MEMORY_AVAILABLE && e->len)
                ram[ram_count++] = RealRange{RealAddr(e->addr), e->len};
            off += e->size + 4;
        }
    } else if (mbi->flags & MULTIBOOT_INFO_MEMORY) {
        ram[ram_count++] = RealRange{RealAddr(0x100000), u64{mbi->mem_upper} * KiB};
    }
    if ((mbi->flags & MULTIBOOT_INFO_MODS) && mbi->mods_count > 0) {
        auto* mod = reinterpret_cast<const multiboot_module_t*>(mbi->mods_addr);
        if (mod->mod_end > mod->mod_start)
            bundle = RealRange{RealAddr(mod->mod_start), u64{mod->mod_end} - mod->mod_start};
    }
}

} // namespace

usize plat::memory_ranges(RealRange* out, usize max) {
    usize n = ram_count < max ? ram_count : max;
    for (usize i = 0; i < n; ++i) out[i] = ram[i];
    return n;
}

usize plat::reserved_ranges(RealRange* out, usize max) {
    usize n = 0;
    auto push = [&](RealRange r) {
        if (n < max && r.size) out[n++] = r;
    };
    push(RealRange{RealAddr(0), 0x100000}); // real-mode area, BIOS, VGA, option ROMs
    push(RealRange{RealAddr(reinterpret_cast<uptr>(_image_start)),
                   static_cast<u64>(_image_end - _image_start)});
    push(bundle);
    push(mbi_range);
    return n;
}

RealRange plat::boot_bundle() {
    return bundle;
}

// The TSC, calibrated against the PIT at boot (plat/pc/timer.cpp).
void plat::image_footprint(Footprint& out) {
    out.image = static_cast<u64>(_image_end - _image_start);
    out.image_bss = static_cast<u64>(__bss_end - __bss_start);
}

u64 plat::timebase_hz() {
    return pc::tsc_hz();
}

} // namespace tessera

extern "C" [[noreturn]] void pc_main(tessera::u32 magic, const multiboot_info_t* mbi) {
    using namespace tessera;
    arch::early_init();
    if (magic != MULTIBOOT_BOOTLOADER_MAGIC) {
        log("pc: not started by a multiboot loader (magic %#x)\n", magic);
        plat::power_off(1);
    }
    read_multiboot(mbi);
    pc::timer_init();
    pc::start_secondaries();
    pc::watchdog_start((1u << plat::cpu_count()) - 1); // every CPU in use has its tables now
    log("pc: %zu RAM range(s) from multiboot\n", ram_count);
    boot_main();
}
