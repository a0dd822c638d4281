// ia32 constants shared by the hypervisor's C++ and assembly (selectors, vectors, the switcher).
#pragma once

// GDT selectors (isa/ia32/gdt.cpp). Indices 0..31 are the guest's own GDT window (validated
// copies of what it loads with lgdt, isa/ia32/descriptor.cpp); the hypervisor's descriptors
// follow. Guest selectors carry their RPL.
#define X86_HV_CODE 0x100
#define X86_HV_DATA 0x108
#define X86_HV_GUARD 0x110
#define X86_TSS 0x118
#define X86_GUEST_KCODE 0x121 /* DPL 1 flat code, RPL 1 */
#define X86_GUEST_KDATA 0x129 /* DPL 1 flat data, RPL 1 */
#define X86_GUEST_UCODE 0x133 /* DPL 3 flat code, RPL 3 */
#define X86_GUEST_UDATA 0x13b /* DPL 3 flat data, RPL 3 */
#define X86_DF_TSS 0x140      /* the double fault's task (isa/ia32/fault.cpp) */
#define X86_LDT 0x148         /* the running vcpu's validated LDT, or none (isa/ia32/gdt.cpp) */
#define X86_GDT_GUEST_ENTRIES 32
#define X86_LDT_ENTRIES 32 /* the most entries of a guest's LDT the CPU sees */
#define X86_GDT_ENTRIES 42

// Vectors: 0..31 exceptions, 0x20..0x2f the remapped 8259 PICs, the hcall and iret gates.
#define X86_IRQ_BASE 0x20
#define X86_HCALL_VECTOR 0x82
#define X86_IRET_VECTOR 0x83 /* the emulated iret of a virtual interrupt handler (DPL 1) */
/* The switcher's own switch between a vcpu's kept shadow spaces (DPL 1, no exit; switcher.S
 * sw_switch_mm, isa/ia32/shadow.hpp FastSpace): X86_FAST_SPACES rows of X86_FAST_SPACE_BYTES. */
#define X86_SWITCH_MM_VECTOR 0x84
#define X86_FAST_SPACES 8
#define X86_FAST_SPACE_BYTES 24
/* The switcher's change of the guest's TLS entries (DPL 1, no exit; switcher.S sw_switch_tls,
 * isa/ia32/gdt_rows.hpp): X86_GDT_ROWS copies of the CPU's GDT that differ in window entries
 * X86_TLS_FIRST.. (X86_TLS_COUNT of them, Linux's TLS slots), one key of X86_TLS_KEY_BYTES each. */
#define X86_SWITCH_TLS_VECTOR 0x85
#define X86_GDT_ROWS 12
#define X86_TLS_FIRST 6
#define X86_TLS_COUNT 3
#define X86_TLS_KEY_BYTES 32
/* The local APIC's vectors (plat/pc/lapic.cpp): its timer, the kick IPI between physical CPUs
 * (plat::kick_cpu) and its spurious vector. The switcher has stubs for vectors 0..63. */
#define X86_LAPIC_TIMER_VECTOR 0x30
#define X86_KICK_VECTOR 0x31
#define X86_SPURIOUS_VECTOR 0x3f
#define X86_STUB_VECTORS 64
/* The local APIC's EOI register (identity-mapped, uncached) and where the application
 * processors' real-mode start code is copied (isa/ia32/ap_boot.S; below 1 MiB, 4 KiB aligned). */
#define X86_LAPIC_BASE 0xfee00000
#define X86_LAPIC_EOI (X86_LAPIC_BASE + 0xb0)
#define X86_AP_TRAMPOLINE 0x8000

// The hypervisor's EFLAGS, set on every entry (isa/ia32/switcher.S, entry.S): only the fixed bit.
// Gates clear IF, TF, NT and RF, not DF or AC, and a guest may trap with DF set.
#define X86_HV_EFLAGS 0x2
// EFLAGS.VM: a trap from virtual-8086 mode pushes es, ds, fs and gs too (isa/ia32/switcher.S).
#define X86_EFLAGS_VM 0x20000
#define X86_EFLAGS_TF 0x100
#define X86_EFLAGS_IF 0x200
#define X86_EFLAGS_NT 0x4000
#define X86_EFLAGS_RF 0x10000
#define X86_EFLAGS_IOPL 0x3000
// sti's opcode (one byte): the switcher's NMI handler looks for it before an interrupted eip.
#define X86_STI_OPCODE 0xfb
// ebp at a sysenter that asks the trampoline for sysexit (isa/ia32/sysenter.hpp): in the
// switcher's hole, never a process's stack.
#define X86_SYSEXIT_EBP 0xffc0ffee
// The EFLAGS bits a guest chooses: arithmetic, TF, DF, NT, AC, ID (arch::kEflagsGuest).
#define X86_GUEST_EFLAGS 0x00244dd5

// The switcher: mapped at this virtual address in every address space (the last 4 MiB).
#define X86_SWITCHER_VA 0xffc00000
/* A process's own faults reflected by the switcher without an exit (isa/ia32/fast_reflect.hpp):
 * pages X86_FR_SLOT.. of the switcher's 4 MiB map are the running vcpu's guest page directory
 * and X86_FR_TABLES of its page tables (read-only), then its interrupt-flag page (read-write).
 * The switcher's block (FastReflect) has X86_FR_WORDS words, then the tables' rows of
 * X86_FR_ROW_WORDS words. */
#define X86_FR_SLOT 1012
#define X86_FR_TABLES 8
#define X86_FR_WORDS 11
#define X86_FR_ROW_WORDS 2
#define X86_FR_VA(slot) (X86_SWITCHER_VA + (X86_FR_SLOT + (slot)) * 4096)
