/*
 * The guest's floating-point, VMX and VSX registers, saved and restored when another vcpu takes
 * the physical CPU (the hypervisor itself never uses them: it is built soft-float). A save
 * leaves the registers as it found them. Layout of
 * the area (isa/ppc64/include/arch/state.hpp, VectorState): vs0..vs63 (64 x 16 bytes), FPSCR
 * (8 bytes at 1024), VSCR (16 bytes at 1040), VRSAVE (8 bytes at 1056).
 */
#define MSR_FP_VEC_VSX_HI 0x0280    /* (MSR[VEC] | MSR[VSX]) >> 16 */
#define MSR_FP 0x2000

.macro SAVE_VSR n
    stxvd2x \n, 3, 4
    addi 4, 4, 16
.endm
.macro LOAD_VSR n
    lxvd2x \n, 3, 4
    addi 4, 4, 16
.endm

    .text
    .globl vector_state_save
vector_state_save:
    mfmsr 5
    oris 6, 5, MSR_FP_VEC_VSX_HI
    ori 6, 6, MSR_FP
    mtmsrd 6
    isync
    li 4, 0
    .irp n, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
    SAVE_VSR \n
    .endr
    .irp n, 32,33,34,35,36,37,38,39,40,41,42,43,44,45,46,47,48,49,50,51,52,53,54,55,56,57,58,59,60,61,62,63
    SAVE_VSR \n
    .endr
    mffs 0
    stfd 0, 1024(3)
    mfvscr 0
    li 4, 1040
    stvx 0, 3, 4
    mfspr 4, 256                /* VRSAVE */
    std 4, 1056(3)
    /*
     * mffs and mfvscr above used f0 (vs0) and v0 (vs32) as scratch: put the guest's back. The
     * CPU keeps holding the state after a save (isa/ppc64/run.cpp) and the vcpu may resume
     * from it without a load.
     */
    li 4, 0
    lxvd2x 0, 3, 4
    li 4, 512
    lxvd2x 32, 3, 4
    mtmsrd 5
    isync
    blr

    .globl vector_state_load
vector_state_load:
    mfmsr 5
    oris 6, 5, MSR_FP_VEC_VSX_HI
    ori 6, 6, MSR_FP
    mtmsrd 6
    isync
    lfd 0, 1024(3)
    mtfsf 0xff, 0
    li 4, 1040
    lvx 0, 3, 4
    mtvscr 0
    ld 4, 1056(3)
    mtspr 256, 4
    li 4, 0
    .irp n, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
    LOAD_VSR \n
    .endr
    .irp n, 32,33,34,35,36,37,38,39,40,41,42,43,44,45,46,47,48,49,50,51,52,53,54,55,56,57,58,59,60,61,62,63
    LOAD_VSR \n
    .endr
    mtmsrd 5
    isync
    blr

    .section .note.GNU-stack, "", @progbits
