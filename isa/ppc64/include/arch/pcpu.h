/*
 * The per-physical-CPU hypervisor area, shared by assembler (isa/ppc64/vectors.S) and C++
 * (isa/ppc64/pcpu.hpp). In hypervisor context r13 points at it and HSPRG0 holds the same value,
 * so an interrupt from a guest can find it. The 0x7010 bytes below it hold the stack guard that
 * Debian's libfdt reads at -0x7010(r13).
 */
#pragma once

#define PCPU_SCRATCH0 0    /* the guest's r12 while the exit path gets going */
#define PCPU_VECTOR 8      /* interrupt vector of the current exit */
#define PCPU_IN_GUEST 16   /* 1 between guest_enter's hrfid and the next interrupt */
#define PCPU_HV_SP 24      /* hypervisor r1 to return to guest_enter's caller */
#define PCPU_REGS 32       /* GuestRegs* of the vcpu being run */
#define PCPU_FAULT 40      /* GuestRegs* where a hypervisor fault saves its registers */
#define PCPU_FAULT_SP 48   /* stack for the hypervisor fault handler */
#define PCPU_SCRATCH_CR 56 /* the guest's CR, saved before the exit path compares */
#define PCPU_NAPPING 64    /* 1 while ppc64_nap waits: the 0x100 wake-up returns to its caller */
/* The L1D flush before a guest runs (isa/ppc64/l1d_flush.cpp): the kind (PCPU_FLUSH_*), and for
 * the displacement flush the area and its 1 KiB blocks (eight 128-byte lines each). */
#define PCPU_L1D_FLUSH 72
#define PCPU_L1D_AREA 80
#define PCPU_L1D_BLOCKS 88
#define PCPU_SIZE 96

#define PCPU_FLUSH_NONE 0
#define PCPU_FLUSH_ORI30 1
#define PCPU_FLUSH_TRIG2 2
#define PCPU_FLUSH_DISPLACEMENT 3

/* GuestRegs layout (isa/ppc64/include/arch/regs.hpp). */
#define REGS_GPR(n) ((n) * 8)
#define REGS_CR 256
#define REGS_LR 264
#define REGS_CTR 272
#define REGS_XER 280
#define REGS_SRR0 288
#define REGS_SRR1 296
#define REGS_HSRR0 304
#define REGS_HSRR1 312
#define REGS_PC 320
#define REGS_MSR 328
#define REGS_SIZE 336

#define SPRN_SRR0 26
#define SPRN_SRR1 27
#define SPRN_HSPRG0 304
#define SPRN_HSPRG1 305
