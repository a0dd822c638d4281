// The ia32 backend's own hcalls merged into the dispatch table (docs/ia32.md).
#pragma once

#include "hcall/dispatch.hpp"

namespace tessera::arch {

// H_IA32_SET_TIMER(deadline): the vcpu's one-shot timer, an absolute TSC value (0 = off). A
// ceded vcpu wakes once the TSC passes it (the ia32 decrementer equivalent); when it expires
// the guest takes the virtual timer interrupt.
inline constexpr u64 H_IA32_SET_TIMER = 0xF008;
// H_IA32_SET_VIRQ(area, timer vector, external vector, flags): area = the logical address of the
// calling vcpu's shared virtual-IF flags {u32 enabled; u32 pending} (4-byte aligned; 0 = kept
// in the hypervisor), and the IDT vectors its timer and external interrupts arrive at (0 =
// unchanged; 0x20..0xff, distinct). flags kVirqFlagCr2: the area has a third word, u32 cr2,
// where every page fault delivered to the vcpu leaves its address (as the CPU's CR2), so that
// the guest's handler reads it without trapping on `mov %cr2`. kVirqFlagAlias (below): arg 4.
// Other flags: H_PARAMETER.
inline constexpr u64 H_IA32_SET_VIRQ = 0xF00C;
inline constexpr u64 kVirqFlagCr2 = 1;
// H_IA32_SET_VIRQ flag 2: arg 4 = a page-aligned logical page that this vcpu sees as the page
// of its area (same offsets): an SMP guest's kernel addresses one symbol, each vcpu its own copy.
inline constexpr u64 kVirqFlagAlias = 2;
// H_IA32_SET_VIRQ flag 4: the timer's tick without an hcall. The area has five more words
// (offsets 12-31): u32 want_lo, want_hi, the deadline the guest's clock event wants next (the
// guest writes it each time, hcall or not); u32 armed_lo, armed_hi, the deadline armed now (0:
// none), and u32 slack, both written by the hypervisor. When a tick is delivered the hypervisor
// arms the next one at the guest's tick period as its deadlines show it, a little late; a guest
// whose next deadline d has d <= armed <= d + slack needs no H_IA32_SET_TIMER
// (isa/ia32/vtimer.hpp).
inline constexpr u64 kVirqFlagTimer = 4;
// H_IA32_SET_VIRQ flag 8: the guest takes a held timer interrupt itself, without an exit. When
// the timer is all that is held back (the virtual IF clear), `pending` is kVirqPendingTimer
// instead of 1, and the hypervisor has done its part of the delivery already (the next tick
// armed ahead, isa/ia32/vtimer.hpp). A guest that sets `enabled` and finds 2 may change
// `pending` from 2 to 0 (one cmpxchg; no other value is the guest's to clear) and enter its
// timer vector's handler itself, as the CPU would deliver it: the frame on its stack, the
// virtual IF cleared. The hypervisor sees the 0 at its next exit. Any other nonzero `pending`
// the guest takes through the iret gate, as before.
inline constexpr u64 kVirqFlagSelf = 8;
inline constexpr u32 kVirqPendingTimer = 2;
// H_IA32_SET_VIRQ flag 16 (with flag 8): the guest may raise its own timer interrupt by changing
// `pending` from 0 to 2 (one cmpxchg) while its interrupts are off, as a self-IPI would: a
// deadline closer than a trip into the hypervisor takes, which the PV kernel waits for instead
// of arming it. Taken by the guest itself as an offer is (2 -> 0), it costs no exit; seen at an
// exit first, the interrupt is owed as an offered one is, and delivered once at the enable when
// the guest does not take it. It changes nothing that is armed.
inline constexpr u64 kVirqFlagRaise = 16;
// H_IA32_SET_VIRQ flag 32 (with flag 4): a guest whose next deadline is later than the one armed
// may leave that armed and make no hcall. The earlier one comes first (its exit, or any exit
// before it), and there the hypervisor, finding `want` later than what it armed, arms `want`
// instead and delivers nothing, as if the guest had asked by H_IA32_SET_TIMER. A cancelled
// timeout then costs the exit it would have cost anyway (the local APIC is never re-armed
// later: that is an MMIO write QEMU serialises across its vcpu threads), not that and an hcall.
inline constexpr u64 kVirqFlagLater = 32;
// H_IA32_SET_EXIT_WINDOW(start, end): the calling vcpu's return window, guest-virtual eips of
// ring-1 code [start, end) (0, 0: none; at most 4 KiB) in which every instruction only returns
// through the iret frame at esp. An interrupt due while the vcpu is there is delivered after the
// hypervisor has done that return, as the iret gate would (docs/ia32.md).
inline constexpr u64 H_IA32_SET_EXIT_WINDOW = 0xF00A;
// H_IA32_SET_SYSEXIT_WINDOW(start, end): the calling vcpu's sysexit window, guest-virtual eips
// of ring-1 code [start, end) (0, 0: none; at least 2 bytes, at most 4 KiB) whose last
// instruction is a sysenter with ebp = X86_SYSEXIT_EBP (the return to user mode at edx, esp
// ecx) and where, until the `popl %ecx` just before it, the process's esp is at the top of the
// stack. An interrupt due while the vcpu is there is delivered after the hypervisor has done
// that return itself (docs/ia32.md, "Direct system calls and traps").
inline constexpr u64 H_IA32_SET_SYSEXIT_WINDOW = 0xF009;
// H_IA32_EXIT_COUNTS() -> (exits, int80): the calling LPAR's traps into the hypervisor so far
// and how many of them were ring 3's int $0x80 reflected (not taken by the direct gate).
inline constexpr u64 H_IA32_EXIT_COUNTS = 0xF00D;
// H_IA32_SWITCH_MM(cr3, ctx, gen, prev_gen): a cr3 load that names the address space (docs/
// ia32.md, "Shadow roots per address space"): ctx = the guest's id for the space it switches to
// (never reused; 0 = none), gen = that space's flush generation now, prev_gen = the one the
// space it leaves has been flushed up to. The shadow of a space switched back to at the same
// generation is kept. H_PARAMETER for a cr3 above 4 GiB.
inline constexpr u64 H_IA32_SWITCH_MM = 0xF00B;
// H_IA32_INVALIDATE(start, end): what an invlpg of every page that overlaps the guest-virtual
// range [start, end) does, in one hcall: those pages' shadow entries go from every space of the
// calling vcpu (docs/ia32.md, "Shadow paging"). start == end: nothing. H_PARAMETER for
// end < start or end above 4 GiB.
inline constexpr u64 H_IA32_INVALIDATE = 0xF007;
// H_IA32_PROTECT(start, end): the shadow entries of every page that overlaps [start, end) in the
// calling vcpu's loaded space lose write permission; its other spaces are left alone. What a
// flush of the loaded address space needs after the guest only write-protected entries (Linux's
// fork: the parent's private pages become copy-on-write), without refaulting every read. start
// == end: nothing. H_PARAMETER for end < start or end above 4 GiB.
inline constexpr u64 H_IA32_PROTECT = 0xF006;
// H_IA32_FORK_MM(end, child_cr3, ctx, gen, parent_gen): what a fork needs of the shadow. The
// calling vcpu's loaded space loses write permission in [0, end), as with H_IA32_PROTECT (the
// parent's private pages became copy-on-write), and is recorded as flushed up to the guest's
// generation parent_gen (as H_IA32_SWITCH_MM's prev_gen records it); and one of its other spaces
// becomes the child's, tagged ctx (not 0, not the loaded space's) at generation gen for the guest
// cr3 child_cr3, holding for each user page the loaded space maps in [0, end) what a fill of a read
// from ring 3 there would make from the child's own tables (Accessed set in them as a fill sets
// it). The child's first H_IA32_SWITCH_MM (or fast switch) to that ctx, cr3 and gen then keeps
// those entries instead of faulting each one in (docs/ia32.md, "Shadow paging"). H_PARAMETER for
// end or child_cr3 above 4 GiB, ctx 0 or the loaded space's; H_FUNCTION with the guest's paging
// off.
inline constexpr u64 H_IA32_FORK_MM = 0xF005;
// H_IA32_REFILL(va, gen): what a copy-on-write break needs of the shadow, in one hcall instead of
// an invlpg and a fill: va's page goes from every space of the calling vcpu, as with invlpg, and
// the loaded space gets the entry a fill of a read from ring 3 at va would make from the guest's
// tables now (Accessed set in them as a fill sets it; nothing when they do not map a user page
// there). gen != 0: the loaded space is recorded as flushed up to the guest's generation gen, as
// H_IA32_SWITCH_MM's prev_gen records it. H_PARAMETER for va above 4 GiB; H_FUNCTION with the
// guest's paging off.
inline constexpr u64 H_IA32_REFILL = 0xF003;
// H_IA32_MOVE(start, end, new_start, gen): what mremap's flush of a moved range needs of the
// shadow, with the fills of the new addresses that would follow it: the guest moved its entries
// of [start, end) to [new_start, new_start + end - start). Those old pages go from every space
// of the calling vcpu, as with H_IA32_INVALIDATE, and for each of them the loaded space mapped
// for ring 3 it gets, at the new address, what a fill of a ring-3 read there would make from the
// guest's tables now (Accessed set in them as a fill sets it; nothing where they refuse it). gen
// != 0 records the loaded space as flushed up to gen, as H_IA32_REFILL does. H_PARAMETER for an
// address not page-aligned, end < start, a range above 4 MiB (mremap moves a page table's worth
// at a time) or either range past 4 GiB; H_FUNCTION with the guest's paging off.
inline constexpr u64 H_IA32_MOVE = 0xF002;

// The virtual interrupts' IDT vectors until the guest chooses others (docs/ia32.md).
inline constexpr u32 kVirqTimer = 0x20;
inline constexpr u32 kVirqExternal = 0x21;

hcall::Ret h_ia32_set_timer(hcall::Env& env, hcall::Frame& frame);
hcall::Ret h_ia32_set_virq(hcall::Env& env, hcall::Frame& frame);
hcall::Ret h_ia32_set_exit_window(hcall::Env& env, hcall::Frame& frame);
hcall::Ret h_ia32_set_sysexit_window(hcall::Env& env, hcall::Frame& frame);
hcall::Ret h_ia32_exit_counts(hcall::Env& env, hcall::Frame& frame);
hcall::Ret h_ia32_switch_mm(hcall::Env& env, hcall::Frame& frame);
hcall::Ret h_ia32_invalidate(hcall::Env& env, hcall::Frame& frame);
hcall::Ret h_ia32_protect(hcall::Env& env, hcall::Frame& frame);
hcall::Ret h_ia32_fork_mm(hcall::Env& env, hcall::Frame& frame);
hcall::Ret h_ia32_refill(hcall::Env& env, hcall::Frame& frame);
hcall::Ret h_ia32_move(hcall::Env& env, hcall::Frame& frame);

inline constexpr hcall::Entry kIsaHcallEntries[] = {
    {H_IA32_SET_TIMER, &h_ia32_set_timer},
    {H_IA32_SET_VIRQ, &h_ia32_set_virq},
    {H_IA32_SET_EXIT_WINDOW, &h_ia32_set_exit_window},
    {H_IA32_EXIT_COUNTS, &h_ia32_exit_counts},
    {H_IA32_SWITCH_MM, &h_ia32_switch_mm},
    {H_IA32_SET_SYSEXIT_WINDOW, &h_ia32_set_sysexit_window},
    {H_IA32_INVALIDATE, &h_ia32_invalidate},
    {H_IA32_PROTECT, &h_ia32_protect},
    {H_IA32_FORK_MM, &h_ia32_fork_mm},
    {H_IA32_REFILL, &h_ia32_refill},
    {H_IA32_MOVE, &h_ia32_move}};
inline constexpr hcall::EntryList kIsaHcalls{kIsaHcallEntries, 11};

} // namespace tessera::arch
