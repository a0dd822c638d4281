/*
 * The pseries PIE client's entry (client.cpp; docs/test-lpars.md): what a PAPR client that is
 * not Linux does first. Entered like Linux, big-endian in real mode with r3 = the device tree,
 * r4 = the image's base, r5 = 0, at wherever the hypervisor chose to load this ET_DYN image.
 * Little-endian first (enter_le.h), then it finds itself: the run-time TOC from the pc, the
 * load bias from the link-time TOC that the ppc64 linker keeps in the first doubleword of
 * .got, then it applies its own R_PPC64_RELATIVE relocations before any C++ code may use a
 * pointer from its data.
 */
#include "../enter_le.h"

#define MSR_RI 0x2
#define H_TESSERA_TEST_EXIT 0xF00E

    .section .text.client_entry, "ax"
    .globl _start
_start:
    ENTER_LITTLE_ENDIAN         /* r11 = the entry MSR */
    li 0, MSR_RI
    mtmsrd 0, 1
    bcl 20, 31, 1f
1:  mflr 12                     /* the run-time address of 1b */
    addis 2, 12, (.TOC. - 1b)@ha
    addi 2, 2, (.TOC. - 1b)@l   /* the run-time TOC pointer */
    ld 10, -0x8000(2)           /* the link-time one (.got[0]) */
    subf 10, 10, 2              /* bias = run-time - link-time */
    addis 1, 12, (client_stack_top - 1b)@ha
    addi 1, 1, (client_stack_top - 1b)@l
    li 0, 0
    stdu 0, -32(1)              /* terminated back chain, ELFv2 minimal frame */
    mr 14, 3                    /* keep the entry arguments */
    mr 15, 4
    mr 16, 5
    mr 17, 11
    mr 18, 10
    addis 3, 12, (_DYNAMIC - 1b)@ha
    addi 3, 3, (_DYNAMIC - 1b)@l
    mr 4, 18
    bl client_relocate          /* (run-time _DYNAMIC, bias) -> 0 or how many it could not do */
    nop
    cmpdi 3, 0
    bne 2f
    mr 3, 14                    /* fdt */
    mr 4, 15                    /* base */
    mr 5, 16                    /* r5 */
    mr 6, 17                    /* entry MSR */
    mr 7, 18                    /* bias */
    bl client_main
    nop
2:  li 3, 0                     /* relocation failed (or main returned): one failure */
    ori 3, 3, H_TESSERA_TEST_EXIT
    li 4, 0
    li 5, 1
    sc 1
    b 2b

    .section .bss.client_stack, "aw", @nobits
    .balign 16
    .space 0x8000
client_stack_top:

    .section .note.GNU-stack, "", @progbits
