// Direct sysenter (docs/ia32.md, "Direct system calls and traps"). A process's sysenter always
// enters ring 0 (the instruction knows no other ring), so while a vcpu runs the CPU's SYSENTER MSRs
// name the switcher's trampoline (`sw_sysenter`, isa/ia32/switcher.S): with the guest's cr3
// still loaded and interrupts off, it takes the process's EFLAGS, clears NT (the trampoline's
// own iret would otherwise be a task return) and irets to the guest's sysenter entry in ring 1,
// on the stack the guest named, without entering the hypervisor. The target comes from the
// guest's own SYSENTER_CS/ESP/EIP (wrmsr, emulated) as a CPU would use them, with ring 1 for
// ring 0: cs = SYSENTER_CS | 1, ss = cs + 8. It is installed only when both name what the
// trampoline's iret cannot fault on (a ring-1 non-conforming 32-bit code segment whose limit
// covers the entry, a ring-1 writable data segment, in the GDT); otherwise the CPU's
// SYSENTER_CS is 0 and sysenter is #GP(0) for the process, reflected as before.
//
// The way back: the CPU's SYSENTER_CS is the guest's own (RPL 0), so that the trampoline's
// sysexit gives ring 3 the guest's user segments (SYSENTER_CS + 16 and + 24, RPL 3: Linux's
// __USER_CS and __USER_DS); a sysenter with ebp = X86_SYSEXIT_EBP (an address in the
// switcher's hole, never a process's stack) is the kernel's return to user mode: the trampoline
// does `sti; sysexit` to edx/ecx with the EFLAGS the sysenter came with. From ring 3 that is no
// more than a jump in ring 3. So the target also needs a ring-3 code and data segment there.
//
// The trampoline reads its target from this CPU's switcher data page, which guests map
// read-only; it is rewritten before every entry (the vcpu's GDT window, which
// the validation used, only changes through the hypervisor, so it cannot go stale while the
// vcpu runs).
#pragma once

#include <tessera/types.hpp>

namespace tessera {
class Vcpu;
}

namespace tessera::arch {

inline constexpr u32 kMsrSysenterCs = 0x174, kMsrSysenterEsp = 0x175, kMsrSysenterEip = 0x176;

// What the trampoline irets to (its words in the switcher data page, in this order).
struct SysenterTarget {
    u32 eip = 0, cs = 0, esp = 0, ss = 0; // cs == 0: not installed
    bool operator==(const SysenterTarget&) const = default;
};
static_assert(sizeof(SysenterTarget) == 16); // switcher.S: sw_sysenter_target

// The descriptors SYSENTER_CS names (the vcpu's GDT at cs, cs + 8, cs + 16, cs + 24).
struct SysenterSegments {
    u64 code = 0, stack = 0, user_code = 0, user_data = 0;
};
// The target for a guest's SYSENTER_CS/EIP/ESP whose segments are `seg`; cs 0 when refused.
// Pure; host-tested.
SysenterTarget sysenter_target(u32 cs_msr, u32 eip, u32 esp, const SysenterSegments& seg);
SysenterTarget sysenter_for(Vcpu& v);
// The selectors sysexit gives ring 3 for a target (what the trampoline's SYSENTER_CS implies).
inline u32 sysexit_cs(const SysenterTarget& t) {
    return ((t.cs & ~3u) + 16) | 3;
}
inline u32 sysexit_ss(const SysenterTarget& t) {
    return ((t.cs & ~3u) + 24) | 3;
}

// This CPU: the MSRs that lead to the trampoline (once, when its tables are loaded), and the
// target of the vcpu about to run (the data page; SYSENTER_CS only when it changes).
void sysenter_init_cpu();
void sysenter_load(const SysenterTarget& target);

} // namespace tessera::arch
