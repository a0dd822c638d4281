// The TSC's rate, measured against the 8254 PIT's channel 2.
//
// Each reading of the PIT is bracketed by two TSC reads: the latch command (an I/O write, which
// under QEMU may wait for the emulator's big lock, for anything from a microsecond to
// milliseconds) happens somewhere between them. Of several tries at each end of an interval
// the narrowest bracket is kept, and the rate is the TSC ticks between the two brackets'
// middles over the PIT ticks between the two counts. Waiting for the PIT's output to change
// instead (one read after the other until it does) measured every delay of the last read as
// time: under QEMU on a busy host that put the rate 0.3-1.3 % high, and the LPARs' clocks as
// much slow.
//
// Pure logic over the two port operations, so that the host tests (tests/unit/pc/) can give it
// a PIT of their own; plat/pc/timer.cpp gives it the real ports.
#pragma once

#include <tessera/types.hpp>

namespace tessera::pc::pit {

inline constexpr u64 kHz = 1193182; // the PIT's input clock

// Channel 2, counting down in mode 0 (loaded with 0xffff it wraps only after 55 ms).
struct Channel {
    u64 (*tsc)(void* ctx);          // reads the TSC
    void (*latch)(void* ctx);       // latches channel 2's count
    u16 (*read_latched)(void* ctx); // reads the latched count
    void* ctx;
};

struct Sample {
    u64 tsc_mid = 0; // the middle of the bracket
    u64 width = 0;   // the bracket's width, TSC ticks
    u16 count = 0;   // the count latched within it
};

// One reading of the count, bracketed.
Sample sample(const Channel& ch);

// Of `tries` readings, the one with the narrowest bracket.
Sample best_sample(const Channel& ch, u32 tries);

struct Result {
    u64 tsc_hz = 0;      // 0: the PIT did not count (or wrapped): no measurement
    u64 uncertainty = 0; // parts per million the brackets leave open
};

// Measures over at least `span` PIT ticks (below 65536 - 1000: the count must not wrap), the
// channel counting down from where it is. `max_polls` bounds the wait for a PIT that does not
// count.
Result measure(const Channel& ch, u32 span, u32 max_polls);

} // namespace tessera::pc::pit
