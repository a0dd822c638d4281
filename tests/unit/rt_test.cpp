// The freestanding runtime: memory/string primitives and the printf-style formatter.
#include "common/rt/format.hpp"
#include "common/rt/new.hpp"
#include "common/rt/string.hpp"

#include <climits>
#include <cstdio>
#include <cstring>
#include <doctest/doctest.h>
#include <string>

using namespace tessera;

namespace {
std::string fmt(const char* f, auto... args) {
    char buf[256];
    usize n = rt::format(buf, sizeof(buf), f, args...);
    REQUIRE(n < sizeof(buf));
    return std::string(buf, n);
}
} // namespace

TEST_CASE("mem_copy, mem_set and mem_compare behave like their C counterparts") {
    unsigned char a[32], b[32];
    for (int i = 0; i < 32; ++i) a[i] = static_cast<unsigned char>(i * 7);
    CHECK(rt::mem_copy(b, a, 32) == b);
    CHECK(std::memcmp(a, b, 32) == 0);
    CHECK(rt::mem_compare(a, b, 32) == 0);
    b[31] = 0xff;
    CHECK(rt::mem_compare(a, b, 32) < 0);
    CHECK(rt::mem_compare(b, a, 32) > 0);
    CHECK(rt::mem_compare(a, b, 0) == 0);
    rt::mem_set(b, 0xab, 5);
    for (int i = 0; i < 5; ++i) CHECK(b[i] == 0xab);
    CHECK(b[5] == a[5]);
    CHECK(rt::mem_find(a, a[9], 32) == &a[9]);
    CHECK(rt::mem_find(a, 0xfe, 32) == nullptr);
}

TEST_CASE("mem_move handles both overlap directions") {
    char s[] = "0123456789";
    rt::mem_move(s + 2, s, 5);
    CHECK(std::string(s) == "0101234789");
    char t[] = "0123456789";
    rt::mem_move(t, t + 3, 5);
    CHECK(std::string(t) == "3456756789");
}

TEST_CASE("string primitives") {
    CHECK(rt::str_length("") == 0);
    CHECK(rt::str_length("tessera") == 7);
    CHECK(rt::str_length_max("tessera", 3) == 3);
    CHECK(rt::str_length_max("ab", 10) == 2);
    CHECK(rt::str_compare("abc", "abc") == 0);
    CHECK(rt::str_compare("abc", "abd") < 0);
    CHECK(rt::str_compare("ab", "abc") < 0);
    CHECK(rt::str_compare("\xff", "a") > 0); // compared as unsigned char
    CHECK(rt::str_compare_n("abcX", "abcY", 3) == 0);
    const char* s = "a/b/c";
    CHECK(rt::str_find(s, '/') == s + 1);
    CHECK(rt::str_find_last(s, '/') == s + 3);
    CHECK(rt::str_find(s, 'z') == nullptr);
    CHECK(rt::str_find(s, '\0') == s + 5);
    char small[4];
    CHECK(rt::str_copy(small, "overflow", sizeof(small)) == 8);
    CHECK(std::string(small) == "ove");
}

TEST_CASE("str_to_ulong parses like strtoul") {
    char* end = nullptr;
    CHECK(rt::str_to_ulong("  42xyz", &end, 10) == 42);
    CHECK(std::string(end) == "xyz");
    CHECK(rt::str_to_ulong("0x1F", &end, 0) == 31);
    CHECK(rt::str_to_ulong("017", &end, 0) == 15);
    CHECK(rt::str_to_ulong("ff", &end, 16) == 255);
    const char* none = "zz";
    CHECK(rt::str_to_ulong(none, &end, 10) == 0);
    CHECK(end == none); // nothing parsed: end points at the start
    CHECK(rt::str_to_ulong("99999999999999999999999", &end, 10) == ULONG_MAX);
    CHECK(rt::str_to_ulong("0x", &end, 0) == 0);
    CHECK(std::string(end) == "x");
}

TEST_CASE("format: integers, widths, flags and length modifiers") {
    CHECK(fmt("%d %i %u", -5, 7, 3u) == "-5 7 3");
    CHECK(fmt("%5d|%-5d|%05d", 42, 42, 42) == "   42|42   |00042");
    CHECK(fmt("%x %X %#x %o", 255u, 255u, 255u, 8u) == "ff FF 0xff 10");
    CHECK(fmt("%llu", 18446744073709551615ull) == "18446744073709551615");
    CHECK(fmt("%lld", static_cast<long long>(LLONG_MIN)) == "-9223372036854775808");
    CHECK(fmt("%zu %zx", static_cast<size_t>(12), static_cast<size_t>(0xabc)) == "12 abc");
    CHECK(fmt("%hhu", 300) == "44");
    CHECK(fmt("%+d % d", 3, 3) == "+3  3");
    CHECK(fmt("%.3d", 7) == "007");
    CHECK(fmt("%*d", 4, 1) == "   1");
    CHECK(fmt("%08llx", 0x1234ull) == "00001234");
}

TEST_CASE("format: strings, chars, pointers, percent and unknown conversions") {
    CHECK(fmt("%s|%5s|%-5s|%.2s", "ab", "ab", "ab", "abcdef") == "ab|   ab|ab   |ab");
    CHECK(fmt("%s", static_cast<const char*>(nullptr)) == "(null)");
    CHECK(fmt("%c%c", 'o', 'k') == "ok");
    CHECK(fmt("100%%") == "100%");
    CHECK(fmt("%q") == "%q");
    CHECK(fmt("%p", reinterpret_cast<void*>(0x1000)) == "0x1000");
}

TEST_CASE("format: %.*s reads no further than the precision (an unterminated string)") {
    // Found by tests/fuzz/lpar_config: the config parser echoes "%.*s" slices of the text, and
    // a slice at the very end of the text has no terminator behind it.
    auto* text = new char[3]{'a', 'b', 'c'};
    CHECK(fmt("%.*s|%.2s", 3, text, text) == "abc|ab");
    delete[] text;
}

TEST_CASE("format: truncation keeps a terminator and reports the full length") {
    char buf[8];
    usize n = rt::format(buf, sizeof(buf), "%s", "0123456789");
    CHECK(n == 10);
    CHECK(std::string(buf) == "0123456");
    CHECK(rt::format(nullptr, 0, "%d", 12345) == 5);
    char one[1] = {'x'};
    CHECK(rt::format(one, 1, "abc") == 3);
    CHECK(one[0] == '\0');
}

TEST_CASE("placement new constructs in the given storage") {
    struct Point {
        int x, y;
    };
    alignas(Point) unsigned char storage[sizeof(Point)];
    auto* p = new (storage) Point{3, 4};
    CHECK(static_cast<void*>(p) == storage);
    CHECK(p->x + p->y == 7);
}

TEST_CASE("mem_copy and mem_set are exact at every alignment and length") {
    unsigned char src[80], dst[80], ref[80];
    for (int i = 0; i < 80; ++i) src[i] = static_cast<unsigned char>(i * 13 + 1);
    for (usize so = 0; so < 8; ++so)
        for (usize doff = 0; doff < 8; ++doff)
            for (usize n = 0; n < 40; ++n) {
                std::memset(dst, 0x5a, sizeof(dst));
                std::memset(ref, 0x5a, sizeof(ref));
                std::memcpy(ref + doff, src + so, n);
                rt::mem_copy(dst + doff, src + so, n);
                REQUIRE(std::memcmp(dst, ref, sizeof(dst)) == 0);
                std::memset(ref + doff, 0xc3, n);
                rt::mem_set(dst + doff, 0xc3, n);
                REQUIRE(std::memcmp(dst, ref, sizeof(dst)) == 0);
            }
}
