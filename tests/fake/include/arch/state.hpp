// Host unit tests' stand-in for an ISA's per-vcpu and per-LPAR state (see
// include/tessera/arch.hpp).
#pragma once

#include <tessera/types.hpp>

namespace tessera::arch {

struct VcpuState {
    u64 pc = 0;
    u64 arg = 0;
    u64 runs = 0; // how often the fake vcpu_run entered this vcpu
};

struct LparState {
    bool initialised = false;
};

} // namespace tessera::arch
