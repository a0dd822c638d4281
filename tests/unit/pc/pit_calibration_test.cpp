// The TSC's rate against the PIT (plat/pc/pit_calibration.cpp), over a simulated PIT and TSC
// whose I/O writes sometimes wait, as QEMU's do for its big lock on a busy host.
#include <doctest/doctest.h>

#include <initializer_list>

#include <plat/pit_calibration.hpp>

using namespace tessera;
using namespace tessera::pc;

namespace {

// Time in TSC ticks. Every operation takes some; a latch happens part-way through its write,
// and every `stall_every`-th write first waits `stall` ticks.
struct FakePit {
    u64 tsc_hz = 2'596'132'000;
    u64 now = 1'000'000; // TSC ticks
    u16 loaded = 0xffff; // the count written at tick `load_at`
    u64 load_at = 1'000'000;
    bool counting = true;
    u32 stall_every = 3;   // writes 0, 3, 6, ... wait
    u64 stall = 2'000'000; // 0.8 ms at 2.6 GHz
    u64 io = 3'000;        // an I/O access without a wait, about 1 us
    u32 writes = 0;
    u16 latched = 0;

    u16 count_now() const {
        if (!counting) return loaded;
        // PIT ticks since the load, rounded down as QEMU does from its clock.
        const unsigned __int128 ticks =
            static_cast<unsigned __int128>(now - load_at) * pit::kHz / tsc_hz;
        return static_cast<u16>(loaded - static_cast<u64>(ticks));
    }

    pit::Channel channel() {
        return {[](void* c) {
                    auto* p = static_cast<FakePit*>(c);
                    p->now += 20;
                    return p->now;
                },
                [](void* c) {
                    auto* p = static_cast<FakePit*>(c);
                    if (p->writes++ % p->stall_every == 0) p->now += p->stall; // the first one too
                    p->now += p->io / 2;
                    p->latched = p->count_now();
                    p->now += p->io / 2;
                },
                [](void* c) {
                    auto* p = static_cast<FakePit*>(c);
                    p->now += 2 * p->io;
                    return p->latched;
                },
                this};
    }
};

constexpr u32 kSpan = static_cast<u32>(pit::kHz * 30 / 1000);

double error_ppm(u64 measured, u64 truth) {
    return (static_cast<double>(measured) - static_cast<double>(truth)) * 1e6 /
           static_cast<double>(truth);
}

} // namespace

TEST_CASE("the narrowest bracket is kept") {
    FakePit pit;
    pit.stall_every = 2; // every other latch waits
    const pit::Sample s = pit::best_sample(pit.channel(), 8);
    CHECK(s.width < pit.stall);
    CHECK(s.width == pit.io + 20);
}

TEST_CASE("the rate comes out within what the brackets leave open, stalls or not") {
    for (const u64 hz : {1'000'000'000ull, 2'596'132'000ull, 3'500'000'000ull}) {
        for (const u32 every : {1'000'000u, 3u, 2u}) {
            FakePit pit;
            pit.tsc_hz = hz;
            pit.stall_every = every;
            CAPTURE(hz);
            CAPTURE(every);
            const pit::Result r = pit::measure(pit.channel(), kSpan, 1'000'000);
            REQUIRE(r.tsc_hz != 0);
            const double err = error_ppm(r.tsc_hz, hz);
            CHECK(err < static_cast<double>(r.uncertainty));
            CHECK(err > -static_cast<double>(r.uncertainty));
            // A few microseconds over 30 ms: well under 0.02 %.
            CHECK(r.uncertainty < 200);
        }
    }
}

TEST_CASE("a PIT that does not count gives no rate") {
    FakePit pit;
    pit.counting = false;
    CHECK(pit::measure(pit.channel(), kSpan, 10'000).tsc_hz == 0);
}

TEST_CASE("a count that wraps during the measurement gives no rate") {
    FakePit pit;
    pit.loaded = 2'000; // wraps after 2,000 ticks, before the span
    CHECK(pit::measure(pit.channel(), kSpan, 1'000'000).tsc_hz == 0);
}
