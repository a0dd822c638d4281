#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "common/vty.hpp"

using namespace tessera;
using namespace tessera::hcall;

namespace {
const u8* bytes(const char* s) {
    return reinterpret_cast<const u8*>(s);
}

std::string drain(vty::Terminal& t) {
    std::string s;
    u8 buf[64];
    while (usize n = t.take_output(buf, sizeof(buf))) s.append(reinterpret_cast<char*>(buf), n);
    return s;
}
} // namespace

TEST_CASE("vty: default terminal number is the pseries unit address, configurable") {
    vty::Terminal t;
    CHECK(t.termno() == 0x30000000);
    vty::Terminal u(0x30000001);
    CHECK(u.termno() == 0x30000001);
    t.set_termno(0x1234);
    CHECK(t.termno() == 0x1234);
    CHECK(t.put(0x1234, bytes("x"), 1) == H_SUCCESS);
    CHECK(t.put(0x30000000, bytes("y"), 1) == H_PARAMETER);
    CHECK(drain(t) == "x");
}

TEST_CASE("vty: put queues output in order") {
    vty::Terminal t;
    CHECK(t.put(vty::kDefaultTermno, bytes("hello, "), 7) == H_SUCCESS);
    CHECK(t.put(vty::kDefaultTermno, bytes("world\n"), 6) == H_SUCCESS);
    CHECK(t.pending_output() == 13);
    CHECK(drain(t) == "hello, world\n");
    CHECK(t.pending_output() == 0);
}

TEST_CASE("vty: put accepts 0 and 16 bytes, refuses 17 and huge lengths") {
    vty::Terminal t;
    const u8 sixteen[17] = "0123456789abcdef";
    CHECK(t.put(vty::kDefaultTermno, nullptr, 0) == H_SUCCESS);
    CHECK(t.put(vty::kDefaultTermno, sixteen, 16) == H_SUCCESS);
    CHECK(t.put(vty::kDefaultTermno, sixteen, 17) == H_PARAMETER);
    CHECK(t.put(vty::kDefaultTermno, sixteen, ~u64{0}) == H_PARAMETER);
    CHECK(t.put(vty::kDefaultTermno, sixteen, u64{1} << 32) == H_PARAMETER);
    CHECK(drain(t) == "0123456789abcdef");
}

TEST_CASE("vty: wrong terminal numbers are refused and change nothing") {
    vty::Terminal t;
    t.feed(bytes("in"), 2);
    for (u64 bad : {u64{0}, u64{0x30000001}, u64{0x2FFFFFFF}, u64{0xFFFFFFFF30000000},
                    u64{0x130000000}, ~u64{0}}) {
        CAPTURE(bad);
        CHECK(t.put(bad, bytes("x"), 1) == H_PARAMETER);
        u8 out[16];
        usize count = 99;
        CHECK(t.get(bad, out, sizeof(out), count) == H_PARAMETER);
        CHECK(count == 0);
    }
    CHECK(t.pending_output() == 0);
    CHECK(t.pending_input() == 2);
}

TEST_CASE("vty: get returns at most 16 bytes per call, then 0") {
    vty::Terminal t;
    std::string in = "abcdefghijklmnopqrstuvwxyz";
    CHECK(t.feed(bytes(in.c_str()), in.size()) == in.size());
    u8 out[32];
    usize count = 0;
    CHECK(t.get(vty::kDefaultTermno, out, sizeof(out), count) == H_SUCCESS);
    CHECK(count == 16);
    CHECK(std::string(reinterpret_cast<char*>(out), count) == "abcdefghijklmnop");
    CHECK(t.get(vty::kDefaultTermno, out, 4, count) == H_SUCCESS);
    CHECK(std::string(reinterpret_cast<char*>(out), count) == "qrst");
    CHECK(t.get(vty::kDefaultTermno, out, sizeof(out), count) == H_SUCCESS);
    CHECK(std::string(reinterpret_cast<char*>(out), count) == "uvwxyz");
    CHECK(t.get(vty::kDefaultTermno, out, sizeof(out), count) == H_SUCCESS);
    CHECK(count == 0);
}

namespace {
// What Linux's hvc_vio does to each H_GET_TERM_CHAR batch: drop a NUL that follows a '\r'.
std::string hvc_vio_filter(std::string batch) {
    for (usize i = 1; i < batch.size(); ++i)
        if (batch[i] == '\0' && batch[i - 1] == '\r') batch.erase(i--, 1);
    return batch;
}
} // namespace

TEST_CASE("vty: get ends a batch before a NUL that follows a CR (hvc_vio keeps it)") {
    vty::Terminal t;
    const std::string in("a\r\0b\r\r\0\0\0\r\n\0xyzxyzxyzxyzxyz\r\0", 29);
    REQUIRE(t.feed(bytes(in.data()), in.size()) == in.size());
    std::vector<std::string> batches;
    std::string seen;
    u8 out[16];
    usize count = 0;
    while (t.get(vty::kDefaultTermno, out, sizeof(out), count) == H_SUCCESS && count > 0) {
        std::string batch(reinterpret_cast<char*>(out), count);
        batches.push_back(batch);
        seen += hvc_vio_filter(batch);
    }
    CHECK(seen == in); // every byte arrives, the NULs included
    REQUIRE(batches.size() >= 4);
    CHECK(batches[0] == std::string("a\r", 2));
    CHECK(batches[1] == std::string("\0b\r\r", 4));
    CHECK(batches[2].substr(0, 4) == std::string("\0\0\0\r", 4));
    // a NUL after anything else, or first in a batch, does not end it
    CHECK(batches[2].size() == 16);
    CHECK(t.pending_input() == 0);
}

TEST_CASE("vty: input and output overflow drop the newest bytes and count them") {
    vty::Terminal t;
    std::vector<u8> big(vty::kInputCapacity + 10, 'i');
    CHECK(t.feed(big.data(), big.size()) == vty::kInputCapacity);
    CHECK(t.dropped_input() == 10);

    const u8 chunk[16] = {};
    for (usize i = 0; i < vty::kOutputCapacity / 16; ++i)
        REQUIRE(t.put(vty::kDefaultTermno, chunk, 16) == H_SUCCESS);
    CHECK(t.dropped_output() == 0);
    CHECK(t.put(vty::kDefaultTermno, chunk, 5) == H_SUCCESS); // never blocks the guest
    CHECK(t.dropped_output() == 5);
    CHECK(t.pending_output() == vty::kOutputCapacity);

    t.reset();
    CHECK(t.pending_input() == 0);
    CHECK(t.pending_output() == 0);
    CHECK(t.dropped_input() == 0);
    CHECK(t.dropped_output() == 0);
    CHECK(t.termno() == vty::kDefaultTermno);
}

TEST_CASE("vty: a connected sink sees output at once; early output is flushed on connect") {
    vty::Terminal t;
    t.put(vty::kDefaultTermno, bytes("early "), 6);
    std::string seen;
    int calls = 0;
    struct Ctx {
        std::string* seen;
        int* calls;
    } ctx{&seen, &calls};
    t.connect(
        [](void* c, vty::Terminal& term) {
            auto& x = *static_cast<Ctx*>(c);
            ++*x.calls;
            *x.seen += drain(term);
        },
        &ctx);
    CHECK(calls == 1);
    CHECK(seen == "early ");
    CHECK(t.connected());
    t.put(vty::kDefaultTermno, bytes("late"), 4);
    CHECK(calls == 2);
    CHECK(seen == "early late");
    t.put(vty::kDefaultTermno, bytes("x"), 17); // refused: no sink call
    CHECK(calls == 2);
    t.disconnect();
    CHECK_FALSE(t.connected());
    t.put(vty::kDefaultTermno, bytes("after"), 5);
    CHECK(calls == 2);
    CHECK(t.pending_output() == 5);
}
