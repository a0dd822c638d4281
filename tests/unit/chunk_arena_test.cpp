#include "common/chunk_arena.hpp"

#include <doctest/doctest.h>

#include <cstring>
#include <memory>
#include <vector>

using namespace tessera;

namespace {

constexpr u64 C = kChunkSize;

// `chunks` chunks of fake real memory at real 1 GiB, every byte 0xAA at power-on.
struct FakeRam {
    static constexpr u64 kBase = 1 * GiB;
    std::vector<u8> mem;
    std::unique_ptr<ChunkPool> pool = std::make_unique<ChunkPool>();
    explicit FakeRam(usize chunks) : mem(chunks * C, 0xAA) {
        RealRange ram{RealAddr(kBase), chunks * C};
        RealWindow w{reinterpret_cast<uptr>(mem.data()), RealAddr(kBase), mem.size()};
        REQUIRE(pool->init(&ram, 1, nullptr, 0, w));
    }
};

bool all_zero(const void* p, usize n) {
    const auto* b = static_cast<const u8*>(p);
    for (usize i = 0; i < n; ++i)
        if (b[i] != 0) return false;
    return true;
}

} // namespace

TEST_CASE("the arena takes a chunk for its first table and gives it back with its last") {
    FakeRam ram(3);
    ChunkPool& pool = *ram.pool;
    auto arena = std::make_unique<ChunkArena>();
    RealAddr a, b;
    void* pa = arena->allocate(pool, 18, &a); // 256 KiB
    REQUIRE(pa != nullptr);
    CHECK(pool.free_count() == 2);
    CHECK(pool.hypervisor_count() == 1);
    CHECK(pool.owner(pool.find(a)) == kChunkHypervisor);
    CHECK(all_zero(pa, 256 * KiB));
    void* pb = arena->allocate(pool, 22, &b); // 4 MiB: the same chunk, aligned to 4 MiB
    REQUIRE(pb != nullptr);
    CHECK(pool.find(b) == pool.find(a));
    CHECK(b.value() % (4 * MiB) == 0);
    CHECK(b != a);
    CHECK(all_zero(pb, 4 * MiB));
    CHECK(arena->use().chunks == 1);
    CHECK(arena->use().bytes == 256 * KiB + 4 * MiB);
    std::memset(pb, 0x55, 4 * MiB); // a table's entries: real addresses of its LPAR
    CHECK(arena->free(pool, b, 22));
    CHECK_FALSE(arena->free(pool, b, 22)); // twice
    CHECK(pool.hypervisor_count() == 1);   // a still in it
    RealAddr c;
    void* pc = arena->allocate(pool, 22, &c); // the same block again: zeroed for its new table
    REQUIRE(pc != nullptr);
    CHECK(c == b);
    CHECK(all_zero(pc, 4 * MiB));
    CHECK(arena->free(pool, c, 22));
    CHECK(arena->free(pool, a, 18));
    CHECK(pool.hypervisor_count() == 0);
    CHECK(pool.free_count() == 3);
    CHECK(arena->use().chunks == 0);
    CHECK(arena->use().chunks_most == 1);
    CHECK(arena->use().bytes == 0);
    CHECK(arena->use().tables == 3);
    const u32 idx = pool.find(a);
    CHECK(pool.is_clean(idx)); // scrubbed as it went back
    CHECK(all_zero(ram.mem.data() + (pool.base(idx).value() - FakeRam::kBase), C));
}

TEST_CASE("the arena packs tables by alignment, takes more chunks, and refuses what it cannot") {
    FakeRam ram(2);
    ChunkPool& pool = *ram.pool;
    auto arena = std::make_unique<ChunkArena>();
    RealAddr r;
    CHECK(arena->allocate(pool, 17, &r) == nullptr); // below 256 KiB
    CHECK(arena->allocate(pool, 25, &r) == nullptr); // above one chunk
    CHECK(arena->allocate(pool, 18, nullptr) == nullptr);
    std::vector<RealAddr> small;
    for (int i = 0; i < 64; ++i) { // one chunk of 256 KiB tables
        REQUIRE(arena->allocate(pool, 18, &r) != nullptr);
        small.push_back(r);
    }
    CHECK(pool.hypervisor_count() == 1);
    REQUIRE(arena->allocate(pool, 24, &r) != nullptr); // a whole chunk: the second one
    CHECK(r.value() % C == 0);
    CHECK(pool.hypervisor_count() == 2);
    CHECK(arena->allocate(pool, 18, &r) == nullptr);                       // the pool is empty
    CHECK_FALSE(arena->free(pool, RealAddr(small[1].value() + 4096), 18)); // not a block start
    CHECK_FALSE(arena->free(pool, small[0], 19)); // 512 KiB at 0: only half of it handed out
    CHECK_FALSE(arena->free(pool, RealAddr(FakeRam::kBase + 8 * C), 18)); // not the pool's
    for (RealAddr s : small) CHECK(arena->free(pool, s, 18));
    CHECK(pool.hypervisor_count() == 1);
    CHECK(pool.free_count() == 1);
}

TEST_CASE("the machine's pool reports what LPARs can hold without the hypervisor's chunks") {
    FakeRam ram(4);
    ChunkPool& pool = *ram.pool;
    auto arena = std::make_unique<ChunkArena>();
    RealAddr r;
    REQUIRE(arena->allocate(pool, 20, &r) != nullptr);
    CHECK(pool.total() == 4);
    CHECK(pool.total() - pool.hypervisor_count() == 3);
    CHECK(pool.free_count() == 3);
    CHECK(pool.release(pool.find(r), 1) == ChunkStatus::NotOwner); // not an LPAR's to give back
    CHECK(arena->free(pool, r, 20));
}
