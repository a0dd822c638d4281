// The guest decrementer. On POWER8 (LPCR[LD] = 0) DEC is 32 bits, counts down at the timebase
// rate and is the guest's own: its interrupt (0x900) comes straight from the hardware. The
// hypervisor preempts with HDEC and never uses DEC, so DEC is left alone while the same vcpu
// keeps the CPU: across that vcpu's exits it counts exactly as on bare metal. Only when another
// vcpu takes the CPU is it kept as an expiry in timebase ticks and reloaded from that, so the
// error does not grow with the number of exits (rebuilding DEC at every entry lost ~60 ticks
// each time: 1.5 % at 130k exits per second).
#pragma once

#include "isa/ppc64/spr.hpp"

#include <tessera/arch.hpp>

namespace tessera::arch {

inline constexpr i64 kDecMax = 0x7fffffff;
// The smallest DEC value dec_load writes. QEMU 7.2 (hw/ppc/ppc.c __cpu_ppc_store_decr) takes a
// write below 3, negative ones included, as "interrupt now": it raises the interrupt and
// returns without re-arming, so DEC read afterwards still counts from the CPU's previous write
// (another vcpu's, seconds away). A vcpu that left the CPU before taking that interrupt (an
// exit with MSR[EE] = 0, a kick, a slice that ran out) had its expiry saved seconds in the
// future: the interrupt was lost until then (2-vcpu Linux on 2 CPUs: `sleep 1` took up to 4 s,
// "hard LOCKUP" warnings; the basic test LPAR: 2 of 5 timer ticks in 2 s). So an expired DEC
// is loaded in two writes: kDecMin first (re-arms: DEC reads back from now on), then the
// expired value (the interrupt pending at once, as on a real CPU: taken right at guest entry).
inline constexpr i64 kDecMin = 3;

namespace dec_detail {
// Under QEMU every mftb and DEC access reads the host clock, and the host may deschedule QEMU
// between two of them (hundreds of microseconds on a busy host; on hardware, firmware can steal
// time too). Such pairs are retried: two timebase reads further apart than this do not bracket
// a DEC access tightly enough.
inline constexpr u64 kTightTicks = 1024; // 2 us at 512 MHz
inline constexpr int kTries = 8;
} // namespace dec_detail

// When the DEC now in the CPU reaches zero, in timebase ticks: DEC read between two timebase
// reads and taken at their midpoint (from the tightest of a few tries).
inline u64 dec_expiry_now() {
    using namespace dec_detail;
    u64 best_gap = ~u64{0}, best = 0;
    for (int i = 0; i < kTries && best_gap > kTightTicks; ++i) {
        const u64 before = timebase();
        const i64 dec = static_cast<i32>(mfspr<Spr::DEC>() & 0xffffffff);
        const u64 after = timebase();
        if (after - before < best_gap) {
            best_gap = after - before;
            best = before + best_gap / 2 + static_cast<u64>(dec);
        }
    }
    return best;
}

// Loads DEC so that it reaches zero at `expiry`. The write lands a little after the timebase
// read it is computed from: DEC then expires that little later, never earlier. Whether it
// landed close enough is checked by reading DEC back (dec_expiry_now), and the write is retried
// when the host descheduled QEMU between the two; not by timing the write itself: QEMU takes
// DEC's value first and then re-arms a host timer, and that re-arm (waking QEMU's main loop
// when it becomes the earliest timer) often takes 5-50 us. Timing the write retried it up to 8
// times for nothing: 2-vcpu Linux spent 21 us per dispatch here, some 200 us. One that has
// expired (or is about to) is written after a kDecMin (see there): the interrupt the guest has
// not taken yet is pending at once. One that expired so long ago that the 32-bit register
// would have wrapped stays negative, and one too far ahead waits the longest DEC can.
inline void dec_load(u64 expiry) {
    using namespace dec_detail;
    const auto close = [expiry] {
        const i64 late = static_cast<i64>(dec_expiry_now() - expiry);
        return late >= -static_cast<i64>(kTightTicks) && late <= static_cast<i64>(kTightTicks);
    };
    if (close()) return; // the CPU's DEC counts to it already: a write would only add error
    for (int i = 0; i < kTries; ++i) {
        i64 left = static_cast<i64>(expiry - timebase());
        const bool exact = left <= kDecMax && left >= -kDecMax;
        if (left > kDecMax) left = kDecMax;
        if (left < -kDecMax) left = -1;
        if (left < kDecMin) mtspr<Spr::DEC>(static_cast<u64>(kDecMin));
        mtspr<Spr::DEC>(static_cast<u64>(left));
        if (!exact || close()) return;
    }
}

} // namespace tessera::arch
