/*
 * Hypervisor entry by multiboot v1 (QEMU -kernel with an ELF32 image). The loader leaves us in
 * 32-bit protected mode, paging off, flat segments, EAX = 0x2BADB002, EBX = multiboot info.
 */
#define ASM_FILE 1 /* multiboot.h: constants only */
#include <multiboot/multiboot.h>

#include <arch/x86.hpp>

#define MB_FLAGS (MULTIBOOT_PAGE_ALIGN | MULTIBOOT_MEMORY_INFO)

    .section .multiboot, "a"
    .balign 4
multiboot_header:
    .long MULTIBOOT_HEADER_MAGIC
    .long MB_FLAGS
    .long -(MULTIBOOT_HEADER_MAGIC + MB_FLAGS)

    .section .text.entry, "ax"
    .globl _start
_start:
    cli
    cld
    movl $boot_stack_top, %esp
    pushl $X86_HV_EFLAGS    /* multiboot leaves the other flags (NT, AC, ...) undefined */
    popfl
    xorl %ebp, %ebp
    /* Clear .bss, keeping EAX/EBX for pc_main. */
    movl %eax, %esi
    movl $__bss_start, %edi
    movl $__bss_end, %ecx
    subl %edi, %ecx
    xorl %eax, %eax
    rep stosb
    pushl %ebx              /* multiboot info */
    pushl %esi              /* multiboot magic */
    call pc_main
1:  hlt
    jmp 1b

    .section .bss.boot_stack, "aw", @nobits
    .balign 16
    .space 65536
    .globl boot_stack_top
boot_stack_top:
    .section .note.GNU-stack, "", @progbits
