// When a vcpu needs a time slice at all (common/slice.hpp).
#include "common/slice.hpp"

#include <doctest/doctest.h>

using namespace tessera;

TEST_CASE("slice_need: a vcpu no other one contends with runs until the housekeeping is due") {
    const SliceNeed n = slice_need(1000, 0, 10000);
    CHECK(n.ticks == 10000);
    CHECK(n.extended);
}

TEST_CASE("slice_need: another vcpu that may want the CPU keeps the time slice") {
    const SliceNeed n = slice_need(1000, 1, 10000);
    CHECK(n.ticks == 1000);
    CHECK_FALSE(n.extended);
    CHECK(slice_need(1000, 7, 10000).ticks == 1000);
}

TEST_CASE("slice_need: never shorter than the time slice") {
    CHECK(slice_need(1000, 0, 500).ticks == 1000);
    CHECK_FALSE(slice_need(1000, 0, 500).extended);
    CHECK(slice_need(1000, 0, 1000).ticks == 1000);
    CHECK_FALSE(slice_need(1000, 0, 1000).extended);
}
