// ppc64 per-vcpu and per-LPAR state, embedded by value in the core's Vcpu and Lpar.
#pragma once

#include <arch/regs.hpp>
#include <stddef.h>
#include <tessera/types.hpp>

#include "common/exit_counts.hpp"
#include "isa/ppc64/htab.hpp"

namespace tessera::arch {

inline constexpr u32 kSlbEntries = 32; // POWER8

// FP, VMX and VSX registers (isa/ppc64/fpu.S saves and loads this layout).
struct VectorState {
    alignas(16) u8 vsr[64][16];
    u64 fpscr;
    u64 unused;
    alignas(16) u8 vscr[16];
    u64 vrsave;
    u64 unused2;
};
static_assert(offsetof(VectorState, fpscr) == 1024);
static_assert(offsetof(VectorState, vscr) == 1040);
static_assert(offsetof(VectorState, vrsave) == 1056);

// Problem-state and supervisor SPRs a guest owns besides the ones the exit path handles.
struct SprState {
    u64 amr, iamr, uamor, dscr, tar, fscr, pspb, ctrl;
    u64 ebbhr, ebbrr, bescr;
    u64 mmcr0, mmcr1, mmcr2, mmcra, pmc[6], siar, sdar, sier;
};

struct VcpuState {
    GuestRegs regs;
    // Supervisor SPRs the guest owns; swapped when another vcpu takes the physical CPU.
    u64 srr0 = 0, srr1 = 0, dar = 0, dsisr = 0;
    u64 sprg[4] = {};
    u64 slb_esid[kSlbEntries] = {}; // slbmfee values (ESID | V), 0 = unused
    u64 slb_vsid[kSlbEntries] = {};
    // Swapped only when another vcpu takes the physical CPU (isa/ppc64/run.cpp).
    VectorState vector{};
    SprState spr{};
    // The decrementer keeps counting while the vcpu is off the CPU: its expiry in timebase
    // ticks, saved when another vcpu takes the CPU (isa/ppc64/dec.hpp). Up to date whenever
    // vcpu_run has returned.
    u64 dec_expiry = 0;
    // Which copy of the state above a physical CPU may still hold in its registers: with
    // several CPUs, vcpu_run saves the state at its end and numbers the copy; a CPU whose
    // Pcpu::held_seq names this number still holds exactly it (isa/ppc64/run.cpp). 0: none
    // (vcpu_init). Lock: the core lock.
    u64 saved_seq = 0;
};

struct LparState {
    u32 lpid = 0;
    u64 lpcr = 0; // the guest's LPCR (VRMA, ILE, HDICE; MER added per entry)
    // The LPAR's hashed page table (filled by the guest through H_ENTER & co, plus the VRMA).
    // Not ready() until lpar_init gave it memory; its lpid() equals `lpid` above. The MMU hcalls
    // answer H_FUNCTION while it is not ready.
    Htab htab;
    // Per physical CPU (bit = arch::cpu_index): `ran_on`, the CPUs that ran one of its vcpus
    // since the LPAR was created (their TLBs may hold its translations); `flush_on_entry`, the
    // CPUs that must drop this LPID from their TLB before they run it again (isa/ppc64/lpar.cpp,
    // invalidate_for_lpar). Lock: the core lock.
    u64 ran_on = 0;
    u64 flush_on_entry = 0;
    ExitCounts exits; // by reason (isa/ppc64/exit_reason.hpp); lock: the core lock
};

} // namespace tessera::arch
