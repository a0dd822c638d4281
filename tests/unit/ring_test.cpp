#include <doctest/doctest.h>

#include "common/lib/ring.hpp"

using tessera::u8;
using tessera::usize;
using tessera::lib::Ring;

TEST_CASE("ring: starts empty") {
    Ring<4> r;
    CHECK(r.empty());
    CHECK(r.size() == 0);
    CHECK(r.free() == 4);
    CHECK(Ring<4>::capacity() == 4);
    u8 b = 0x55;
    CHECK_FALSE(r.pop(b));
    CHECK(b == 0x55);
    CHECK_FALSE(r.peek(b));
    u8 out[4];
    CHECK(r.pop(out, 4) == 0);
}

TEST_CASE("ring: FIFO order and peek") {
    Ring<8> r;
    for (u8 i = 1; i <= 5; ++i) CHECK(r.push(i));
    CHECK(r.size() == 5);
    u8 b = 0;
    CHECK(r.peek(b));
    CHECK(b == 1);
    CHECK(r.peek(b, 4));
    CHECK(b == 5);
    CHECK_FALSE(r.peek(b, 5));
    CHECK(r.size() == 5); // peek removes nothing
    for (u8 i = 1; i <= 5; ++i) {
        REQUIRE(r.pop(b));
        CHECK(b == i);
    }
    CHECK(r.empty());
}

TEST_CASE("ring: wraps around many times") {
    Ring<5> r;
    u8 next_in = 0, next_out = 0;
    for (int round = 0; round < 100; ++round) {
        // push 3, pop 3: head walks around the buffer
        u8 in[3] = {next_in, static_cast<u8>(next_in + 1), static_cast<u8>(next_in + 2)};
        CHECK(r.push(in, 3) == 3);
        next_in = static_cast<u8>(next_in + 3);
        u8 out[3] = {};
        REQUIRE(r.pop(out, 3) == 3);
        for (u8 v : out) CHECK(v == next_out++);
    }
    CHECK(r.empty());
    CHECK(r.dropped() == 0);
}

TEST_CASE("ring: bulk pop across the wrap point") {
    Ring<4> r;
    const u8 a[3] = {1, 2, 3};
    r.push(a, 3);
    u8 b;
    r.pop(b);
    r.pop(b); // head at 2
    const u8 c[3] = {4, 5, 6};
    CHECK(r.push(c, 3) == 3); // 3,4,5,6 occupying slots 2,3,0,1
    CHECK(r.full());
    u8 out[8] = {};
    CHECK(r.pop(out, 8) == 4);
    CHECK(out[0] == 3);
    CHECK(out[1] == 4);
    CHECK(out[2] == 5);
    CHECK(out[3] == 6);
}

TEST_CASE("ring: overflow drops the newest bytes and counts them") {
    Ring<4> r;
    const u8 data[6] = {10, 11, 12, 13, 14, 15};
    CHECK(r.push(data, 6) == 4);
    CHECK(r.full());
    CHECK(r.free() == 0);
    CHECK(r.dropped() == 2);
    CHECK_FALSE(r.push(u8{99}));
    CHECK(r.dropped() == 3);
    u8 out[4];
    REQUIRE(r.pop(out, 4) == 4);
    CHECK(out[0] == 10); // the oldest bytes survive
    CHECK(out[3] == 13);
    CHECK(r.push(u8{20})); // room again
    CHECK(r.dropped() == 3);
    r.clear();
    CHECK(r.empty());
    CHECK(r.dropped() == 0);
}

TEST_CASE("ring: partial bulk pop leaves the rest in order") {
    Ring<16> r;
    const u8 data[10] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9};
    r.push(data, 10);
    u8 out[3];
    CHECK(r.pop(out, 3) == 3);
    CHECK(out[2] == 2);
    u8 b;
    r.pop(b);
    CHECK(b == 3);
    CHECK(r.size() == 6);
    CHECK(r.pop(out, 0) == 0);
    CHECK(r.size() == 6);
}

TEST_CASE("ring: usable in constant expressions") {
    constexpr usize n = [] {
        Ring<3> r;
        const u8 d[5] = {1, 2, 3, 4, 5};
        r.push(d, 5);
        u8 b = 0;
        r.pop(b);
        r.push(u8{7});
        return r.size() * 100 + static_cast<usize>(r.dropped()) * 10 + b;
    }();
    static_assert(n == 3 * 100 + 2 * 10 + 1);
    CHECK(n == 321);
}
