// Where an interrupt the hypervisor gives to an LPAR starts: the vector, and the MSR its handler
// runs with. This is what the CPU does for the interrupts it delivers to the guest directly (DEC,
// system call, storage faults with VPM1 clear), so that interrupts Tessera delivers itself (an
// external one, a reflected illegal instruction, a DSI for an access outside the LPAR) arrive
// the same way.
#pragma once

#include "isa/ppc64/spr.hpp"

namespace tessera::arch {

// AIL = 3 moves a guest interrupt to this address + its vector, with IR and DR on.
inline constexpr u64 kAilBase = 0xc000000000004000;

struct GuestInterrupt {
    u64 pc;
    u64 msr;
};

// The guest interrupt `vector` taken with the guest's MSR `msr_at`, under the LPAR's `lpcr`:
// 64-bit, ME kept, endianness from LPCR[ILE]. With LPCR[AIL] = 3 it is delivered relocation-on
// (Power ISA 2.07, 6.5: "Alternate Interrupt Location") when the interrupted code had both IR
// and DR on; never for system reset and machine check. AIL 1 and 2 are not offered (h_set_mode).
constexpr GuestInterrupt guest_interrupt(u64 lpcr, u64 vector, u64 msr_at) {
    u64 m = msr::SF | (msr_at & msr::ME);
    if (lpcr & lpcr::ILE) m |= msr::LE;
    constexpr u64 kRelocated = msr::IR | msr::DR;
    const bool relocated = (lpcr & lpcr::AIL) == lpcr::AIL_3 &&
                           (msr_at & kRelocated) == kRelocated && vector != kSystemReset &&
                           vector != kMachineCheck;
    if (!relocated) return {vector, m};
    return {kAilBase | vector, m | kRelocated};
}

} // namespace tessera::arch
