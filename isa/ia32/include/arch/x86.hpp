// ia32 constants shared by the hypervisor's C++ and assembly (selectors, vectors, the switcher).
#pragma once

// GDT selectors (isa/ia32/gdt.cpp). Guest selectors carry their RPL.
#define X86_HV_CODE 0x08
#define X86_HV_DATA 0x10
#define X86_HV_GUARD 0x18
#define X86_TSS 0x20
#define X86_GUEST_KCODE 0x29 /* DPL 1 flat code, RPL 1 */
#define X86_GUEST_KDATA 0x31 /* DPL 1 flat data, RPL 1 */
#define X86_GUEST_UCODE 0x3b /* DPL 3 flat code, RPL 3 */
#define X86_GUEST_UDATA 0x43 /* DPL 3 flat data, RPL 3 */
#define X86_GDT_ENTRIES 9

// Vectors: 0..31 exceptions, 0x20..0x2f the remapped 8259 PICs, the hcall and iret gates.
#define X86_IRQ_BASE 0x20
#define X86_HCALL_VECTOR 0x82
#define X86_IRET_VECTOR 0x83 /* the emulated iret of a virtual interrupt handler (DPL 1) */

// The switcher: mapped at this virtual address in every address space (the last 4 MiB).
#define X86_SWITCHER_VA 0xffc00000
