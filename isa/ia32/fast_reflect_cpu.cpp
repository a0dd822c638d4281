// The switcher's block and slots for the faults it reflects, on this CPU
// (isa/ia32/fast_reflect.hpp).
#include "isa/ia32/cpu.hpp"
#include "isa/ia32/fast_reflect.hpp"
#include "isa/ia32/pcpu.hpp"

#include <tessera/hot.hpp>

extern "C" {
extern char sw_fast_reflect[];
// In this CPU's switcher stack page (written by the switcher; guests can write it too): what it
// reflected since the hypervisor last read it (switcher.S sw_reflected; fast_reflected_take).
extern tessera::u32 sw_reflected[3];
}

namespace tessera::arch {

TESSERA_HOT void fast_reflect_install(const FastReflectImage& image) {
    // Only what differs is written (under QEMU a store to the switcher's data page costs far
    // more than a load); the cr3 load that enters the guest drops what the TLB held of the old
    // slot entries (they are not global).
    u32* slots = this_pcpu().switcher_pt + X86_FR_SLOT;
    for (usize i = 0; i < 2 + X86_FR_TABLES; ++i)
        if (slots[i] != image.slots[i]) slots[i] = image.slots[i];
    // Through the hypervisor's view of this CPU's data page (the guests' is read-only).
    auto* block = reinterpret_cast<FastReflect*>(switcher_va(sw_fast_reflect));
    if (!(*block == image.block)) *block = image.block;
}

TESSERA_HOT FastReflected fast_reflect_taken() {
    return fast_reflected_take(
        *reinterpret_cast<u32(*)[3]>(switcher_va(sw_reflected))); // this CPU's
}

} // namespace tessera::arch
