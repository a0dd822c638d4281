#include "common/wall_clock.hpp"

#include <tessera/arch.hpp>

namespace tessera {
namespace {

constexpr u64 kNsPerSecond = 1'000'000'000;
constexpr i64 kNs = 1'000'000'000;

// The anchor: the RTC's reading and the timebase at that moment.
constinit u64 anchor_seconds = kDefaultEpoch;
constinit u64 anchor_tb = 0;
constinit bool have_rtc = false;

bool leap(u32 y) {
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

u32 days_in_month(u32 y, u32 m) {
    constexpr u8 kDays[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return m == 2 && leap(y) ? 29 : kDays[m - 1];
}

} // namespace

Date date_of(u64 seconds) {
    // Days to civil date: H. Hinnant's algorithm, on unsigned days since 1970-01-01.
    const u64 days = seconds / 86400, rem = seconds % 86400;
    const u64 z = days + 719468; // days since 0000-03-01
    const u64 era = z / 146097;
    const u64 doe = z - era * 146097;                                      // [0, 146096]
    const u64 yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365; // [0, 399]
    const u64 doy = doe - (365 * yoe + yoe / 4 - yoe / 100);               // [0, 365]
    const u64 mp = (5 * doy + 2) / 153;                                    // [0, 11], March = 0
    Date d;
    d.day = static_cast<u32>(doy - (153 * mp + 2) / 5 + 1);
    d.month = static_cast<u32>(mp < 10 ? mp + 3 : mp - 9);
    d.year = static_cast<u32>(yoe + era * 400 + (d.month <= 2 ? 1 : 0));
    d.hour = static_cast<u32>(rem / 3600);
    d.minute = static_cast<u32>(rem % 3600 / 60);
    d.second = static_cast<u32>(rem % 60);
    return d;
}

bool valid_date(const Date& d) {
    return d.year >= 1970 && d.year <= 9999 && d.month >= 1 && d.month <= 12 && d.day >= 1 &&
           d.day <= days_in_month(d.year, d.month) && d.hour < 24 && d.minute < 60 && d.second < 60;
}

u64 seconds_of(const Date& d) {
    // Civil date to days since 1970-01-01: the inverse of date_of's algorithm.
    const u64 y = d.month <= 2 ? d.year - 1 : d.year;
    const u64 era = y / 400;
    const u64 yoe = y - era * 400;                          // [0, 399]
    const u64 mp = d.month > 2 ? d.month - 3 : d.month + 9; // March = 0
    const u64 doy = (153 * mp + 2) / 5 + d.day - 1;         // [0, 365]
    const u64 doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;  // [0, 146096]
    const u64 days = era * 146097 + doe - 719468;
    return days * 86400 + u64{d.hour} * 3600 + u64{d.minute} * 60 + d.second;
}

namespace wall_clock {

void init() {
    u64 seconds = 0;
    have_rtc = plat::rtc_read(seconds);
    anchor_seconds = have_rtc ? seconds : kDefaultEpoch;
    anchor_tb = have_rtc ? arch::timebase() : 0;
}

bool from_rtc() {
    return have_rtc;
}

WallClock now() {
    const u64 hz = plat::timebase_hz();
    if (hz == 0) return WallClock{anchor_seconds, 0};
    const u64 tb = arch::timebase() - anchor_tb;
    // tb % hz < hz, and timebases run well below 2^34 Hz: the product fits in 64 bits.
    return WallClock{anchor_seconds + tb / hz, static_cast<u32>((tb % hz) * kNsPerSecond / hz)};
}

WallClock shifted(WallClock t, i64 offset_ns) {
    i64 s = offset_ns / kNs;
    i64 ns = static_cast<i64>(t.nanoseconds) + offset_ns % kNs;
    if (ns < 0) {
        ns += kNs;
        --s;
    } else if (ns >= kNs) {
        ns -= kNs;
        ++s;
    }
    if (s < 0 && static_cast<u64>(-s) > t.seconds) return WallClock{0, 0};
    return WallClock{t.seconds + static_cast<u64>(s), static_cast<u32>(ns)};
}

i64 difference_ns(WallClock a, WallClock b) {
    constexpr i64 kMaxSeconds = 9'000'000'000; // ~285 years: the result stays inside i64
    i64 ds = static_cast<i64>(b.seconds) - static_cast<i64>(a.seconds);
    if (ds > kMaxSeconds) ds = kMaxSeconds;
    if (ds < -kMaxSeconds) ds = -kMaxSeconds;
    return ds * kNs + (static_cast<i64>(b.nanoseconds) - static_cast<i64>(a.nanoseconds));
}

} // namespace wall_clock
} // namespace tessera
