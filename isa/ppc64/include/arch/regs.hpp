// The registers the world switch (isa/ppc64/vectors.S) saves and restores for a vcpu; the
// offsets are in <arch/pcpu.h> and checked below.
#pragma once

#include <arch/pcpu.h>
#include <stddef.h>
#include <tessera/types.hpp>

namespace tessera::arch {

struct GuestRegs {
    u64 gpr[32] = {};
    u64 cr = 0, lr = 0, ctr = 0, xer = 0;
    // As found at the exit: sc 1 and the guest-style vectors use SRR0/1, hypervisor interrupts
    // HSRR0/1; run.cpp picks the right pair into pc/msr.
    u64 srr0 = 0, srr1 = 0, hsrr0 = 0, hsrr1 = 0;
    u64 pc = 0;  // where guest_enter resumes the guest (HSRR0 for hrfid)
    u64 msr = 0; // the guest MSR it resumes with (HSRR1 for hrfid)
};

static_assert(offsetof(GuestRegs, cr) == REGS_CR);
static_assert(offsetof(GuestRegs, lr) == REGS_LR);
static_assert(offsetof(GuestRegs, ctr) == REGS_CTR);
static_assert(offsetof(GuestRegs, xer) == REGS_XER);
static_assert(offsetof(GuestRegs, srr0) == REGS_SRR0);
static_assert(offsetof(GuestRegs, hsrr1) == REGS_HSRR1);
static_assert(offsetof(GuestRegs, pc) == REGS_PC);
static_assert(offsetof(GuestRegs, msr) == REGS_MSR);
static_assert(sizeof(GuestRegs) == REGS_SIZE);

} // namespace tessera::arch
