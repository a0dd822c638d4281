// ia32 internals shared by the backend's files (not part of the arch contract).
#pragma once

#include <arch/state.hpp>
#include <arch/x86.hpp>
#include <tessera/types.hpp>

namespace tessera {
class Vcpu;
}

namespace tessera::arch {

// Address of a switcher object (isa/ia32/switcher.S) in the switcher mapping.
u32 switcher_va(const void* p);
// The page-directory entry that maps the switcher (the last 4 MiB), for every address space.
u32 switcher_pde();
u32 hypervisor_cr3();
// The most LPAR page directories (paging-off address spaces, 4 KiB each) in use at once.
usize page_dirs_peak();
usize page_dirs_held(); // LPAR page directories handed out now
const char* exception_name(u32 vector);
bool has_error_code(u32 vector);

// A 32-bit TSS as the CPU reads and writes it.
struct [[gnu::packed]] Tss {
    u32 link, esp0, ss0, esp1, ss1, esp2, ss2, cr3, eip, eflags;
    u32 eax, ecx, edx, ebx, esp, ebp, esi, edi;
    u32 es, cs, ss, ds, fs, gs, ldt;
    u16 trap, iomap_base;
};
static_assert(sizeof(Tss) == 104);

// The real GDT (isa/ia32/gdt.cpp): a descriptor at any index (0 beyond the table), and the
// guest's window (indices 0..kGuestGdtEntries-1) loaded with a vcpu's validated copy: the CPU's
// GDT rows written for it and its TLS sets, and its current set's row loaded
// (isa/ia32/gdt_rows.hpp).
u64 gdt_descriptor(unsigned index);
void gdt_load_guest_window(const u64 (&entries)[kGuestGdtEntries], const TlsSets& tls);
// After a trap: when the switcher loaded another of the vcpu's GDT rows, that set becomes its
// current one and its entries the window's; true when the window changed.
bool gdt_resync_tls(TlsSets& tls, u64 (&window)[kGuestGdtEntries]);
// The CPU's LDT while a vcpu runs: its validated copy in the switcher's read-only LDT page
// (X86_LDT), or a null LDTR when it has none. Does nothing when that is already so.
void ldt_load(const GuestLdt& ldt);

// The CPU's IDT entries of the direct vectors and TSS esp1/ss1 for the vcpu about to run
// (isa/ia32/gdt.cpp, isa/ia32/direct_gate.hpp; an entry 0 is the hypervisor's own for that
// vector: its stub, or for int $0x80 a not-present DPL-0 entry, so int $0x80 is #GP(0x402)).
struct DirectGates;
void idt_load_direct(const DirectGates& gates);

// The guest's breakpoints (isa/ia32/debug_cpu.cpp): before each entry, the CPU's DR0-DR3 and
// the DR7 the switcher arms after the cr3 switch; after a #DB, the CPU's DR6 (then cleared).
void debug_enter(const Vcpu& v);
u32 debug_take_dr6();

// The vcpus' x87/SSE state (isa/ia32/fpu.cpp): set up at boot; before each guest entry
// (switches the registers when another vcpu ran last, applies the guest's CR0.TS); when a vcpu
// goes away.
void fpu_init();
void fpu_enter(Vcpu& v);
void fpu_forget(const Vcpu& v);
// With several CPUs, at every return of vcpu_run: the vcpu's state goes back to memory and this
// CPU no longer holds it (its next slice may be on another CPU).
void fpu_put_away(Vcpu& v);

// EFLAGS bits.
inline constexpr u32 kEflagsFixed = 1u << 1, kEflagsTf = 1u << 8, kEflagsIf = 1u << 9,
                     kEflagsDf = 1u << 10, kEflagsNt = 1u << 14, kEflagsRf = 1u << 16,
                     kEflagsVm = 1u << 17;
// What the guest may keep of EFLAGS: CF PF AF ZF SF TF DF OF NT AC ID (never IOPL, VM, RF). NT
// is harmless to the hypervisor: the switcher's iret looks at its own NT (0), and a guest's
// iret with NT set is a task return through the hypervisor's TSS, whose link is 0: #TS(0),
// reflected, as a CPU whose kernel never nests tasks would do.
inline constexpr u32 kEflagsGuest = X86_GUEST_EFLAGS; // the switcher's trampoline uses it too
static_assert(kEflagsTf == X86_EFLAGS_TF && kEflagsIf == X86_EFLAGS_IF &&
              kEflagsNt == X86_EFLAGS_NT && kEflagsRf == X86_EFLAGS_RF &&
              kEflagsVm == X86_EFLAGS_VM);

// ---- Trap reflection and virtual interrupts (isa/ia32/trap.cpp) ----------------------------
enum class Event : u8 {
    Exception, // a fault or trap the guest's instruction caused (eip as the CPU left it)
    Software,  // int n / int3 / into (eip already past the instruction; gate DPL checked)
    External,  // a virtual interrupt
};
// Delivers `vector` through the guest's IDT as the CPU would: the frame on the ring-1 stack (the
// guest's TSS esp0/ss0 when it was in ring 3), eflags with the virtual IF, the handler's cs:eip,
// the virtual IF cleared for an interrupt gate. A failure to deliver raises #GP/#NP/#PF/#TS as
// the hardware would, a failure to deliver that a double fault, and a failure to deliver the
// double fault (the triple fault) crashes the LPAR: false then.
bool reflect(Vcpu& v, u32 vector, Event kind, bool has_error, u32 error);
// Reflects a page fault: cr2 = va.
bool reflect_page_fault(Vcpu& v, u32 va, u32 error);

// The words of the vcpu's shared area (H_IA32_SET_VIRQ), by index: {enabled, pending} always,
// cr2 with kVirqFlagCr2, the timer's with kVirqFlagTimer (isa/ia32/vtimer.hpp): the deadline
// the guest wants (it writes them), the one armed and the slack it is offered (we write them).
enum VirqWord : u32 {
    kVirqEnabled = 0,
    kVirqPending = 1,
    kVirqCr2 = 2,
    kVirqWantLo = 3,
    kVirqWantHi = 4,
    kVirqArmedLo = 5,
    kVirqArmedHi = 6,
    kVirqSlack = 7,
};
// Bytes of the area for the flags H_IA32_SET_VIRQ was given.
u32 virq_area_bytes(u64 flags);
// A word of the area (virq_on): in place when it lies in one chunk, else through the LPAR's
// copies. A store says false where the area is not in the LPAR.
u32 virq_load(const Vcpu& v, VirqWord w);
bool virq_store(Vcpu& v, VirqWord w, u32 value);

bool vif(const Vcpu& v);
void set_vif(Vcpu& v, bool on);
// Before each entry: delivers the XICS's interrupt or else the expired timer when the virtual
// IF allows, otherwise sets the shared `pending` flag. False: the LPAR crashed.
bool deliver_virq(Vcpu& v);
// The iret gate (int $0x83): pops the frame as iret would, with iret's checks of the return
// cs and ss (a bad one faults at the int $0x83, as iret does). False: the LPAR crashed.
bool handle_iret(Vcpu& v);
// The iret at the end of the guest's return window, done by the hypervisor so that an
// interrupt due there is taken from where it returns to: false (nothing done) when the vcpu is
// not in its window or the iret would fault (the guest's own iret then faults as on a CPU).
bool complete_window_iret(Vcpu& v);
// The same in its sysexit window (H_IA32_SET_SYSEXIT_WINDOW): the return to ring 3 the window's
// sysenter would have had the trampoline do (eip edx, esp the process's, the user segments of
// its SYSENTER_CS), virtual IF on. False (nothing changed) outside it or when that cannot be.
bool complete_window_sysexit(Vcpu& v);
// The software interrupt at the guest's cs:eip that raised `vector` (int n, int3, into, with any
// legacy prefixes): its length, 0 if there is none there.
u32 software_int_at_eip(Vcpu& v, u32 vector);
// Up to 15 bytes of the instruction at the guest's cs:eip (as much as is mapped): how many.
usize fetch_instruction(Vcpu& v, u8 (&bytes)[15]);

// Makes the frame's selectors safe to load in the switcher's iret (isa/ia32/trap.cpp): cs/ss
// must be code/stack segments of ring 1 or 3 matching each other (else the flat guest ones),
// data selectors that the guest's ring may not load become null, as iret would make them.
// Idempotent; skipped when the frame holds what the last call left at the same tables_gen.
void sanitize_selectors(Vcpu& v);
// After an lgdt or lldt: v.arch.tables_gen names the new tables (under the core lock).
void descriptor_tables_changed(Vcpu& v);
// The vcpu's interrupt flags back in the hypervisor: no shared area (H_IA32_SET_VIRQ 0, reset).
void virq_forget(VcpuState& s);
// The descriptor a selector names in the GDT or LDT as the CPU sees them while this vcpu runs
// (0: none).
u64 descriptor_of(const Vcpu& v, u32 selector);
// The base address of a segment register's descriptor (0 for null and unknown selectors).
u32 segment_base(const Vcpu& v, u32 selector);

// Stops the vcpu's LPAR as crashed, with a printf-style reason.
void crash(Vcpu& v, const char* fmt, ...) __attribute__((format(printf, 2, 3)));

} // namespace tessera::arch
