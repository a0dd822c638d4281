/*
 * i64 opal_call(u64 token, u64 a0, ..., u64 a5)
 * OPAL runs big-endian in HV real mode: r0 = token, r2 = OPAL base, r3.. = arguments, entered
 * through hrfid with MSR[LE] cleared. It returns big-endian to LR, so LR points at a
 * FIXUP_ENDIAN that brings us back to little-endian.
 */
#include <arch/ppc_asm.h>

#define FRAME 112
#define SAVE_R13 48

    .text
    .globl opal_call
opal_call:
    mflr 0
    std 0, 16(1)
    std 2, 24(1)
    stdu 1, -FRAME(1)
    std 13, SAVE_R13(1)

    mr 0, 3                     /* token */
    mr 3, 4
    mr 4, 5
    mr 5, 6
    mr 6, 7
    mr 7, 8
    mr 8, 9

    LOAD_ADDR(11, opal_entry_point)
    ld 12, 0(11)
    mtspr SPRN_HSRR0, 12
    LOAD_ADDR(11, opal_base_address)
    mfmsr 12
    li 10, 1                    /* MSR[LE] */
    andc 12, 12, 10
    mtspr SPRN_HSRR1, 12
    LOAD_ADDR(10, opal_return)
    mtlr 10
    ld 2, 0(11)
    hrfid

opal_return:
    FIXUP_ENDIAN
    ld 13, SAVE_R13(1)
    addi 1, 1, FRAME
    ld 2, 24(1)
    ld 0, 16(1)
    mtlr 0
    blr
    .section .note.GNU-stack, "", @progbits
