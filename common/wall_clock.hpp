// The machine's time of day: the platform's real-time clock, read once at boot, carried forward
// by the timebase. Every LPAR sees this clock plus its own offset (set-time-of-day moves only the
// caller's LPAR: one LPAR never changes another's clock or the machine's RTC).
#pragma once

#include <tessera/types.hpp>

namespace tessera {

struct WallClock {
    u64 seconds = 0; // since 1970-01-01T00:00:00Z
    u32 nanoseconds = 0;
};

struct Date {
    u32 year = 0;
    u32 month = 0; // 1..12
    u32 day = 0;   // 1..31
    u32 hour = 0;
    u32 minute = 0;
    u32 second = 0;
};

// Without a real-time clock the machine's time starts here: 2026-01-01T00:00:00Z.
inline constexpr u64 kDefaultEpoch = 1'767'225'600;

// The UTC calendar date of `seconds` since the epoch (proleptic Gregorian).
Date date_of(u64 seconds);
// Whether `d` is a real UTC date and time from 1970 on (a leap second's 60 is not).
bool valid_date(const Date& d);
// Seconds since the epoch of a valid date (valid_date(d)); the inverse of date_of.
u64 seconds_of(const Date& d);

namespace wall_clock {
// Reads the platform's RTC (plat::rtc_read) and anchors the clock to the timebase now. Without an
// RTC (or before init) the clock is kDefaultEpoch plus the time since boot.
void init();
// True when init() found a real-time clock.
bool from_rtc();
// The machine's time now.
WallClock now();
// Adds a signed number of nanoseconds to a time (saturating at the epoch).
WallClock shifted(WallClock t, i64 offset_ns);
// b - a in nanoseconds (saturating).
i64 difference_ns(WallClock a, WallClock b);
} // namespace wall_clock

} // namespace tessera
