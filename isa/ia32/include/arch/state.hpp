// ia32 per-vcpu and per-LPAR state, embedded by value in the core's Vcpu and Lpar.
#pragma once

#include <tessera/types.hpp>

namespace tessera::arch {

struct VcpuState {
    u32 eip = 0;
    u32 esp = 0;
    u32 eflags = 0;
    u32 arg = 0;
};

struct LparState {
    u32 shadow_root = 0;
};

} // namespace tessera::arch
