#include "hcall/page.hpp"

#include <doctest/doctest.h>

#include <vector>

#include "tests/fake/arch_fake.hpp"
#include "tests/fake/memory_lpar.hpp"

using namespace tessera;
using namespace tessera::hcall;
using namespace tessera::hcall::page_init;

namespace {

constexpr u64 kLparBytes = 2 * kChunkSize; // pages on both sides of a chunk boundary

struct Guest : test::MemoryLpar {
    Guest() : MemoryLpar(1, kLparBytes) { start(); }
    Ret call(u64 flags, u64 dest, u64 src = 0) {
        Env env{*lpar, lpar->vcpus[0]};
        Frame f;
        f.opcode = H_PAGE_INIT;
        f.args[0] = flags;
        f.args[1] = dest;
        f.args[2] = src;
        return dispatch(env, f);
    }
    void fill(u64 at, u8 v, u64 len = kPageSize) {
        REQUIRE(lpar->memory.fill(LogicalAddr(at), v, len));
    }
    std::vector<u8> read(u64 at, u64 len = kPageSize) {
        std::vector<u8> b(len);
        REQUIRE(lpar->memory.copy_out(b.data(), LogicalAddr(at), len));
        return b;
    }
};

bool all(const std::vector<u8>& b, u8 v) {
    for (u8 x : b)
        if (x != v) return false;
    return true;
}

} // namespace

TEST_CASE("H_PAGE_INIT zeroes a page and only that page") {
    Guest g;
    g.fill(0x3000, 0xaa, 3 * kPageSize);
    CHECK(g.call(kZeroPage, 0x4000) == H_SUCCESS);
    CHECK(all(g.read(0x4000), 0));
    CHECK(all(g.read(0x3000), 0xaa));
    CHECK(all(g.read(0x5000), 0xaa));
}

TEST_CASE("H_PAGE_INIT copies a page, also across a chunk boundary; copy wins over zero") {
    Guest g;
    std::vector<u8> pattern(kPageSize);
    for (usize i = 0; i < pattern.size(); ++i) pattern[i] = static_cast<u8>(i * 7 + 1);
    REQUIRE(g.lpar->memory.copy_in(LogicalAddr(kChunkSize - kPageSize), pattern.data(), kPageSize));
    CHECK(g.call(kCopyPage, kChunkSize + 0x8000, kChunkSize - kPageSize) == H_SUCCESS);
    CHECK(g.read(kChunkSize + 0x8000) == pattern);
    CHECK(g.call(kCopyPage | kZeroPage, 0x1000, kChunkSize - kPageSize) == H_SUCCESS);
    CHECK(g.read(0x1000) == pattern);
    CHECK(g.call(kCopyPage, 0x1000, 0x1000) == H_SUCCESS); // onto itself: unchanged
    CHECK(g.read(0x1000) == pattern);
}

TEST_CASE("H_PAGE_INIT makes the instruction cache coherent only when asked") {
    Guest g;
    const unsigned before = fake::icache_syncs;
    CHECK(g.call(kZeroPage, 0x2000) == H_SUCCESS);
    CHECK(fake::icache_syncs == before);
    CHECK(g.call(kZeroPage | kIcacheSynchronize, 0x2000) == H_SUCCESS);
    CHECK(fake::icache_syncs == before + 1);
    CHECK(fake::icache_synced_at == g.lpar->memory.host_ptr(LogicalAddr(0x2000), kPageSize));
    CHECK(fake::icache_synced_len == kPageSize);
    CHECK(g.call(kIcacheInvalidate, 0x2000) == H_SUCCESS); // no zero, no copy: just the cache
    CHECK(fake::icache_syncs == before + 2);
}

TEST_CASE("H_PAGE_INIT refuses bad flags and pages outside the LPAR, writing nothing") {
    Guest g;
    g.fill(0x6000, 0x55);
    CHECK(g.call(kZeroPage | 1, 0x6000) == H_PARAMETER);
    CHECK(g.call(u64{1} << 63, 0x6000) == H_PARAMETER);
    CHECK(g.call(kZeroPage, 0x6008) == H_PARAMETER);     // misaligned
    CHECK(g.call(kZeroPage, kLparBytes) == H_PARAMETER); // just past the end
    CHECK(g.call(kZeroPage, ~u64{0} & ~(kPageSize - 1)) == H_PARAMETER);
    CHECK(g.call(kCopyPage, 0x6000, kLparBytes) == H_PARAMETER); // source outside
    CHECK(g.call(kCopyPage, 0x6000, 0x1008) == H_PARAMETER);     // source misaligned
    CHECK(g.call(kCopyPage, kLparBytes + kPageSize, 0x1000) == H_PARAMETER);
    CHECK(all(g.read(0x6000), 0x55));
    CHECK(g.lpar->is_live());
}
