// The ia32 exit reasons counted per LPAR (common/exit_counts.hpp), printed when it ends:
// `lpar linux: exits 123: irq 4 hcall 50 fill 60 ...`. Most are exits (a trap into the
// hypervisor); virtual interrupts delivered or held back are counted at the entry that does it.
#pragma once

#include "common/exit_counts.hpp"
#include "common/lpar.hpp"

namespace tessera::arch {

enum class Exit : u8 {
    HostIrq,      // irq: the machine's timer (preemption, the guest's timer deadline)
    Hcall,        // hcall: int $0x82
    IretGate,     // iret: int $0x83
    ShadowFill,   // fill: a #PF the shadow tables answered
    Int80,        // int80: ring 3's int $0x80 reflected (the direct gate was not installed)
    SoftInt,      // int: any other int n / int3 / into reflected
    Step,         // step: the single step of an interrupt shadow
    EmuCr,        // cr: mov to/from cr0-4, clts
    EmuDr,        // dr: mov to/from dr0-7
    EmuInvlpg,    // invlpg
    EmuTables,    // tables: lgdt, lidt, ltr, lldt
    EmuCliSti,    // clisti: cli, sti
    EmuHlt,       // hlt
    EmuIo,        // io: in, out, ins, outs
    EmuMsr,       // msr: rdmsr, wrmsr
    EmuOther,     // emu: wbinvd, invd, and what #GP'd undecoded
    VirqTimer,    // vtimer: the guest's timer interrupt delivered
    VirqExternal, // vext: its XICS interrupt delivered
    VirqHeld,     // held: an interrupt held back (virtual IF clear: `pending` set)
    ExitWindow,   // window: an interrupt taken in the guest's return window (the iret done)
    MmKept,       // mmkept: H_IA32_SWITCH_MM found the space's shadow kept (no refills)
    MmNew,        // mmnew: H_IA32_SWITCH_MM had to start the space's shadow afresh
    // Of the hcalls (hcall), by kind; H_IA32_SWITCH_MM is mmkept + mmnew.
    HcTimer,        // hc-timer: H_IA32_SET_TIMER
    HcCede,         // hc-cede: H_CEDE
    HcXics,         // hc-xics: H_XIRR, H_XIRR_X, H_EOI, H_CPPR, H_IPI, H_IPOLL
    HcVio,          // hc-vio: TCEs, the logical LAN, CRQs, H_VIO_SIGNAL, H_COPY_RDMA
    HcVty,          // hc-vty: H_PUT_TERM_CHAR, H_GET_TERM_CHAR
    HcOther,        // hc-other: every other hcall
    TickArmed,      // tick: a timer delivered with the next tick armed ahead (vtimer.hpp)
    TlsRow,         // tlsrow: the switcher had changed the TLS entries (seen at the next exit)
    VirqSelf,       // self: of vtimer, the held timers the guest took itself (kVirqFlagSelf)
    VirqRaised,     // raised: timer interrupts the guest raised itself, seen at an exit
    Reflected = 32, // + vector: an exception reflected to the guest (#PF: its own page faults)
    // pf-switcher, gp-switcher: a process's page faults and general protection faults the
    // switcher reflected without an exit (isa/ia32/fast_reflect.hpp); not exits, counted at
    // the next one.
    SwitcherPf = Reflected + 32,
    SwitcherGp,
    HcInvalidate, // hc-inval: H_IA32_INVALIDATE (an hcall, numbered here for want of room above)
    HcProtect,    // hc-protect: H_IA32_PROTECT
    Watchdog,   // watchdog: the NMI watchdog took the CPU back from a guest with the real IF clear
    HcFork,     // hc-fork: H_IA32_FORK_MM
    ForkCopied, // fork-copied: the entries H_IA32_FORK_MM made for children (not exits)
    HcRefill,   // hc-refill: H_IA32_REFILL
    HcMove,     // hc-move: H_IA32_MOVE
    Moved,      // moved: the entries H_IA32_MOVE made at the new addresses (not exits)
    TimerLater, // later: a later deadline the guest made no hcall for, armed at an exit (not exits)
};

extern const char* const kExitNames[kExitReasons];

inline void count(Vcpu& v, Exit e) {
    v.lpar->arch.exits.add(static_cast<usize>(e));
}
inline void count_many(Vcpu& v, Exit e, u64 n) {
    v.lpar->arch.exits.count[static_cast<usize>(e)] += n;
}
inline void count_reflected(Vcpu& v, u32 vector) {
    if (vector < 32) v.lpar->arch.exits.add(static_cast<usize>(Exit::Reflected) + vector);
}

} // namespace tessera::arch
