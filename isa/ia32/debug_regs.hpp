// The guest's debug registers (docs/ia32.md, "Debug registers"): DR0-DR3, DR6, DR7 per vcpu,
// emulated for mov to/from drN, and the DR7 the CPU may run the guest with. Pure logic,
// host-tested in tests/unit/ia32/debug_regs_test.cpp.
//
// A breakpoint the CPU would also match on the hypervisor's own accesses in ring 0 is never
// armed: one that overlaps the switcher (the last 4 MiB, the only hypervisor code and data a
// guest's address space maps: its stack, IDT, GDT, TSS, LDT) and every I/O breakpoint (RW = 10).
// The real DR7 is 0 whenever the hypervisor itself runs (the switcher clears it at each exit).
#pragma once

#include <arch/state.hpp>
#include <tessera/types.hpp>

namespace tessera::arch {

// DR6 bits: B0-B3 (which breakpoint hit), BD (a mov drN while DR7.GD), BS (single step), BT.
inline constexpr u32 kDr6Hits = 0xf, kDr6Bd = 1u << 13, kDr6Bs = 1u << 14, kDr6Bt = 1u << 15;
inline constexpr u32 kDr6Status = kDr6Hits | kDr6Bd | kDr6Bs | kDr6Bt;
// DR7.GD: the next mov to or from a debug register raises #DB (BD) instead.
inline constexpr u32 kDr7Gd = 1u << 13;

// mov drN, value (N = 0..7, 4 and 5 as 6 and 7: the caller raises #UD for them with CR4.DE).
void debug_write(GuestDebug& d, unsigned n, u32 value);
// mov value, drN.
u32 debug_read(const GuestDebug& d, unsigned n);
// The DR7 to load while the vcpu runs: the guest's enabled breakpoints (L/G bits with their RW
// and LEN fields, LE/GE) that are safe; 0 when none is.
u32 debug_dr7_for_cpu(const GuestDebug& d);
// The DR6 bits a #DB of the vcpu may report: BD, BS, BT and B0-B3 of the breakpoints the CPU
// ran it with (the CPU may also set them for disabled ones).
u32 debug_dr6_mask(const GuestDebug& d);
// Whether breakpoint i of the guest may be armed (see above).
bool debug_breakpoint_safe(const GuestDebug& d, unsigned i);

} // namespace tessera::arch
