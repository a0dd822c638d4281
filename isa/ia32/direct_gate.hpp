// Direct system calls and traps (docs/ia32.md, "Direct system calls and traps"): while a vcpu
// runs, the CPU's IDT entries for int $0x80 and for the exceptions that are the guest's alone
// may be the guest's own gates, so that they reach its ring-1 kernel without entering the
// hypervisor. Only a gate that cannot take the CPU anywhere but the guest's ring 1 is installed:
// a present 32-bit trap gate (never an interrupt gate: the real IF must stay 1 while ring 1
// runs) whose selector names a present, non-conforming, 32-bit code segment of ring 1 in the
// GDT, with the DPL the guest gave it (an int n the CPU then refuses is the hypervisor's, which
// emulates it with the guest's rules, as before); the ring-1 stack (TSS esp1/ss1) is the
// guest's TSS esp0 with a ring-1 stack segment.
#pragma once

#include <arch/state.hpp>
#include <tessera/types.hpp>

namespace tessera {
class Vcpu;
}

namespace tessera::arch {

inline constexpr u32 kSyscallVector = 0x80;
// The vectors whose gates may be direct: #DE, #BP, #OF, #BR, #UD, #MF, #AC, #XM and int $0x80.
// The hypervisor needs none of them: #DB (it single-steps), #NM, #PF (shadow paging), #GP
// (emulation) and the machine's own vectors stay its own. Vectors 0..19 are read from the
// guest's IDT in one piece.
inline constexpr u8 kDirectVectors[] = {0, 3, 4, 5, 6, 16, 17, 19, kSyscallVector};
inline constexpr usize kDirectCount = sizeof(kDirectVectors);
inline constexpr u32 kDirectLowEnd = 20; // the exception vectors above are all below this
static_assert(kDirectCount == kDirectVectorCount);

// The guest's IDT entry `gate`, whose selector names descriptor `code` (as the vcpu's GDT holds
// it: DPL 0 already raised to 1): may it be the CPU's gate? Pure; host-tested.
bool direct_gate_allowed(u64 gate, u64 code);
// The guest's #PF and #GP gates, which the switcher may reflect a process's faults through
// (fast_reflect.hpp) but which are never the CPU's: a present 32-bit interrupt or trap gate
// (any DPL: an exception ignores it) to a present, non-conforming, 32-bit code segment of ring 1.
inline constexpr u8 kReflectVectors[] = {14, 13};
static_assert(sizeof(kReflectVectors) == kReflectVectorCount);
bool reflect_gate_allowed(u64 gate, u64 code);
// The CPU's gate for it: the guest's handler and selector (RPL 1) and DPL, a 32-bit trap gate.
u64 direct_gate_entry(u64 gate);
// The handler offset of an IDT gate.
u32 gate_offset(u64 gate);
// An IDT gate: handler offset, selector and access byte (present, DPL, type).
constexpr u64 gate_value(u32 offset, u32 sel, u8 access) {
    return (offset & 0xffff) | (u64{sel & 0xffff} << 16) | (u64{access} << 40) |
           (u64{offset >> 16} << 48);
}

// Brings v.arch.gates up to date with the vcpu's IDT and TSS as they are now (read at every
// entry, so that a change takes effect at the next one; validated again only when what it was
// validated from changed). Anything unreadable or refused: not installed (the slow path
// reflects as before).
const DirectGates& direct_gates_for(Vcpu& v);

} // namespace tessera::arch
