// ppc64 per-vcpu and per-LPAR state, embedded by value in the core's Vcpu and Lpar.
#pragma once

#include <arch/regs.hpp>
#include <tessera/types.hpp>

#include "isa/ppc64/htab.hpp"

namespace tessera::arch {

inline constexpr u32 kSlbEntries = 32; // POWER8

struct VcpuState {
    GuestRegs regs;
    // Supervisor SPRs the guest owns; swapped when another vcpu takes the physical CPU.
    u64 srr0 = 0, srr1 = 0, dar = 0, dsisr = 0;
    u64 sprg[4] = {};
    u64 slb_esid[kSlbEntries] = {}; // slbmfee values (ESID | V), 0 = unused
    u64 slb_vsid[kSlbEntries] = {};
    // The decrementer keeps counting while the vcpu is off the CPU: keep its expiry in
    // timebase ticks and reload DEC from it.
    u64 dec_expiry = 0;
};

struct LparState {
    u32 lpid = 0;
    u64 lpcr = 0; // the guest's LPCR (VRMA, ILE, HDICE; MER added per entry)
    // The LPAR's hashed page table (filled by the guest through H_ENTER & co, plus the VRMA).
    // Not ready() until lpar_init gave it memory; its lpid() equals `lpid` above. The MMU hcalls
    // answer H_FUNCTION while it is not ready.
    Htab htab;
};

} // namespace tessera::arch
