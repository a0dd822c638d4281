/*
 * Problem state for the test LPARs (ppc64; lib/lpar_isa.hpp run_user).
 *
 * u64 lpar_run_user(u64 pc, u64 arg, u64 sp, u64 msr, u64* kernel_sp)
 *   Saves the caller's non-volatile registers on its stack, stores that stack pointer in
 *   *kernel_sp and rfid's to pc with r3 = arg, r12 = pc (ELFv2), r1 = sp, LR = lpar_user_exit
 *   and MSR = msr. When the user code returns, lpar_user_exit's `sc` takes the guest's own
 *   system call interrupt (0xC00); the library's handler sends the interrupt's rfid to
 *   lpar_user_resume with r4 = *kernel_sp, which returns to lpar_run_user's caller with the
 *   user code's r3.
 */
#define LOAD_ADDR(reg, sym) \
    lis reg, (sym)@ha;      \
    addi reg, reg, (sym)@l

#define FRAME 192
#define NV(n) (32 + 8 * ((n) - 14))     /* r14..r31: 32..176 */

    .section .text.lpar_user, "ax"
    .globl lpar_run_user
lpar_run_user:
    mflr 0
    std 0, 16(1)
    mfcr 0
    stw 0, 8(1)
    stdu 1, -FRAME(1)
    std 2, 24(1)
    .irp n, 14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
    std \n, NV(\n)(1)
    .endr
    std 1, 0(7)
    li 0, 0
    mtmsrd 0, 1                 /* EE = RI = 0 while SRR0/1 hold the user state */
    mtsrr0 3
    mtsrr1 6
    mr 12, 3
    mr 3, 4
    mr 1, 5
    LOAD_ADDR(0, lpar_user_exit)
    mtlr 0
    rfid

    .globl lpar_user_exit
lpar_user_exit:
    sc
    b lpar_user_exit            /* not reached: the handler resumes at lpar_user_resume */

    .globl lpar_user_resume
lpar_user_resume:
    mr 1, 4
    ld 2, 24(1)
    .irp n, 14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
    ld \n, NV(\n)(1)
    .endr
    addi 1, 1, FRAME
    ld 0, 16(1)
    mtlr 0
    lwz 0, 8(1)
    mtcr 0
    blr

    .section .note.GNU-stack, "", @progbits
