/*
 * The application processors' start code (docs/ia32.md, "Several physical CPUs"). The boot CPU
 * copies it to X86_AP_TRAMPOLINE (below 1 MiB, 4 KiB aligned) and fills in its parameters
 * (isa/ia32/smp.cpp install_trampoline); a startup IPI with vector X86_AP_TRAMPOLINE >> 12
 * starts every processor here in real mode at CS = X86_AP_TRAMPOLINE >> 4, IP = 0. It loads a
 * flat GDT of its own, enters 32-bit protected mode (paging off), takes the next CPU index with
 * one locked add on the arrivals word, switches to that CPU's stack and calls ap_entry
 * (ia32_ap_main) with the index. Past ap_max_index, or once the boot CPU has closed the word
 * (kApClosed, bit 31), it parks with interrupts off.
 */
#include <arch/x86.hpp>

#define TR(sym) (X86_AP_TRAMPOLINE + ((sym) - ap_trampoline))

    .section .rodata.ap_trampoline, "a"
    .balign 16
    .globl ap_trampoline, ap_trampoline_end
    .globl ap_arrivals, ap_max_index, ap_stack_base, ap_stack_size, ap_entry
    .code16
ap_trampoline:
    cli
    cld
    xorw %ax, %ax
    movw %ax, %ds
    lgdtl TR(ap_gdt_ptr)
    movl %cr0, %eax
    orl $1, %eax
    movl %eax, %cr0
    ljmpl $0x08, $TR(ap_32)

    .code32
ap_32:
    movl $0x10, %eax
    movw %ax, %ds
    movw %ax, %es
    movw %ax, %ss
    movw %ax, %fs
    movw %ax, %gs
    movl $1, %eax
    lock xaddl %eax, TR(ap_arrivals)
    testl $0x80000000, %eax
    jnz ap_park
    incl %eax                   /* this CPU's index: 1, 2, ... */
    cmpl TR(ap_max_index), %eax
    ja ap_park
    movl %eax, %ebx
    imull TR(ap_stack_size), %eax
    addl TR(ap_stack_base), %eax /* the top of stack index - 1 */
    movl %eax, %esp
    xorl %ebp, %ebp
    pushl $X86_HV_EFLAGS
    popfl
    pushl %ebx
    movl TR(ap_entry), %eax
    call *%eax
ap_park:
    cli
    hlt
    jmp ap_park

    .balign 8
ap_gdt:
    .quad 0
    .quad 0x00cf9a000000ffff    /* 0x08: flat 32-bit code, DPL 0 */
    .quad 0x00cf92000000ffff    /* 0x10: flat data */
ap_gdt_ptr:
    .word 3 * 8 - 1
    .long TR(ap_gdt)
    .balign 4
ap_arrivals: .long 0
ap_max_index: .long 0
ap_stack_base: .long 0
ap_stack_size: .long 0
ap_entry: .long 0
ap_trampoline_end:

    .section .note.GNU-stack, "", @progbits
