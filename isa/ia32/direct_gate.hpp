// Direct system calls (docs/ia32.md, "Direct system calls"): while a vcpu runs, the CPU's IDT
// entry 0x80 may be the guest's own int $0x80 gate, so that ring 3's system calls reach its
// ring-1 kernel without entering the hypervisor. Only a gate that cannot take the CPU anywhere
// but the guest's ring 1 is installed: a present 32-bit trap gate (never an interrupt gate:
// the real IF must stay 1 while ring 1 runs) of DPL 3 whose selector names a present,
// non-conforming, 32-bit code segment of ring 1 in the GDT; the ring-1 stack (TSS esp1/ss1) is
// the guest's TSS esp0 with a ring-1 stack segment.
#pragma once

#include <tessera/types.hpp>

namespace tessera {
class Vcpu;
}

namespace tessera::arch {

inline constexpr u32 kSyscallVector = 0x80;

// The guest's IDT entry `gate`, whose selector names descriptor `code` (as the vcpu's GDT holds
// it: DPL 0 already raised to 1): may it be the CPU's gate? Pure; host-tested.
bool direct_gate_allowed(u64 gate, u64 code);
// The CPU's gate for it: the guest's handler and selector (RPL 1), a DPL-3 32-bit trap gate.
u64 direct_gate_entry(u64 gate);
// The handler offset of an IDT gate.
u32 gate_offset(u64 gate);

struct DirectGate {
    bool installed = false;
    u64 entry = 0;   // the CPU's IDT entry 0x80 (0 when not installed: #GP(0x402) as before)
    u32 handler = 0; // the guest's handler when its gate is an allowed trap gate, else 0
    u32 esp1 = 0, ss1 = 0;
};

// What this vcpu's entry puts at IDT 0x80 and TSS esp1/ss1, read from its IDT and TSS now.
// Anything unreadable or refused: not installed (the slow path reflects it as before).
DirectGate direct_gate_for(Vcpu& v);

} // namespace tessera::arch
