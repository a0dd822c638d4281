// The HDEC cap for an interrupt that waits for MSR[EE] (isa/ppc64/mer.hpp).
#include "isa/ppc64/mer.hpp"

#include <doctest/doctest.h>

using namespace tessera;
using namespace tessera::arch;

TEST_CASE("ppc64 MER poll: HDEC is capped only while an interrupt waits for MSR[EE]") {
    constexpr u64 kMax = 0x7fffffff;
    const u64 poll = mer_poll_ticks(512000000);
    CHECK(poll == 512 * kMerPollUs);
    bool capped = true;
    CHECK(hdec_ticks(51200000, kMax, false, poll, capped) == 51200000); // a 100 ms slice
    CHECK_FALSE(capped);
    CHECK(hdec_ticks(51200000, kMax, true, poll, capped) == poll);
    CHECK(capped);
    // The slice ends before the poll would: a slice end, not a poll.
    CHECK(hdec_ticks(poll - 1, kMax, true, poll, capped) == poll - 1);
    CHECK_FALSE(capped);
    CHECK(hdec_ticks(u64{1} << 40, kMax, false, poll, capped) == kMax);
    CHECK_FALSE(capped);
}

TEST_CASE("ppc64 MER poll: a slow timebase still polls at least every tick") {
    CHECK(mer_poll_ticks(1000) == 1);
    CHECK(mer_poll_ticks(1000000) == kMerPollUs);
}
