// The per-physical-CPU hypervisor area (layout in <arch/pcpu.h>). r13 points at `pcpu`; the
// stack guard that Debian's libfdt reads at -0x7010(r13) sits at the start of the block.
#pragma once

#include <arch/pcpu.h>
#include <arch/regs.hpp>
#include <stddef.h>
#include <tessera/types.hpp>

namespace tessera {
class Vcpu;
}

namespace tessera::arch {

struct Pcpu {
    u64 scratch0 = 0;
    u64 vector = 0;
    u64 in_guest = 0;
    u64 hv_sp = 0;
    GuestRegs* regs = nullptr;
    GuestRegs* fault = nullptr;
    u64 fault_sp = 0;
    u64 scratch_cr = 0;
    u64 napping = 0;
    u64 l1d_flush = PCPU_FLUSH_NONE; // before a guest runs: cpu_init sets it (l1d_flush.hpp)
    u64 l1d_area = 0;
    u64 l1d_blocks = 0;
    // C++-only from here.
    Vcpu* last_vcpu = nullptr; // whose SLB, FP/VMX/VSX and owned SPRs are in the CPU now
    // Whether last_vcpu's state is also in memory (VcpuState), as the copy numbered held_seq
    // (VcpuState::saved_seq); with one CPU it is saved only when another vcpu takes the CPU.
    bool state_saved = false;
    u64 held_seq = 0;
    Vcpu* running = nullptr; // the vcpu in vcpu_run on this CPU, else nullptr
    u32 index = 0;           // the core's number for this CPU (arch::cpu_index)
};

static_assert(offsetof(Pcpu, scratch0) == PCPU_SCRATCH0);
static_assert(offsetof(Pcpu, vector) == PCPU_VECTOR);
static_assert(offsetof(Pcpu, in_guest) == PCPU_IN_GUEST);
static_assert(offsetof(Pcpu, hv_sp) == PCPU_HV_SP);
static_assert(offsetof(Pcpu, regs) == PCPU_REGS);
static_assert(offsetof(Pcpu, fault) == PCPU_FAULT);
static_assert(offsetof(Pcpu, fault_sp) == PCPU_FAULT_SP);
static_assert(offsetof(Pcpu, scratch_cr) == PCPU_SCRATCH_CR);
static_assert(offsetof(Pcpu, napping) == PCPU_NAPPING);
static_assert(offsetof(Pcpu, l1d_flush) == PCPU_L1D_FLUSH);
static_assert(offsetof(Pcpu, l1d_area) == PCPU_L1D_AREA);
static_assert(offsetof(Pcpu, l1d_blocks) == PCPU_L1D_BLOCKS);

inline constexpr usize kStackGuardOffset = 0x7010;

struct PcpuBlock {
    u64 stack_guard;
    u8 unused[kStackGuardOffset - sizeof(u64)];
    Pcpu pcpu;
};
static_assert(offsetof(PcpuBlock, pcpu) == kStackGuardOffset);

// The boot CPU's block; isa/ppc64/entry.S points r13 at its `pcpu`. The secondaries' blocks
// are in isa/ppc64/smp.cpp.
extern "C" PcpuBlock ppc64_pcpu_block0;

inline Pcpu& this_pcpu() {
    Pcpu* p;
    asm("mr %0, 13" : "=r"(p));
    return *p;
}

} // namespace tessera::arch
