/*
 * Guest side of the "regs" test LPAR: load and store all 64 VSX registers (which hold the 32 FP
 * and 32 VMX registers), FPSCR and VSCR, with MSR[FP|VEC|VSX] already enabled by the caller.
 *   void vsx_load_all(const u8 area[64 * 16 + 32]);  void vsx_store_all(u8 area[...]);
 * Area: vs0..vs63, then FPSCR (8 bytes at 1024), then VSCR (16 bytes at 1040).
 */
.macro VSR_ALL op
    li 4, 0
    .irp n, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31,32,33,34,35,36,37,38,39,40,41,42,43,44,45,46,47,48,49,50,51,52,53,54,55,56,57,58,59,60,61,62,63
    \op \n, 3, 4
    addi 4, 4, 16
    .endr
.endm

    .text
    .globl vsx_load_all
vsx_load_all:
    lfd 0, 1024(3)
    mtfsf 0xff, 0
    li 4, 1040
    lvx 0, 3, 4
    mtvscr 0
    VSR_ALL lxvd2x
    blr

    .globl vsx_store_all
vsx_store_all:
    VSR_ALL stxvd2x
    mffs 0
    stfd 0, 1024(3)
    mfvscr 0
    li 4, 1040
    stvx 0, 3, 4
    blr

    .section .note.GNU-stack, "", @progbits
