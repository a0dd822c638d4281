/*
 * void lpar_hcall_probe(const u64* call, ProbeDump* dump, const ProbeDump* pattern)
 *
 * Makes the hcall call[0] with arguments call[1..9] (r4..r12) after loading every register the
 * hcall ABI preserves with `pattern` (r0, r2, r13..r31, CR, LR, CTR), and stores every register
 * as the hcall left it into `dump` (r1 before the call too); the caller compares. Run it with
 * MSR[EE] = 0: r2 and r13 hold patterns across the sc.
 *
 * ProbeDump (isa/ppc64/isa.cpp): gpr[32] at 0, cr 256, lr 264, ctr 272, xer 280, r1_before 288.
 */
#define D_GPR(n) (8 * (n))
#define D_CR 256
#define D_LR 264
#define D_CTR 272
#define D_XER 280
#define D_R1_BEFORE 288

/* Own frame: 32 ELFv2 header, r2 in the TOC slot (24), r13..r31, dump pointer, scratch. */
#define F_NV(n) (32 + 8 * ((n) - 13))
#define F_DUMP 184
#define F_SCRATCH 192
#define FRAME 208

    .section .text.lpar_hcall_probe, "ax"
    .globl lpar_hcall_probe
    .type lpar_hcall_probe, @function
lpar_hcall_probe:
    mflr 0
    std 0, 16(1)
    mfcr 0
    stw 0, 8(1)
    stdu 1, -FRAME(1)
    std 2, 24(1)
    .irp n, 13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
    std \n, F_NV(\n)(1)
    .endr
    std 4, F_DUMP(1)
    std 1, D_R1_BEFORE(4)

    ld 0, D_CR(5)
    mtcr 0
    ld 0, D_LR(5)
    mtlr 0
    ld 0, D_CTR(5)
    mtctr 0
    ld 0, D_GPR(0)(5)
    ld 2, D_GPR(2)(5)
    .irp n, 13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
    ld \n, D_GPR(\n)(5)
    .endr

    mr 11, 3
    ld 3, 0(11)
    .irp n, 4,5,6,7,8,9,10,12
    ld \n, (8 * ((\n) - 3))(11)
    .endr
    ld 11, 64(11)
    sc 1

    std 12, F_SCRATCH(1)
    ld 12, F_DUMP(1)
    .irp n, 0,1,2,3,4,5,6,7,8,9,10,11
    std \n, D_GPR(\n)(12)
    .endr
    ld 0, F_SCRATCH(1)
    std 0, D_GPR(12)(12)
    .irp n, 13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
    std \n, D_GPR(\n)(12)
    .endr
    mfcr 0
    std 0, D_CR(12)
    mflr 0
    std 0, D_LR(12)
    mfctr 0
    std 0, D_CTR(12)
    mfxer 0
    std 0, D_XER(12)

    ld 2, 24(1)
    .irp n, 13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
    ld \n, F_NV(\n)(1)
    .endr
    addi 1, 1, FRAME
    ld 0, 16(1)
    mtlr 0
    lwz 0, 8(1)
    mtcr 0
    blr
    .size lpar_hcall_probe, . - lpar_hcall_probe

    .section .note.GNU-stack, "", @progbits
