#include "common/wall_clock.hpp"

#include <doctest/doctest.h>

#include "tests/fake/plat_fake.hpp"

using namespace tessera;

namespace {

// Restores the machine clock's default (no RTC) when a test ends.
struct RtcGuard {
    explicit RtcGuard(u64 seconds) {
        fake::rtc_present = true;
        fake::rtc_seconds = seconds;
        wall_clock::init();
    }
    ~RtcGuard() {
        fake::rtc_present = false;
        wall_clock::init();
    }
};

} // namespace

TEST_CASE("wall clock: seconds_of inverts date_of, day by day over four centuries") {
    for (u64 s = 0; s < 146097ull * 86400; s += 86400 + 3661) {
        const Date d = date_of(s);
        REQUIRE(valid_date(d));
        REQUIRE(seconds_of(d) == s);
    }
}

TEST_CASE("wall clock: valid dates") {
    CHECK(valid_date({1970, 1, 1, 0, 0, 0}));
    CHECK(valid_date({2000, 2, 29, 23, 59, 59})); // divisible by 400: leap
    CHECK(valid_date({2024, 2, 29, 0, 0, 0}));
    CHECK_FALSE(valid_date({2100, 2, 29, 0, 0, 0})); // divisible by 100: not leap
    CHECK_FALSE(valid_date({2026, 2, 29, 0, 0, 0}));
    CHECK_FALSE(valid_date({1969, 12, 31, 23, 59, 59}));
    CHECK_FALSE(valid_date({2026, 0, 1, 0, 0, 0}));
    CHECK_FALSE(valid_date({2026, 13, 1, 0, 0, 0}));
    CHECK_FALSE(valid_date({2026, 4, 31, 0, 0, 0}));
    CHECK_FALSE(valid_date({2026, 4, 0, 0, 0, 0}));
    CHECK_FALSE(valid_date({2026, 4, 1, 24, 0, 0}));
    CHECK_FALSE(valid_date({2026, 4, 1, 0, 60, 0}));
    CHECK_FALSE(valid_date({2026, 4, 1, 0, 0, 60}));
    CHECK_FALSE(valid_date({0xffff'ffff, 1, 1, 0, 0, 0}));
}

TEST_CASE("wall clock: the machine's time comes from the RTC when there is one") {
    {
        const u64 rtc = seconds_of({2026, 12, 2, 6, 30, 0});
        RtcGuard guard(rtc);
        CHECK(wall_clock::from_rtc());
        const WallClock now = wall_clock::now();
        CHECK(now.seconds >= rtc);
        CHECK(now.seconds < rtc + 60); // the fake timebase barely moves
    }
    CHECK_FALSE(wall_clock::from_rtc());
    CHECK(wall_clock::now().seconds >= kDefaultEpoch);
}

TEST_CASE("wall clock: offsets in nanoseconds, both ways, saturating at the epoch") {
    const WallClock t{1000, 900'000'000};
    const WallClock a = wall_clock::shifted(t, 200'000'000);
    CHECK(a.seconds == 1001);
    CHECK(a.nanoseconds == 100'000'000);
    const WallClock b = wall_clock::shifted(t, -1'950'000'000);
    CHECK(b.seconds == 998);
    CHECK(b.nanoseconds == 950'000'000);
    const WallClock c = wall_clock::shifted(t, -2'000'000'000'000);
    CHECK(c.seconds == 0);
    CHECK(c.nanoseconds == 0);
    CHECK(wall_clock::difference_ns(t, a) == 200'000'000);
    CHECK(wall_clock::difference_ns(a, t) == -200'000'000);
    CHECK(wall_clock::difference_ns(b, t) == 1'950'000'000);
    // Round trip: shifting by the difference lands on the target.
    const WallClock far{4'000'000'000, 1};
    const WallClock back = wall_clock::shifted(t, wall_clock::difference_ns(t, far));
    CHECK(back.seconds == far.seconds);
    CHECK(back.nanoseconds == far.nanoseconds);
}
