/*
 * Hypervisor interrupt vectors and the world switch.
 *
 * The block from hv_vectors_start to hv_vectors_end is copied to real address 0 by
 * arch::early_init (the hypervisor runs in real mode with HRMOR = 0, so that is where the CPU
 * looks). Inside it only relative branches are used between its own labels; addresses of the
 * rest of the image are loaded absolutely (the image is linked where it runs).
 *
 * Exit from a guest: every vector saves r13 in HSPRG1, loads the per-CPU area from HSPRG0,
 * parks r12 and jumps to hv_exit with the vector number in r12. hv_exit saves the guest's
 * registers into the vcpu's GuestRegs and returns from guest_enter() to its C++ caller with the
 * vector number; a page-table hcall it answers itself, after saving only the registers a C++
 * call may clobber, and returns to the guest (isa/ppc64/hcall_exit.cpp). An interrupt while no guest runs is a hypervisor fault: hv_fault saves what it
 * can and calls ppc64_hv_fault(), which prints the registers and stops the machine.
 */
#include <arch/pcpu.h>
#include <arch/ppc_asm.h>

#define GUEST_ENTER_FRAME 224
#define SAVE_NV(n) std n, (32 + ((n) - 14) * 8)(1)
#define LOAD_NV(n) ld n, (32 + ((n) - 14) * 8)(1)

.macro STORE_GPRS base, regs:vararg
    .irp n, \regs
    std \n, REGS_GPR(\n)(\base)
    .endr
.endm

.macro LOAD_GPRS base, regs:vararg
    .irp n, \regs
    ld \n, REGS_GPR(\n)(\base)
    .endr
.endm

/* The guest's CR, LR, CTR and XER from GuestRegs at `base`; then PCPU_IN_GUEST = 1. */
.macro LOAD_GUEST_CONTROL base, tmp
    ld \tmp, REGS_CR(\base)
    mtcr \tmp
    ld \tmp, REGS_LR(\base)
    mtlr \tmp
    ld \tmp, REGS_CTR(\base)
    mtctr \tmp
    ld \tmp, REGS_XER(\base)
    mtxer \tmp
    li \tmp, 1
    std \tmp, PCPU_IN_GUEST(13)
.endm

/*
 * The L1D flush before a guest runs (isa/ppc64/l1d_flush.hpp), so that it cannot read by
 * speculation what the hypervisor left in the L1D: PCPU_L1D_FLUSH says how (nothing, the chip's
 * `ori 30,30,0` or TRIG2 write, or a load from each 128-byte line of PCPU_L1D_AREA, eight per
 * 1 KiB block). Clobbers t1, t2, CTR and CR0. It goes after the last access to hypervisor
 * data, before the guest's own registers are loaded, as KVM-HV's HRFI_TO_GUEST.
 */
.macro L1D_FLUSH t1, t2
    ld \t1, PCPU_L1D_FLUSH(13)
    cmpdi \t1, PCPU_FLUSH_DISPLACEMENT
    beq 3f
    cmpdi \t1, PCPU_FLUSH_ORI30
    beq 1f
    cmpdi \t1, PCPU_FLUSH_TRIG2
    bne 9f
    li \t1, 0
    mtspr 882, \t1                 /* TRIG2 */
    b 9f
1:  sync
    ld \t1, 0(13)                  /* after the sync: no load passes the flush */
    ori 30, 30, 0
    b 9f
3:  ld \t2, PCPU_L1D_BLOCKS(13)
    mtctr \t2
    ld \t1, PCPU_L1D_AREA(13)
4:  ld \t2, 0(\t1)
    ld \t2, 128(\t1)
    ld \t2, 256(\t1)
    ld \t2, 384(\t1)
    ld \t2, 512(\t1)
    ld \t2, 640(\t1)
    ld \t2, 768(\t1)
    ld \t2, 896(\t1)
    addi \t1, \t1, 1024
    bdnz 4b
9:
.endm

.macro VECTOR vec
    .org \vec
    mtspr SPRN_HSPRG1, 13
    mfspr 13, SPRN_HSPRG0
    std 12, PCPU_SCRATCH0(13)
    li 12, \vec
    b hv_exit
.endm

    .section .text.hvvectors, "ax"
    .balign 256
    .globl hv_vectors_start
hv_vectors_start:
    VECTOR 0x100
    VECTOR 0x200
    VECTOR 0x300
    VECTOR 0x380
    VECTOR 0x400
    VECTOR 0x480
    VECTOR 0x500
    VECTOR 0x600
    VECTOR 0x700
    VECTOR 0x800
    VECTOR 0x900
    VECTOR 0x980
    VECTOR 0xa00
    VECTOR 0xb00
    VECTOR 0xc00
    VECTOR 0xd00
    VECTOR 0xe00
    VECTOR 0xe20
    VECTOR 0xe40
    VECTOR 0xe60
    VECTOR 0xe80
    VECTOR 0xea0
    VECTOR 0xf00
    VECTOR 0xf20
    VECTOR 0xf40
    VECTOR 0xf60
    VECTOR 0xf80
    VECTOR 0x1500
    VECTOR 0x1600
    VECTOR 0x1700

    .org 0x1800
hv_exit:
    std 12, PCPU_VECTOR(13)
    mfcr 12                         /* before anything below changes CR0 */
    std 12, PCPU_SCRATCH_CR(13)
    ld 12, PCPU_IN_GUEST(13)
    cmpdi 12, 0
    beq hv_not_guest
    li 12, 0
    std 12, PCPU_IN_GUEST(13)
    ld 12, PCPU_REGS(13)
    /* First the registers a C++ call may clobber: r0-r13, CR, LR, CTR, XER. */
    STORE_GPRS 12, 0,1,2,3,4,5,6,7,8,9,10,11
    ld 0, PCPU_SCRATCH0(13)
    std 0, REGS_GPR(12)(12)
    mfspr 0, SPRN_HSPRG1
    std 0, REGS_GPR(13)(12)
    ld 0, PCPU_SCRATCH_CR(13)
    std 0, REGS_CR(12)
    mflr 0
    std 0, REGS_LR(12)
    mfctr 0
    std 0, REGS_CTR(12)
    mfxer 0
    std 0, REGS_XER(12)

    /*
     * An hcall: ppc64_hcall_in_exit (isa/ppc64/hcall_exit.cpp) answers the page-table ones
     * right here, on the hypervisor's stack below guest_enter's frame (as if guest_enter had
     * called it), and the guest resumes at SRR0 with its results.
     */
    ld 0, PCPU_VECTOR(13)
    cmpdi 0, 0xc00
    bne hv_exit_rest
    ld 1, PCPU_HV_SP(13)
    ld 2, 24(1)                     /* guest_enter's TOC save */
    mr 3, 13
    LOAD_ADDR(12, ppc64_hcall_in_exit)
    mtctr 12
    bctrl
    ld 12, PCPU_REGS(13)
    cmpdi 3, 0
    beq hv_exit_rest                /* not answered: r14-r31, SRR0/1 are still the guest's */
    L1D_FLUSH 10, 11
    LOAD_GUEST_CONTROL 12, 0
    LOAD_GPRS 12, 0,1,2,3,4,5,6,7,8,9,10,11
    ld 13, REGS_GPR(13)(12)
    ld 12, REGS_GPR(12)(12)
    rfid

hv_exit_rest:
    STORE_GPRS 12, 14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
    mfspr 0, SPRN_SRR0
    std 0, REGS_SRR0(12)
    mfspr 0, SPRN_SRR1
    std 0, REGS_SRR1(12)
    mfspr 0, SPRN_HSRR0
    std 0, REGS_HSRR0(12)
    mfspr 0, SPRN_HSRR1
    std 0, REGS_HSRR1(12)

    /* Back on the hypervisor's stack: return from guest_enter with the vector. */
    ld 1, PCPU_HV_SP(13)
    ld 3, PCPU_VECTOR(13)
    LOAD_NV(14)
    LOAD_NV(15)
    LOAD_NV(16)
    LOAD_NV(17)
    LOAD_NV(18)
    LOAD_NV(19)
    LOAD_NV(20)
    LOAD_NV(21)
    LOAD_NV(22)
    LOAD_NV(23)
    LOAD_NV(24)
    LOAD_NV(25)
    LOAD_NV(26)
    LOAD_NV(27)
    LOAD_NV(28)
    LOAD_NV(29)
    LOAD_NV(30)
    LOAD_NV(31)
    ld 2, 24(1)
    addi 1, 1, GUEST_ENTER_FRAME
    ld 0, 16(1)
    mtlr 0
    lwz 0, 8(1)
    mtcr 0
    blr

hv_not_guest:
    /*
     * Not from a guest: the wake-up from ppc64_nap (system reset at 0x100, with the registers
     * kept) returns to ppc64_nap's caller; anything else is a hypervisor fault.
     */
    ld 12, PCPU_NAPPING(13)
    cmpdi 12, 0
    beq hv_fault
    li 12, 0
    std 12, PCPU_NAPPING(13)
    ld 12, PCPU_SCRATCH_CR(13)
    mtcr 12
    ld 12, PCPU_SCRATCH0(13)
    mfspr 13, SPRN_HSPRG1
    blr

hv_fault:
    /* The hypervisor itself faulted: save the registers for the report and stop. */
    ld 12, PCPU_FAULT(13)
    std 0, REGS_GPR(0)(12)
    std 1, REGS_GPR(1)(12)
    std 2, REGS_GPR(2)(12)
    std 3, REGS_GPR(3)(12)
    mflr 0
    std 0, REGS_LR(12)
    mfspr 0, SPRN_SRR0
    std 0, REGS_SRR0(12)
    mfspr 0, SPRN_SRR1
    std 0, REGS_SRR1(12)
    mfspr 0, SPRN_HSRR0
    std 0, REGS_HSRR0(12)
    mfspr 0, SPRN_HSRR1
    std 0, REGS_HSRR1(12)
    ld 1, PCPU_FAULT_SP(13)
    LOAD_ADDR(2, .TOC.)
    ld 3, PCPU_VECTOR(13)
    mr 4, 12
    LOAD_ADDR(12, ppc64_hv_fault)
    mtctr 12
    bctrl
1:  b 1b
    .globl hv_vectors_end
hv_vectors_end:

/*
 * void ppc64_nap(void): nap until a wake-up event LPCR[PECE] allows; the wake-up comes back
 * through 0x100 and hv_not_guest, which returns from here (nap keeps the registers: no state
 * loss). The store/ptesync/load sequence makes earlier stores complete first, as Linux does
 * before an idle instruction.
 */
    .text
    .globl ppc64_nap
ppc64_nap:
    li 0, 1
    std 0, PCPU_NAPPING(13)
    std 0, -16(1)
    ptesync
    ld 0, -16(1)
1:  cmpd 0, 0
    bne 1b
    nap
    b .

/*
 * u64 guest_enter(GuestRegs* regs): run the guest from regs->pc/msr until an interrupt brings
 * the CPU back; returns the vector. r13 is the per-CPU area throughout hypervisor context.
 */
    .text
    .globl guest_enter
guest_enter:
    mflr 0
    std 0, 16(1)
    mfcr 0
    stw 0, 8(1)
    stdu 1, -GUEST_ENTER_FRAME(1)
    std 2, 24(1)
    SAVE_NV(14)
    SAVE_NV(15)
    SAVE_NV(16)
    SAVE_NV(17)
    SAVE_NV(18)
    SAVE_NV(19)
    SAVE_NV(20)
    SAVE_NV(21)
    SAVE_NV(22)
    SAVE_NV(23)
    SAVE_NV(24)
    SAVE_NV(25)
    SAVE_NV(26)
    SAVE_NV(27)
    SAVE_NV(28)
    SAVE_NV(29)
    SAVE_NV(30)
    SAVE_NV(31)
    std 1, PCPU_HV_SP(13)
    std 3, PCPU_REGS(13)
    L1D_FLUSH 4, 5

    ld 4, REGS_PC(3)
    mtspr SPRN_HSRR0, 4
    ld 4, REGS_MSR(3)
    mtspr SPRN_HSRR1, 4
    LOAD_GUEST_CONTROL 3, 4

    LOAD_GPRS 3, 0,1,2,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
    ld 3, REGS_GPR(3)(3)
    hrfid

    .section .note.GNU-stack, "", @progbits
