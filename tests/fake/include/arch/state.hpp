// Host unit tests' stand-in for an ISA's per-vcpu and per-LPAR state (see
// include/tessera/arch.hpp); tests/fake/arch_fake.cpp implements the ISA hooks over it.
#pragma once

#include <tessera/types.hpp>

namespace tessera::arch {

struct VcpuState {
    u64 pc = 0;
    u64 args[4] = {};
    u64 runs = 0;       // how often the fake vcpu_run entered this vcpu
    bool timer = false; // the fake "decrementer" has expired
    u64 timer_at = 0;   // what arch::timer_deadline says (0: no timer)
    u64 step = 0;       // where a scripted fake guest is in its script
};

struct LparState {
    bool initialised = false;
};

} // namespace tessera::arch
