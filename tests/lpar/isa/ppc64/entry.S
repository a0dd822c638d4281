/*
 * Test-LPAR entry and interrupt vectors (ppc64, PAPR guest; docs/test-lpars.md).
 *
 * The image is linked and loaded at logical 0 and runs in real mode, little-endian. Every vcpu
 * starts at 0 with r3 = vcpu index, r4 = memory size, r5 = vcpu count, r6 = log2(HTAB bytes),
 * MSR = SF|ME: big-endian, as PAPR enters a client, so the first instructions switch to
 * little-endian (enter_le.h) and ask for little-endian interrupts (H_SET_MODE). Guest
 * interrupts then arrive little-endian (LPCR[ILE]) at the architected real-mode vectors, which
 * are the first 0x1000 bytes of this image (lpar.lds checks that every stub sits at its vector).
 */
#include "enter_le.h"

/* Load a 32-bit absolute address (the image lives in the first 2 GiB of logical memory). */
#define LOAD_ADDR(reg, sym) \
    lis reg, (sym)@ha;      \
    addi reg, reg, (sym)@l

#define MSR_RI 0x2
#define H_SET_MODE 0x31C
#define H_SET_MODE_LE 4 /* resource: interrupt endianness; mflags 1 = little-endian */
#define H_TESSERA_TEST_EXIT 0xF00E

#define MAX_VCPUS 8    /* lpar::kMaxVcpus */
#define STACK_SHIFT 15 /* 32 KiB per vcpu */

/*
 * Interrupt frame, below the interrupted r1's 288-byte protected zone (ELFv2):
 *   0..31     ELFv2 minimal frame of the stub (back chain = the interrupted r1)
 *   32..191   lpar::isa::TrapFrame: r0..r12, cr, lr, ctr, xer, srr0, srr1, vector
 *   192..479  the interrupted code's protected zone
 */
#define INT_FRAME_SIZE 480
#define INT_GPR(n) (32 + 8 * (n))
#define INT_CR 136
#define INT_LR 144
#define INT_CTR 152
#define INT_XER 160
#define INT_SRR0 168
#define INT_SRR1 176
#define INT_VEC 184
#define INT_TRAPFRAME 32

    .section .text.vectors, "ax"
    .globl _start
_start:
    ENTER_LITTLE_ENDIAN         /* r11 = the entry MSR */
    b lpar_entry

/* One stub per vector: 4 instructions, so that even the 0x20-spaced vectors fit. */
.macro VECTOR vec
    . = \vec
    .globl lpar_vector_\vec
lpar_vector_\vec:
    stdu 1, -INT_FRAME_SIZE(1)
    std 3, INT_GPR(3)(1)
    li 3, \vec
    b int_common
.endm

    VECTOR 0x100 /* system reset */
    VECTOR 0x200 /* machine check */
    VECTOR 0x300 /* data storage */
    VECTOR 0x380 /* data segment */
    VECTOR 0x400 /* instruction storage */
    VECTOR 0x480 /* instruction segment */
    VECTOR 0x500 /* external */
    VECTOR 0x600 /* alignment */
    VECTOR 0x700 /* program */
    VECTOR 0x800 /* floating-point unavailable */
    VECTOR 0x900 /* decrementer */
    VECTOR 0xA00 /* directed privileged doorbell */
    VECTOR 0xB00 /* reserved */
    VECTOR 0xC00 /* system call (not used) */
    VECTOR 0xD00 /* trace */
    VECTOR 0xE00 /* hypervisor interrupts: never for a guest; caught if they are */
    VECTOR 0xE20
    VECTOR 0xE40
    VECTOR 0xE60
    VECTOR 0xE80
    VECTOR 0xEA0
    VECTOR 0xF00 /* performance monitor */
    VECTOR 0xF20 /* vector unavailable */
    VECTOR 0xF40 /* VSX unavailable */
    VECTOR 0xF60 /* facility unavailable */
    VECTOR 0xF80 /* hypervisor facility unavailable */

    . = 0x1000

/* Saves the rest of the interrupted context, calls lpar_trap(TrapFrame*), restores, rfid. */
int_common:
    std 0, INT_GPR(0)(1)
    std 2, INT_GPR(2)(1)
    std 4, INT_GPR(4)(1)
    std 5, INT_GPR(5)(1)
    std 6, INT_GPR(6)(1)
    std 7, INT_GPR(7)(1)
    std 8, INT_GPR(8)(1)
    std 9, INT_GPR(9)(1)
    std 10, INT_GPR(10)(1)
    std 11, INT_GPR(11)(1)
    std 12, INT_GPR(12)(1)
    mfcr 0
    std 0, INT_CR(1)
    mflr 0
    std 0, INT_LR(1)
    mfctr 0
    std 0, INT_CTR(1)
    mfxer 0
    std 0, INT_XER(1)
    mfsrr0 0
    std 0, INT_SRR0(1)
    mfsrr1 0
    std 0, INT_SRR1(1)
    std 3, INT_VEC(1)
    li 0, MSR_RI
    mtmsrd 0, 1                 /* SRR0/1 are saved: recoverable again (EE stays 0) */
    LOAD_ADDR(2, .TOC.)
    addi 3, 1, INT_TRAPFRAME
    bl lpar_trap
    nop
    li 0, 0
    mtmsrd 0, 1                 /* not recoverable while SRR0/1 hold the return state */
    ld 0, INT_SRR0(1)
    mtsrr0 0
    ld 0, INT_SRR1(1)
    mtsrr1 0
    ld 0, INT_CR(1)
    mtcr 0
    ld 0, INT_LR(1)
    mtlr 0
    ld 0, INT_CTR(1)
    mtctr 0
    ld 0, INT_XER(1)
    mtxer 0
    ld 0, INT_GPR(0)(1)
    ld 2, INT_GPR(2)(1)
    ld 3, INT_GPR(3)(1)
    ld 4, INT_GPR(4)(1)
    ld 5, INT_GPR(5)(1)
    ld 6, INT_GPR(6)(1)
    ld 7, INT_GPR(7)(1)
    ld 8, INT_GPR(8)(1)
    ld 9, INT_GPR(9)(1)
    ld 10, INT_GPR(10)(1)
    ld 11, INT_GPR(11)(1)
    ld 12, INT_GPR(12)(1)
    addi 1, 1, INT_FRAME_SIZE
    rfid

/*
 * Start code, every vcpu: a stack from the vcpu index, vcpu 0 clears .bss while the others
 * wait for lpar_bss_ready, then lpar_isa_start(vcpu, memory, vcpus, htab_log2, entry MSR).
 */
lpar_entry:
    li 0, MSR_RI
    mtmsrd 0, 1                 /* recoverable (the trampoline cleared RI), EE = 0 */
    mr 14, 3                    /* keep the entry arguments across the hcall */
    mr 15, 4
    mr 16, 5
    mr 17, 6
    mr 18, 11                   /* the entry MSR */
    li 3, H_SET_MODE            /* interrupts little-endian (every vcpu asks: idempotent) */
    li 4, 1
    li 5, H_SET_MODE_LE
    li 6, 0
    li 7, 0
    sc 1
    cmpdi 3, 0
    bne bad_vcpu
    mr 3, 14
    mr 4, 15
    mr 5, 16
    mr 6, 17
    mr 7, 18
    cmpldi 3, MAX_VCPUS
    bge bad_vcpu
    LOAD_ADDR(1, lpar_stacks)
    addi 8, 3, 1
    sldi 8, 8, STACK_SHIFT
    add 1, 1, 8                 /* top of this vcpu's stack */
    li 0, 0
    stdu 0, -32(1)              /* terminated back chain, ELFv2 minimal frame */
    LOAD_ADDR(2, .TOC.)
    LOAD_ADDR(9, lpar_bss_ready)
    cmpdi 3, 0
    bne 3f

    LOAD_ADDR(10, __bss_start)
    LOAD_ADDR(11, __bss_end)
1:  cmpld 10, 11
    bge 2f
    std 0, 0(10)
    addi 10, 10, 8
    b 1b
2:  sync
    li 10, 1
    stw 10, 0(9)
    sync
    b 5f

3:  lwz 10, 0(9)                /* secondaries: wait for vcpu 0 to clear .bss */
    cmpwi 10, 0
    bne 4f
    or 1, 1, 1
    or 2, 2, 2
    b 3b
4:  isync

5:  bl lpar_isa_start
    nop
6:  b 6b

bad_vcpu:                       /* no stack for this vcpu, or still big-endian interrupts:
                                   end the LPAR with one failure */
    li 3, 0
    ori 3, 3, H_TESSERA_TEST_EXIT
    li 4, 0
    li 5, 1
    sc 1
    b bad_vcpu

    .section .data.lpar_bss_ready, "aw"
    .balign 4
lpar_bss_ready:                 /* in .data: it must be 0 before .bss is cleared */
    .long 0

    .section .bss.lpar_stacks, "aw", @nobits
    .balign 16
    .globl lpar_stacks
lpar_stacks:
    .space MAX_VCPUS << STACK_SHIFT

    .section .note.GNU-stack, "", @progbits
