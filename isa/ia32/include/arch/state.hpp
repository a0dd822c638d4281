// ia32 per-vcpu and per-LPAR state, embedded by value in the core's Vcpu and Lpar.
#pragma once

#include "common/exit_counts.hpp"

#include <arch/x86.hpp>
#include <tessera/types.hpp>

namespace tessera::arch {

// The guest's registers as the switcher saves them (isa/ia32/switcher.S, lowest address first):
// segment registers, pushal's order, the vector and error code, then the CPU's ring-change frame.
struct GuestFrame {
    u32 gs, fs, es, ds;
    u32 edi, esi, ebp, esp_pushal, ebx, edx, ecx, eax;
    u32 vector, error;
    u32 eip, cs, eflags, esp, ss;
};
static_assert(sizeof(GuestFrame) == 19 * 4, "keep in step with isa/ia32/switcher.S");

// The guest's view of the control registers (emulated: mov to/from crN traps in ring 1).
struct GuestControl {
    u32 cr0 = 0x11; // PE | ET: protected mode, paging off
    u32 cr2 = 0;    // set when a page fault is reflected
    u32 cr3 = 0;    // logical address of the guest's page directory
    u32 cr4 = 0;
};
// The architectural CR0/CR4 bits (the guest's view and the real registers, isa/ia32/cr.hpp).
inline constexpr u32 kCr0Pe = 1u << 0, kCr0Mp = 1u << 1, kCr0Em = 1u << 2, kCr0Ts = 1u << 3,
                     kCr0Et = 1u << 4, kCr0Ne = 1u << 5, kCr0Wp = 1u << 16, kCr0Pg = 1u << 31;
inline constexpr u32 kCr4De = 1u << 3, kCr4Pse = 1u << 4, kCr4Pge = 1u << 7, kCr4Osfxsr = 1u << 9,
                     kCr4Osxmmexcpt = 1u << 10;

// The guest's debug registers (mov to/from drN, emulated: isa/ia32/debug_regs.hpp). What the
// CPU gets of them while the vcpu runs is checked there: no breakpoint on the switcher, no I/O.
inline constexpr u32 kDr6Fixed = 0xffff0ff0, kDr7Fixed = 0x400;
struct GuestDebug {
    u32 dr[4] = {};
    u32 dr6 = kDr6Fixed;
    u32 dr7 = kDr7Fixed;
};

// The guest's descriptor tables as it loaded them (lgdt/lidt/ltr: guest-virtual addresses).
struct GuestTables {
    u32 gdt_base = 0, idt_base = 0;
    u16 gdt_limit = 0, idt_limit = 0; // 0 with base 0: not loaded (no IDT: nothing delivered)
    u16 tr = 0;                       // the guest's task register selector (0: none)
    u32 tss_base = 0;                 // guest-virtual base of its TSS (esp0/ss0 for ring 3 -> 1)
};

// Guest GDT indices 0..kGuestGdtEntries-1 are the guest's own (validated copies, isa/ia32/
// descriptor.cpp); the hypervisor's descriptors sit above them (arch/x86.hpp).
inline constexpr unsigned kGuestGdtEntries = 32;

// The guest's TLS entries of its GDT window (X86_TLS_FIRST.., arch/x86.hpp) as it wrote them,
// before validation (lo, hi words of each): what it passes to the switcher's change of them
// (isa/ia32/gdt_rows.hpp).
struct TlsRaw {
    u32 w[6] = {};
    bool operator==(const TlsRaw&) const = default;
};

// The TLS sets a vcpu loaded for its current GDT window (isa/ia32/gdt_rows.hpp): each has a GDT
// row on the CPU it runs on; `cur` is the one its window has.
inline constexpr unsigned kGdtRows = X86_GDT_ROWS;
struct TlsSets {
    TlsRaw raw[kGdtRows];
    u16 valid = 0; // a bit per set
    u8 cur = 0;    // the set in the window
    u8 next = 0;   // the place a new set takes
    // The window besides the TLS entries: a number unique in the machine, new whenever it
    // changes (the tables_gen of the lgdt that changed it; 0: none yet).
    u64 window = 0;
};

// The guest's LDT (lldt, emulated): a validated copy of its first kGuestLdtEntries entries (as
// desc::install makes them: no gates or system descriptors, DPL 0 raised to 1), which the CPU
// uses as the LDT while the vcpu runs (the switcher's read-only LDT page, X86_LDT).
inline constexpr unsigned kGuestLdtEntries = 32;
struct GuestLdt {
    u16 selector = 0; // what the guest loaded (0: no LDT)
    u16 limit = 0;    // of the copy, in bytes - 1 (entries past kGuestLdtEntries are cut off)
    u64 entries[kGuestLdtEntries] = {};
};

// A vcpu's shadow page tables (isa/ia32/shadow.cpp): pool page numbers + 1, 0 = none (so
// that the zero state is "no tables"). Directory slot 1023 is always the switcher, so only 1023
// slots can hold guest page tables.
inline constexpr unsigned kShadowSlots = 1023;
struct ShadowSpace {
    u16 pd = 0;
    u16 pt[kShadowSlots] = {};
    u16 nonglobal[kShadowSlots] = {}; // entries filled from non-global guest mappings, per table
    bool large[kShadowSlots] = {};    // the table shadows a 4 MiB guest page (invlpg drops it)
    // The guest address space it shadows (H_IA32_SWITCH_MM): the guest's cr3, its id for that
    // space (0: none, the space is only ever the current one) and the guest's flush generation
    // the entries are coherent with; `used` orders the spaces for reuse (least recent first).
    u32 cr3 = 0;
    u64 ctx = 0, gen = 0;
    u32 used = 0;
    // A forked child's space (H_IA32_FORK_MM) remembers its parent's: the index of the space it
    // was made from and that space's ctx then (0: none, or no longer that space's). A fill here
    // marks the parent's entry as one a child used, and the parent's next fork copies it.
    u64 parent_ctx = 0;
    u8 parent = 0;
    // A space of a vcpu a CPU runs while the core lock is dropped (isa/ia32/lpar.cpp; all of
    // the vcpu's spaces, as the switcher may load any): the pool never takes its tables away
    // then (that CPU may be walking them). Lock: core_lock().
    bool pinned = false;
};
// Shadow roots kept per vcpu, one per guest address space recently switched to (lguest kept 4,
// Linux tags 6 PCIDs per CPU): switching back to one whose generation has not moved finds its
// entries still there. 4 thrashed as soon as 5 processes took turns (stress-ng sigsuspend: 10
// exits per op, 2 with 8). About 5 KiB each.
inline constexpr unsigned kShadowRoots = 8;
// How many IDT vectors may be the guest's own gates (isa/ia32/direct_gate.hpp).
inline constexpr unsigned kDirectVectorCount = 9;
inline constexpr unsigned kReflectVectorCount = 2; // #PF, #GP (isa/ia32/direct_gate.hpp)

// The guest's direct trap gates as the CPU takes them while the vcpu runs
// (isa/ia32/direct_gate.hpp), and what they were validated from.
struct DirectGates {
    // Per direct vector: the CPU's IDT entry (0: the hypervisor's own for that vector), and
    // the guest's handler where its gate is an allowed trap gate (else 0), installed or not.
    u64 entry[kDirectVectorCount] = {};
    u32 handler[kDirectVectorCount] = {};
    u32 esp1 = 0, ss1 = 0; // the ring-1 stack (0, 0 when nothing is installed)
    // The guest's #PF and #GP gates (kReflectVectors), for the switcher's reflections
    // (isa/ia32/fast_reflect.hpp), never the CPU's: the handler (0: not a present 32-bit
    // interrupt or trap gate to ring-1 code), code selector (RPL 1) and whether it is an
    // interrupt gate; raw_reflect is the input.
    u32 reflect_handler[kReflectVectorCount] = {};
    u32 reflect_cs[kReflectVectorCount] = {};
    bool reflect_interrupt[kReflectVectorCount] = {};
    u64 raw_reflect[kReflectVectorCount] = {};
    u64 seq = 0; // new, unique in the machine, at each validation (0: never validated)
    // The inputs: the guest's gates (0 where unreadable), its TSS esp0 and ss0 (0 where
    // unreadable), and the descriptor tables they were checked against (tables_gen; 0: none).
    u64 raw[kDirectVectorCount] = {};
    u32 tss[2] = {};
    u64 tables_gen = 0;

    // Some gate is the CPU's while the vcpu runs (they are only with a ring-1 stack).
    bool installed() const {
        for (const u64 e : entry)
            if (e != 0) return true;
        return false;
    }
};

// The guest's periodic tick as its timer deadlines show it (isa/ia32/vtimer.hpp tick_ahead):
// the last deadline on it that was delivered and the interval (0: none known yet); the last
// deadline delivered of any kind, and how many in a row were not the tick predicted.
struct TickStream {
    u64 last = 0;
    u64 period = 0;
    u64 prev = 0;
    u32 misses = 0;
};

struct VcpuState {
    alignas(16) u8 fpu[512] = {}; // x87/SSE registers while another vcpu runs (fxsave format)
    bool fpu_valid = false;       // fpu holds a state (else: reset state at the next run)
    GuestFrame regs{};
    GuestControl ctl{};
    GuestTables tables{};
    u64 gdt[kGuestGdtEntries] = {}; // the guest's GDT as installed (validated)
    GuestLdt ldt{};
    // Names this vcpu's gdt and ldt as they are now: a new value, unique in the machine, at
    // each lgdt and lldt (descriptor_tables_changed); 0 = never loaded. Lets an entry skip the
    // work that depends only on them (the GDT window, the selector checks) when nothing changed.
    u64 tables_gen = 0;
    // The TLS sets it loaded for this window, as it wrote them (isa/ia32/gdt_rows.hpp).
    TlsSets tls{};
    // The frame's selectors as the last entry checked them (sanitize_selectors), at tables_gen
    // `sanitized_gen`: a frame that still holds them needs no check.
    u32 sanitized[6] = {};
    u64 sanitized_gen = 0;
    GuestDebug debug{};
    ShadowSpace shadows[kShadowRoots]{};
    u8 shadow_cur = 0;    // the space the CPU runs on (shadows[shadow_cur])
    u32 shadow_clock = 0; // stamps ShadowSpace::used
    // The switcher's rows for the spaces (isa/ia32/shadow.hpp FastSpace): a number no other
    // state of any vcpu ever had, new whenever a space's tag or directory or the paging mode
    // changes (0: never the same), and the CPU that last wrote them and the spaces' switcher
    // slots. A CPU whose rows came from this vcpu at this number rewrites nothing.
    u64 fast_seq = 0;
    u32 fast_cpu = ~0u;
    // Page tables of the guest's the switcher may walk for a process's page fault
    // (isa/ia32/fast_reflect.hpp): directory index (~0: none) and its entry without A, as the
    // hypervisor last walked it, the space (shadows[]) that walk was in and when it was noted
    // (pf_clock): the rows of the least recently run space are replaced first.
    struct PfTableRow {
        u32 index = ~0u;
        u32 pde = 0;
        u32 noted = 0;
        u8 space = 0;
    } pf_rows[X86_FR_TABLES]{};
    u32 pf_clock = 0;
    u64 timer_deadline = 0; // TSC value at which the vcpu's one-shot timer expires; 0 = off
    // The deadlines earlier ones set by H_IA32_SET_TIMER replaced while they were still ahead,
    // ascending, 0 after the last: likely the guest's next timers once the earlier ones are
    // delivered (vtimer.hpp). The earliest kTimerBehind are kept.
    static constexpr u32 kTimerBehind = 4;
    u64 timer_behind[kTimerBehind] = {};
    // The virtual interrupt flag: in guest memory shared with the hypervisor once registered
    // (H_IA32_SET_VIRQ: the logical address of {u32 enabled, u32 pending[, u32 cr2[, the
    // timer's words]]}, isa/ia32/cpu.hpp VirqWord), else `vif`.
    bool virq_on = false;
    u32 virq_area = 0;
    bool virq_cr2 = false; // the area has a third word: a delivered page fault's address
    // The area has the timer's words (kVirqFlagTimer): at each tick's delivery the next is armed
    // ahead (isa/ia32/vtimer.hpp), from the guest's tick as seen so far.
    bool virq_timer = false;
    TickStream tick{};
    // kVirqFlagSelf: a held timer is offered to the guest to take itself (`pending` =
    // kVirqPendingTimer). `timer_owed`: a timer interrupt whose deadline expired and whose
    // delivery's bookkeeping is done (timer_delivered: the next tick armed ahead), but which the
    // guest has not taken yet, as an interrupt requested in a local APIC's IRR.
    bool virq_self = false;
    bool timer_owed = false;
    // kVirqFlagRaise: a `pending` of kVirqPendingTimer that the hypervisor did not write is the
    // guest's own timer interrupt raised, owed from the exit that finds it.
    bool virq_raise = false;
    // kVirqFlagLater: a `want` later than the deadline armed is the guest's H_IA32_SET_TIMER,
    // taken at the next exit (timer_sync_want).
    bool virq_later = false;
    // The area's words in place (host pointer), when they lie in one chunk: the LPAR's memory
    // stays where it is from its start to its end, and every exit reads or writes them.
    // nullptr: through the LPAR's copies. The guest may write them any time (relaxed atomics).
    u32* virq_host = nullptr;
    // H_IA32_SET_VIRQ flag 2 (an SMP guest's per-vcpu flags at one kernel address): the logical
    // page its tables map the flags through; this vcpu sees the page of `virq_area` there
    // instead (shadow fills and the hypervisor's own walks, guest_mmu.cpp `vcpu_logical`).
    bool virq_alias_on = false;
    u32 virq_alias = 0;
    bool vif = false;
    // x86's interrupt shadow: after an sti that set the IF, nothing is delivered before the next
    // instruction has run (so `sti; hlt` cannot lose a wake-up). Emulated by single-stepping it.
    bool sti_shadow = false;
    u8 timer_vector = 0x20, external_vector = 0x21; // the IDT vectors they arrive at
    // Direct system calls and traps (isa/ia32/direct_gate.hpp), as of the last entry: its
    // handlers (gates.handler) are where no interrupt is delivered before their first
    // instruction ran.
    DirectGates gates{};
    // Its sysenter entry when the trampoline may take processes there (isa/ia32/sysenter.hpp).
    u32 sysenter_entry = 0;
    // The guest's return window [start, end) (H_IA32_SET_EXIT_WINDOW): ring-1 code whose every
    // instruction is "about to iret with the frame at esp"; an interrupt due there is taken
    // after the hypervisor has done that iret (as the iret gate would). 0, 0: none.
    u32 window_start = 0, window_end = 0;
    // Its sysexit window [start, end) (H_IA32_SET_SYSEXIT_WINDOW): ring-1 code that only goes on
    // to a sysenter with ebp = X86_SYSEXIT_EBP (the window's last instruction), the process's esp
    // on the stack until the `popl %ecx` before it; an interrupt due there is taken after the
    // hypervisor has done that return to ring 3 itself. 0, 0: none.
    u32 sysexit_start = 0, sysexit_end = 0;
    // Model-specific registers the guest may write (emulated rdmsr/wrmsr, no effect on the CPU).
    u32 sysenter_cs = 0, sysenter_esp = 0, sysenter_eip = 0;
    // The trampoline's target as last validated from them (isa/ia32/sysenter.cpp: eip, cs, esp,
    // ss), at these MSR values and tables_gen (0: nothing validated yet).
    u32 sysenter_checked[4] = {};
    u32 sysenter_checked_msrs[3] = {};
    u64 sysenter_checked_gen = 0;
    u64 pat = 0x0007040600070406ull;
};

struct LparState {
    u32 page_dir = 0; // real address of the LPAR's paging-off directory (guest-virtual = logical)
    int pd_slot = -1;
    ExitCounts exits{}; // isa/ia32/exit_reason.hpp; printed at lpar_teardown
};

} // namespace tessera::arch
