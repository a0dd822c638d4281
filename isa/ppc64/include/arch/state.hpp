// ppc64 per-vcpu and per-LPAR state, embedded by value in the core's Vcpu and Lpar.
#pragma once

#include <tessera/types.hpp>

namespace tessera::arch {

struct VcpuState {
    u64 gpr[32] = {};
    u64 pc = 0;  // guest NIA (HSRR0 on entry)
    u64 msr = 0; // guest MSR (HSRR1 on entry)
};

struct LparState {
    u32 lpid = 0;
};

} // namespace tessera::arch
