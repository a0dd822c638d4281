/*
 * One-instruction functions for the conform test LPAR (isa/ppc64/programs/conform.cpp): each
 * starts with the instruction under test (its address is the function's) and returns. A
 * Program interrupt handler that skips the instruction (srr0 += 4) lands on the blr.
 *   u64 fn(u64 r3)   returns r3 (what the instruction left there, or the argument)
 */
.macro ONE name, insn:vararg
    .globl \name
\name:
    \insn
    blr
.endm

    .section .text.conform_insns, "ax"
ONE conform_illegal, .long 0            /* primary opcode 0: not an instruction */
ONE conform_mfspr0, mfspr 3, 0          /* SPR 0 does not exist (the ISA: illegal) */
ONE conform_mfdpdes, mfspr 3, 176       /* DPDES: governed by HFSCR[MSGP] */
ONE conform_mfmsr, mfmsr 3              /* privileged */
ONE conform_mfsprg0, mfspr 3, 272       /* SPRG0: privileged */
ONE conform_return, nop                 /* returns its argument */

/* u64 conform_user_hcall(u64 number): sc 1 from wherever it runs; returns r3. */
    .globl conform_user_hcall
conform_user_hcall:
    sc 1
    blr

    .section .note.GNU-stack, "", @progbits
