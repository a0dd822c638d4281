// Privileged-instruction emulation for the ring-1 guest kernel (docs/ia32.md): what a #GP(0)
// from ring 1 stopped at, decoded (isa/ia32/decode.hpp) and carried out on the vcpu's virtual
// state.
#pragma once

#include "common/lpar.hpp"

namespace tessera::arch {

enum class Emulated : u8 {
    Done,      // carried out, eip past the instruction
    Halt,      // hlt: eip past it; the vcpu idles until an interrupt is pending
    Reflected, // the instruction faults for the guest (#GP/#UD/#PF delivered to it)
    Crashed,   // delivering that fault failed: the LPAR is stopped
};

Emulated emulate_privileged(Vcpu& v);

} // namespace tessera::arch
