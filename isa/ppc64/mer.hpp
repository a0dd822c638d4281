// Delivering an external interrupt that is pending while the guest runs with MSR[EE] = 0.
// The architecture's way is LPCR[MER]: with it set, the CPU traps to the hypervisor (0x500,
// HSRR0/1) as soon as the guest sets MSR[EE]. QEMU 7.2's TCG does not implement it: LPCR[MER]
// is stored (it is in the POWER8 lpcr_mask) but target/ppc/excp_helper.c ppc_hw_interrupt only
// takes an external interrupt for the interrupt-controller line, never for MER. The interrupt
// then waited for the next HDEC, the end of the slice (100 ms for a lone vcpu: a self-IPI
// raised with EE off took 45 ms to arrive). So while an interrupt waits for the guest to enable
// interrupts, HDEC is capped at kMerPollUs and the run loop looks again: one exit
// (`merpoll`) per kMerPollUs of guest time with EE off and an interrupt pending, none
// otherwise (a ceded vcpu is not run at all). MER stays set for a CPU that honours it.
#pragma once

#include <tessera/types.hpp>

namespace tessera::arch {

inline constexpr u64 kMerPollUs = 50;

// The HDEC for the next guest entry: what is `left` of the slice (ticks, > 0), at most
// `dec_max`, and at most `poll` when an interrupt waits for MSR[EE] (`mer_wait`).
// `capped` says whether the MER poll shortened it (the HDEC exit is then a poll).
constexpr u64 hdec_ticks(u64 left, u64 dec_max, bool mer_wait, u64 poll, bool& capped) {
    u64 t = left > dec_max ? dec_max : left;
    capped = mer_wait && poll != 0 && poll < t;
    return capped ? poll : t;
}

// kMerPollUs in timebase ticks for a timebase of `hz` (at least 1).
constexpr u64 mer_poll_ticks(u64 hz) {
    const u64 t = hz / 1000000 * kMerPollUs;
    return t ? t : 1;
}

} // namespace tessera::arch
