#include "common/chunks.hpp"
#include "tests/fake/plat_fake.hpp"

#include <doctest/doctest.h>

#include <algorithm>
#include <atomic>
#include <cstring>
#include <memory>
#include <thread>
#include <vector>

using namespace tessera;

namespace {

constexpr u64 C = kChunkSize;

RealRange range(u64 base, u64 size) {
    return RealRange{RealAddr(base), size};
}

// `chunks` chunks of fake real memory at real address 1 GiB, seen through a window.
struct FakeRam {
    static constexpr u64 kBase = 1 * GiB;
    std::vector<u8> mem;
    std::unique_ptr<ChunkPool> pool = std::make_unique<ChunkPool>();

    explicit FakeRam(usize chunks, const std::vector<RealRange>& reserved = {})
        : mem(chunks * C, 0xAA) {
        RealRange ram = range(kBase, chunks * C);
        RealWindow w{reinterpret_cast<uptr>(mem.data()), RealAddr(kBase), mem.size()};
        REQUIRE(pool->init(&ram, 1, reserved.data(), reserved.size(), w));
    }
    u8* at(RealAddr ra) { return mem.data() + (ra.value() - kBase); }
};

} // namespace

TEST_CASE("chunk size is the 16 MiB large page") {
    CHECK(kChunkSize == 16 * MiB);
    CHECK(kChunkSize % (4 * MiB) == 0);
}

TEST_CASE("pool keeps only whole RAM chunks that overlap no reservation") {
    const RealRange ram[] = {
        range(0, 100 * MiB),             // chunks 0..5, the last 4 MiB are a partial chunk
        range(200 * MiB + 1, 100 * MiB), // unaligned: whole chunks 13..17
    };
    const RealRange reserved[] = {
        range(32 * MiB + 4 * KiB, 4 * KiB), // inside chunk 2
        range(64 * MiB - 1, 2),             // straddles chunks 3 and 4
        range(500 * MiB, 0),                // empty: ignored
    };
    ChunkPool pool;
    REQUIRE(pool.init(ram, 2, reserved, 3));
    CHECK(pool.count() == 11);
    CHECK(pool.reserved_count() == 4); // chunk 0 (vectors / BIOS area), 2, 3, 4
    CHECK(pool.total() == 7);
    CHECK(pool.free_count() == 7);
    CHECK(pool.dropped_over_capacity() == 0);
    CHECK(pool.dropped_outside_window() == 0);

    const u64 expect[] = {0, 1, 2, 3, 4, 5, 13, 14, 15, 16, 17};
    for (u32 i = 0; i < 11; ++i) CHECK(pool.base(i) == RealAddr(expect[i] * C));
    CHECK(pool.owner(0) == kChunkReserved);
    CHECK(pool.owner(1) == kChunkFree);
    CHECK(pool.owner(2) == kChunkReserved);
    CHECK(pool.owner(3) == kChunkReserved);
    CHECK(pool.owner(4) == kChunkReserved);
    CHECK(pool.owner(5) == kChunkFree);
    CHECK(pool.owner(11) == kChunkReserved); // not tracked

    CHECK(pool.find(RealAddr(0)) == 0);
    CHECK(pool.find(RealAddr(2 * C - 1)) == 1);
    CHECK(pool.find(RealAddr(96 * MiB)) == kNoChunk); // partial chunk
    CHECK(pool.find(RealAddr(13 * C + 5)) == 6);
    CHECK(pool.find(RealAddr(18 * C)) == kNoChunk);
    CHECK(pool.find(RealAddr(~u64{0})) == kNoChunk);
}

TEST_CASE("pool merges adjacent, overlapping and unsorted RAM ranges") {
    const RealRange ram[] = {
        range(5 * C, 2 * C),             // duplicate of part of the next one
        range(4 * C, 4 * C),             // chunks 4..7
        range(C + 8 * MiB, 8 * MiB),     // second half of chunk 1 ...
        range(C, 8 * MiB),               // ... first half: together chunk 1 is whole RAM
        range(3 * C + 8 * MiB, 1 * MiB), // lone partial chunk
    };
    ChunkPool pool;
    REQUIRE(pool.init(ram, 5, nullptr, 0));
    CHECK(pool.count() == 5);
    CHECK(pool.base(0) == RealAddr(C));
    CHECK(pool.base(1) == RealAddr(4 * C));
    CHECK(pool.base(4) == RealAddr(7 * C));
    CHECK(pool.free_count() == 5);
}

TEST_CASE("pool ignores chunks beyond its capacity and reports them") {
    const RealRange ram[] = {range(C, (kMaxChunks + 10) * C), range(4096 * C, 3 * C)};
    ChunkPool pool;
    REQUIRE(pool.init(ram, 2, nullptr, 0));
    CHECK(pool.count() == kMaxChunks);
    CHECK(pool.dropped_over_capacity() == 13);
    CHECK(pool.base(kMaxChunks - 1) == RealAddr(kMaxChunks * C));
}

TEST_CASE("pool rejects too many RAM ranges") {
    std::vector<RealRange> ram;
    for (u64 i = 0; i <= kMaxRamRanges; ++i) ram.push_back(range((2 * i + 1) * C, C));
    ChunkPool pool;
    CHECK_FALSE(pool.init(ram.data(), ram.size(), nullptr, 0));
    CHECK(pool.count() == 0);
    CHECK(pool.allocate(1) == kNoChunk);
    // Empty ranges do not count against the limit.
    ram.back().size = 0;
    CHECK(pool.init(ram.data(), ram.size(), nullptr, 0));
    CHECK(pool.count() == kMaxRamRanges);
}

TEST_CASE("pool survives ranges at the top of the address space") {
    const u64 top = ~u64{0};
    const RealRange ram[] = {range(top - 4 * C + 1, 4 * C)}; // ends at 2^64
    const RealRange reserved[] = {range(top - 100, top)};    // size wraps past 2^64
    ChunkPool pool;
    REQUIRE(pool.init(ram, 1, nullptr, 0));
    CHECK(pool.count() == 3); // the topmost chunk is never used
    CHECK(pool.base(2) == RealAddr(top - 2 * C + 1));

    const RealRange huge[] = {range(top - C, top)};
    REQUIRE(pool.init(huge, 1, reserved, 1));
    CHECK(pool.count() == 0);

    const RealRange low[] = {range(C, 3 * C)};
    REQUIRE(pool.init(low, 1, reserved, 1));
    CHECK(pool.free_count() == 3);
}

TEST_CASE("pool only tracks chunks visible through the window") {
    const RealRange ram[] = {range(0, 10 * C)};
    RealWindow w{0x1000'0000, RealAddr(2 * C + 1), 5 * C}; // whole chunks 3..6
    ChunkPool pool;
    REQUIRE(pool.init(ram, 1, nullptr, 0, w));
    CHECK(pool.count() == 4);
    CHECK(pool.base(0) == RealAddr(3 * C));
    CHECK(pool.dropped_outside_window() == 6);
    CHECK(pool.host_ptr(RealAddr(3 * C), 1) == reinterpret_cast<void*>(0x1000'0000 + C - 1));
    CHECK(pool.host_ptr(RealAddr(2 * C), 1) == nullptr);
    CHECK(pool.host_ptr(RealAddr(7 * C + 1), 1) == nullptr); // the window ends at 7C + 1
    CHECK(pool.host_ptr(RealAddr(7 * C), 2) == nullptr);
    CHECK(pool.host_ptr(RealAddr(7 * C), 1) != nullptr);
}

TEST_CASE("allocate until exhausted, zeroed, then release errors") {
    FakeRam ram(3, {range(FakeRam::kBase + C + 10, 1)}); // middle chunk reserved
    ChunkPool& pool = *ram.pool;
    CHECK(pool.count() == 3);
    CHECK(pool.total() == 2);

    CHECK(pool.allocate(kChunkFree) == kNoChunk);
    CHECK(pool.allocate(kChunkReserved) == kNoChunk);

    const u32 a = pool.allocate(1);
    const u32 b = pool.allocate(2);
    CHECK(a == 0);
    CHECK(b == 2);
    CHECK(pool.allocate(1) == kNoChunk);
    CHECK(pool.free_count() == 0);
    CHECK(pool.owner(a) == 1);
    CHECK(pool.owner(b) == 2);
    // Allocation zeroes nothing; the first use does (ready), and never the reserved chunk.
    CHECK(ram.at(pool.base(a))[0] == 0xAA);
    CHECK_FALSE(pool.is_clean(a));
    pool.ready(a);
    pool.ready(b);
    CHECK(pool.is_clean(a));
    CHECK(ram.at(pool.base(a))[0] == 0);
    CHECK(ram.at(pool.base(b))[C - 1] == 0);
    CHECK(ram.at(pool.base(1))[0] == 0xAA);
    CHECK_FALSE(pool.is_clean(1));
    CHECK(pool.zeroed_bytes() == 2 * C);

    ram.at(pool.base(b))[123] = 0x55; // the owner's data
    CHECK(pool.release(b, 1) == ChunkStatus::NotOwner);
    CHECK(ram.at(pool.base(b))[123] == 0x55); // a refused release scrubs nothing
    CHECK(pool.release(1, 1) == ChunkStatus::Reserved);
    CHECK(pool.release(3, 1) == ChunkStatus::BadIndex);
    CHECK(pool.release(kNoChunk, 1) == ChunkStatus::BadIndex);
    CHECK(pool.release(b, 2) == ChunkStatus::Ok);
    CHECK(pool.release(b, 2) == ChunkStatus::NotAllocated);
    CHECK(pool.free_count() == 1);
    CHECK(pool.owner(b) == kChunkFree);

    CHECK(ram.at(pool.base(b))[123] == 0); // scrubbed when it was released
    CHECK(pool.is_clean(b));
    CHECK(pool.allocate(3) == b);
    CHECK(ram.at(pool.base(b))[123] == 0);
    CHECK(pool.is_clean(b)); // handed out zeroed: its owner may use it at once
    CHECK(std::strcmp(to_string(ChunkStatus::NotOwner), "chunk belongs to another owner") == 0);
}

TEST_CASE("LogicalMap::assign is all or nothing") {
    FakeRam ram(4);
    ChunkPool& pool = *ram.pool;
    LogicalMap a, b;
    CHECK_FALSE(a.assign(pool, 1, 0));
    CHECK_FALSE(a.assign(pool, 1, (kMaxLparChunks + 1) * C));
    CHECK_FALSE(a.assign(pool, kChunkFree, C)); // bad owner: nothing taken
    CHECK(pool.free_count() == 4);
    CHECK(a.size() == 0);

    CHECK(a.assign(pool, 1, C + 1)); // rounds up to 2 chunks
    CHECK(a.size() == 2 * C);
    CHECK(a.chunk_count() == 2);
    CHECK(a.owner() == 1);
    CHECK_FALSE(a.assign(pool, 1, C)); // already holds memory
    CHECK(pool.free_count() == 2);

    CHECK_FALSE(b.assign(pool, 2, 3 * C));
    CHECK(pool.free_count() == 2);
    CHECK(b.size() == 0);
    CHECK(b.assign(pool, 2, 1));
    CHECK(b.size() == C);
    CHECK(pool.owner(b.real_chunk(0)) == 2);
    CHECK(b.real_chunk(1) == kNoChunk);

    a.release(pool);
    CHECK(a.size() == 0);
    CHECK(pool.free_count() == 3);
    a.release(pool); // releasing an empty map is harmless
    CHECK(pool.free_count() == 3);
}

namespace {

// An LPAR whose two logical chunks are not contiguous in real memory: real chunks 0 and 2.
struct SplitLpar {
    FakeRam ram{4};
    LogicalMap map;
    SplitLpar() {
        LogicalMap first, other;
        REQUIRE(first.assign(*ram.pool, 9, C));
        REQUIRE(other.assign(*ram.pool, 8, C));
        first.release(*ram.pool);
        REQUIRE(map.assign(*ram.pool, 7, 2 * C));
        REQUIRE(map.real_chunk(0) == 0);
        REQUIRE(map.real_chunk(1) == 2);
    }
    RealAddr real(u32 logical_chunk, u64 off) {
        return ram.pool->base(map.real_chunk(logical_chunk)) + off;
    }
};

} // namespace

TEST_CASE("LogicalMap::translate checks bounds at chunk and LPAR edges") {
    SplitLpar l;
    const LogicalMap& m = l.map;
    const u64 top = ~u64{0};
    using O = Optional<RealAddr>;

    CHECK(m.translate(LogicalAddr(0), 8).value() == l.real(0, 0));
    CHECK(m.translate(LogicalAddr(C - 1), 1).value() == l.real(0, C - 1));
    CHECK_FALSE(m.translate(LogicalAddr(C - 1), 2)); // crosses into a non-contiguous chunk
    CHECK(m.translate(LogicalAddr(C), C).value() == l.real(1, 0));
    CHECK(m.translate(LogicalAddr(2 * C - 1), 1).value() == l.real(1, C - 1)); // last byte
    CHECK_FALSE(m.translate(LogicalAddr(2 * C), 1));                           // one past the end
    CHECK(m.translate(LogicalAddr(2 * C - 1), 0).value() == l.real(1, C - 1)); // len 0: la inside
    CHECK_FALSE(m.translate(LogicalAddr(2 * C), 0));
    CHECK_FALSE(m.translate(LogicalAddr(0), C + 1));
    CHECK_FALSE(m.translate(LogicalAddr(8), top)); // len overflow
    CHECK_FALSE(m.translate(LogicalAddr(top), 1)); // la near 2^64
    CHECK_FALSE(m.translate(LogicalAddr(top - 7), 16));
    CHECK(m.translate(LogicalAddr(top), 1).value_or(RealAddr(42)) == RealAddr(42));
    CHECK_FALSE(O{}.has_value());

    CHECK(m.contains(LogicalAddr(0), 2 * C));
    CHECK(m.contains(LogicalAddr(2 * C), 0));
    CHECK_FALSE(m.contains(LogicalAddr(1), 2 * C));
    CHECK_FALSE(m.contains(LogicalAddr(C), top));

    LogicalMap empty;
    CHECK_FALSE(empty.translate(LogicalAddr(0), 1));
    CHECK(empty.host_ptr(LogicalAddr(0), 1) == nullptr);
}

TEST_CASE("LogicalMap::is_ready checks bounds as translate does, and zeroes nothing") {
    SplitLpar l;
    const LogicalMap& m = l.map;
    const u64 top = ~u64{0};
    CHECK_FALSE(m.is_ready(LogicalAddr(C - 1), 1)); // unknown until translated
    REQUIRE(m.translate(LogicalAddr(C - 1), 1));
    CHECK(m.is_ready(LogicalAddr(C - 1), 1));
    CHECK(m.is_ready(LogicalAddr(C - 1), 0));       // len 0: la itself
    CHECK_FALSE(m.is_ready(LogicalAddr(C - 1), 2)); // crosses into the next chunk
    CHECK_FALSE(m.is_ready(LogicalAddr(2 * C), 1)); // one past the end
    CHECK_FALSE(m.is_ready(LogicalAddr(8), top));   // len overflow
    CHECK_FALSE(m.is_ready(LogicalAddr(top), 1));   // la near 2^64
    CHECK_FALSE(m.is_ready(LogicalAddr(0), C));     // the rest of chunk 0 is still unknown
    CHECK_FALSE(m.is_ready(LogicalAddr(C), 1));     // and chunk 1: asking zeroed nothing
    LogicalMap empty;
    CHECK_FALSE(empty.is_ready(LogicalAddr(0), 1));
}

TEST_CASE("LogicalMap::translate_aligned rejects misaligned addresses and odd alignments") {
    SplitLpar l;
    const LogicalMap& m = l.map;
    CHECK(m.translate_aligned(LogicalAddr(C + 8), 8).value() == l.real(1, 8));
    CHECK_FALSE(m.translate_aligned(LogicalAddr(C + 4), 8));
    CHECK(m.translate_aligned(LogicalAddr(4096), 4096).value() == l.real(0, 4096));
    CHECK(m.translate_aligned(LogicalAddr(C), C).value() == l.real(1, 0));
    CHECK_FALSE(m.translate_aligned(LogicalAddr(0), 0));
    CHECK_FALSE(m.translate_aligned(LogicalAddr(0), 3));
    CHECK_FALSE(m.translate_aligned(LogicalAddr(0), 2 * C));
    CHECK_FALSE(m.translate_aligned(LogicalAddr(2 * C), 8));
    CHECK_FALSE(m.translate_aligned(LogicalAddr(~u64{0} - 7), 8));
}

TEST_CASE("LogicalMap copies cross chunks and land in the right real memory") {
    SplitLpar l;
    LogicalMap& m = l.map;
    const char text[] = "ABCDEFGH";
    REQUIRE(m.copy_in(LogicalAddr(C - 4), text, 8));
    CHECK(std::memcmp(l.ram.at(l.real(0, C - 4)), "ABCD", 4) == 0);
    CHECK(std::memcmp(l.ram.at(l.real(1, 0)), "EFGH", 4) == 0);
    CHECK(l.ram.at(l.real(1, 0))[C] == 0xAA); // real chunk 3 (not ours) is untouched

    char back[9] = {};
    REQUIRE(m.copy_out(back, LogicalAddr(C - 4), 8));
    CHECK(std::string(back) == "ABCDEFGH");

    REQUIRE(m.fill(LogicalAddr(C - 2), 0x5A, 4));
    CHECK(l.ram.at(l.real(0, C - 3))[0] == 'B');
    CHECK(l.ram.at(l.real(0, C - 2))[0] == 0x5A);
    CHECK(l.ram.at(l.real(1, 1))[0] == 0x5A);
    CHECK(l.ram.at(l.real(1, 2))[0] == 'G');

    // Whole-LPAR copy and the host pointer seam.
    std::vector<u8> big(2 * C, 0x11);
    REQUIRE(m.copy_in(LogicalAddr(0), big.data(), big.size()));
    CHECK(m.host_ptr(LogicalAddr(C + 5), 1) == l.ram.at(l.real(1, 5)));
    CHECK(*static_cast<u8*>(m.host_ptr(LogicalAddr(2 * C - 1), 1)) == 0x11);
    CHECK(m.host_ptr(LogicalAddr(C - 1), 2) == nullptr);

    // Out of range: fails and writes nothing.
    CHECK_FALSE(m.copy_in(LogicalAddr(2 * C - 4), text, 8));
    CHECK(l.ram.at(l.real(1, C - 4))[0] == 0x11);
    CHECK_FALSE(m.fill(LogicalAddr(2 * C), 0, 1));
    CHECK_FALSE(m.fill(LogicalAddr(~u64{0} - 3), 0, 8));
    CHECK_FALSE(m.copy_out(back, LogicalAddr(8), ~u64{0}));
    CHECK(m.copy_in(LogicalAddr(2 * C), text, 0)); // empty copy at the end is fine
    CHECK_FALSE(m.copy_in(LogicalAddr(2 * C + 1), text, 0));
}

TEST_CASE("LogicalMap::move copies inside the LPAR like memmove, across chunks, either way") {
    SplitLpar l;
    LogicalMap& m = l.map;
    // A model of the LPAR's 2 chunks: every move is checked against memmove on it.
    std::vector<u8> model(2 * C);
    for (usize i = 0; i < model.size(); ++i) model[i] = static_cast<u8>(i * 7 + i / 251);
    REQUIRE(m.copy_in(LogicalAddr(0), model.data(), model.size()));
    struct Case {
        u64 dst, src, len;
    };
    const Case cases[] = {
        {C - 100, C - 300, 1000},      // up, overlapping, across the boundary
        {C - 300, C - 100, 1000},      // down, overlapping, across the boundary
        {0, C + 5, 4096},              // down, disjoint, from the second chunk into the first
        {C + 17, 3, 3 * 4096 + 1},     // up, disjoint
        {C - 1, C - 2, 2},             // one byte on each side of the boundary
        {5, 5, 100},                   // onto itself
        {C - 0x10000, 0, C + 0x8000},  // long, overlapping, up
        {0, C - 0x10000, C + 0x10000}, // long, overlapping, down, to the LPAR's end
    };
    for (const Case& c : cases) {
        CAPTURE(c.dst);
        CAPTURE(c.src);
        REQUIRE(m.move(LogicalAddr(c.dst), LogicalAddr(c.src), c.len));
        std::memmove(model.data() + c.dst, model.data() + c.src, c.len);
        std::vector<u8> got(model.size());
        REQUIRE(m.copy_out(got.data(), LogicalAddr(0), got.size()));
        CHECK(got == model);
    }
    CHECK(l.ram.at(l.real(1, 0))[C] == 0xAA); // real chunk 3 (not ours) is untouched
    // Either range outside the LPAR: refused, nothing moved.
    CHECK_FALSE(m.move(LogicalAddr(2 * C - 4), LogicalAddr(0), 8));
    CHECK_FALSE(m.move(LogicalAddr(0), LogicalAddr(2 * C - 4), 8));
    CHECK_FALSE(m.move(LogicalAddr(0), LogicalAddr(~u64{0} - 3), 8));
    CHECK_FALSE(m.move(LogicalAddr(8), LogicalAddr(0), ~u64{0}));
    std::vector<u8> got(model.size());
    REQUIRE(m.copy_out(got.data(), LogicalAddr(0), got.size()));
    CHECK(got == model);
    CHECK(m.move(LogicalAddr(2 * C), LogicalAddr(0), 0)); // empty at the end is fine
}

namespace {
u64 scrub_calls = 0, scrub_bytes = 0;
void counting_scrub(void* host, usize len) {
    ++scrub_calls;
    scrub_bytes += len;
    std::memset(host, 0, len);
}
void count_scrubs(ChunkPool& pool) {
    scrub_calls = scrub_bytes = 0;
    pool.set_scrubber(&counting_scrub);
}
} // namespace

TEST_CASE("no owner ever sees another owner's data: create, fill, destroy, reuse") {
    FakeRam ram(4); // every byte 0xAA at boot: content the pool knows nothing about
    ChunkPool& pool = *ram.pool;
    count_scrubs(pool);
    for (u32 round = 0; round < 6; ++round) {
        const u32 owner = 1 + round % 3;
        LogicalMap m;
        const u64 bytes = (1 + round % 4) * C;
        REQUIRE(m.assign(pool, owner, bytes));
        // Every byte the new owner can read is zero (sampled densely: every 4 KiB page's first
        // and last byte, and whole first and last pages).
        std::vector<u8> page(4096);
        for (u64 off = 0; off < bytes; off += 4096) {
            u8 first = 0xff, last = 0xff;
            REQUIRE(m.copy_out(&first, LogicalAddr(off), 1));
            REQUIRE(m.copy_out(&last, LogicalAddr(off + 4095), 1));
            REQUIRE(first == 0);
            REQUIRE(last == 0);
        }
        REQUIRE(m.copy_out(page.data(), LogicalAddr(bytes - 4096), 4096));
        CHECK(std::all_of(page.begin(), page.end(), [](u8 b) { return b == 0; }));
        // The owner leaves its mark everywhere, then goes away.
        REQUIRE(m.fill(LogicalAddr(0), static_cast<u8>(0x10 + owner), bytes));
        std::vector<u32> held;
        for (u32 i = 0; i < m.chunk_count(); ++i) held.push_back(m.real_chunk(i));
        m.release(pool);
        // Nothing of it is left in the chunks it gave back.
        for (u32 i : held) {
            CHECK(pool.owner(i) == kChunkFree);
            const u8* mem = ram.at(pool.base(i));
            CHECK(pool.is_clean(i));
            CHECK(std::all_of(mem, mem + C, [](u8 b) { return b == 0; }));
        }
    }
    // Each chunk was zeroed once before its first owner and once per release; never again when
    // it was handed out clean.
    CHECK(pool.zeroed_bytes() == scrub_bytes);
}

TEST_CASE("a released chunk holds none of its owner's data, before anyone allocates it") {
    FakeRam ram(2);
    ChunkPool& pool = *ram.pool;
    const u32 a = pool.allocate(1);
    pool.ready(a);
    ram.at(pool.base(a))[77] = 0x42; // the owner's data
    CHECK(pool.release(a, 1) == ChunkStatus::Ok);
    CHECK(pool.is_clean(a));
    CHECK(ram.at(pool.base(a))[77] == 0);
    CHECK(pool.allocate(2) == a);
    CHECK(ram.at(pool.base(a))[77] == 0);
}

TEST_CASE("a chunk handed out clean is not zeroed again") {
    FakeRam ram(2);
    ChunkPool& pool = *ram.pool;
    count_scrubs(pool);
    const u32 a = pool.allocate(1); // unknown content since boot: zeroed at its first use
    CHECK(scrub_calls == 0);
    pool.ready(a);
    CHECK(scrub_calls == 1);
    pool.ready(a); // once
    CHECK(scrub_calls == 1);
    CHECK(pool.release(a, 1) == ChunkStatus::Ok); // used: scrubbed as it is freed
    CHECK(scrub_calls == 2);
    CHECK(pool.allocate(2) == a); // clean: no third scrub at creation or first use
    pool.ready(a);
    CHECK(scrub_calls == 2);
    CHECK(pool.zeroed_bytes() == 2 * C);
}

TEST_CASE(
    "a chunk its owner never used is not zeroed at release, but before the next owner's use") {
    FakeRam ram(1);
    ChunkPool& pool = *ram.pool;
    count_scrubs(pool);
    const u32 a = pool.allocate(1);
    CHECK(pool.unscrubbed() == 1);
    CHECK(pool.release(a, 1) == ChunkStatus::Ok);
    CHECK(scrub_calls == 0);
    CHECK_FALSE(pool.is_clean(a));
    CHECK(ram.at(pool.base(a))[5] == 0xAA); // what it held since boot, nobody's data
    LogicalMap m;
    REQUIRE(m.assign(pool, 2, C));
    CHECK_FALSE(m.is_ready(LogicalAddr(0), 1));
    REQUIRE(m.chunk_real(0)); // a lookup zeroes nothing
    CHECK(scrub_calls == 0);
    u8 byte = 0xff;
    REQUIRE(m.copy_out(&byte, LogicalAddr(5), 1));
    CHECK(byte == 0);
    CHECK(scrub_calls == 1);
    CHECK(scrub_bytes == kGranuleSize);
    CHECK(m.is_ready(LogicalAddr(0), kGranuleSize));
    CHECK(m.is_ready(LogicalAddr(0), C) == (kGranules == 1));
    CHECK(pool.unscrubbed() == (kGranules == 1 ? 0 : 1));
    m.release(pool);
}

TEST_CASE("an LPAR's creation zeroes nothing; its first touch zeroes the granules it covers") {
    REQUIRE(kGranules >= 4); // these tests run with 4 KiB granules (tests/fake/include/arch)
    FakeRam ram(4);
    ChunkPool& pool = *ram.pool;
    count_scrubs(pool);
    LogicalMap m;
    REQUIRE(m.assign(pool, 1, 4 * C));
    CHECK(scrub_calls == 0);
    CHECK(pool.unscrubbed() == 4);
    const Optional<RealAddr> ra = m.translate(LogicalAddr(2 * C + 100), 8);
    REQUIRE(ra);
    CHECK(scrub_calls == 1);
    CHECK(scrub_bytes == kGranuleSize);
    CHECK(ram.at(*ra)[0] == 0);
    CHECK(m.is_ready(LogicalAddr(2 * C), kGranuleSize));
    CHECK_FALSE(m.is_ready(LogicalAddr(2 * C), kGranuleSize + 1));
    for (u32 i = 0; i < 4; ++i) {
        CHECK_FALSE(m.is_ready(LogicalAddr(i * C), C));
        CHECK(ram.at(*m.chunk_real(i))[C / 2] == 0xAA); // untouched: never zeroed
    }
    m.release(pool); // the granule was used: zeroed now; the rest stays to be zeroed
    CHECK(scrub_calls == 2);
    CHECK(scrub_bytes == 2 * kGranuleSize);
    CHECK(pool.unscrubbed() == 4);
}

namespace {
// One chunk of unknown content, all of an LPAR's memory, its zeroing counted.
struct OneChunk {
    FakeRam ram{1};
    ChunkPool& pool = *ram.pool;
    LogicalMap m;
    OneChunk() {
        REQUIRE(kGranules >= 8);
        count_scrubs(pool);
        REQUIRE(m.assign(pool, 1, C));
    }
};
} // namespace

TEST_CASE("granules are zeroed once each, a run of unknown ones at a time") {
    OneChunk one;
    ChunkPool& pool = one.pool;
    LogicalMap& m = one.m;
    // Two bytes across the boundary of granules 0 and 1: both, in one call.
    REQUIRE(m.translate(LogicalAddr(kGranuleSize - 1), 2));
    CHECK(scrub_calls == 1);
    CHECK(scrub_bytes == 2 * kGranuleSize);
    // The owner's data in granule 1 survives every later touch of the chunk.
    u8* mine = static_cast<u8*>(m.host_ptr(LogicalAddr(kGranuleSize + 7), 1));
    REQUIRE(mine != nullptr);
    *mine = 0x42;
    REQUIRE(m.translate(LogicalAddr(0), 3 * kGranuleSize)); // only granule 2 is new
    CHECK(scrub_calls == 2);
    CHECK(scrub_bytes == 3 * kGranuleSize);
    REQUIRE(m.translate(LogicalAddr(0), C)); // the rest of the chunk: one more run
    CHECK(scrub_calls == 3);
    CHECK(scrub_bytes == C);
    CHECK(*mine == 0x42);
    CHECK(pool.is_clean(m.real_chunk(0)));
    CHECK(pool.unscrubbed() == 0);
    REQUIRE(m.translate(LogicalAddr(0), C)); // nothing left
    CHECK(scrub_calls == 3);
    m.release(pool);
}

TEST_CASE("a release zeroes the granules its owner used; the others before the next owner's use") {
    OneChunk one;
    ChunkPool& pool = one.pool;
    LogicalMap& m = one.m;
    REQUIRE(m.fill(LogicalAddr(3 * kGranuleSize), 0x42, kGranuleSize)); // the owner's data
    const u32 chunk = m.real_chunk(0);
    m.release(pool);
    CHECK(scrub_calls == 2); // before the owner's use, and at the release
    const u8* mem = one.ram.at(pool.base(chunk));
    CHECK(std::all_of(mem + 3 * kGranuleSize, mem + 4 * kGranuleSize, [](u8 b) { return b == 0; }));
    CHECK(mem[5 * kGranuleSize] == 0xAA); // never used: nobody's data, still to be zeroed
    LogicalMap next;
    REQUIRE(next.assign(pool, 2, C));
    CHECK(next.is_ready(LogicalAddr(3 * kGranuleSize), kGranuleSize)); // no zeroing again
    u8 byte = 0xff;
    REQUIRE(next.copy_out(&byte, LogicalAddr(5 * kGranuleSize), 1));
    CHECK(byte == 0);
    CHECK(scrub_calls == 3);
    next.release(pool);
}

TEST_CASE("scrub_one zeroes the chunks asked for, lowest first, each once; others never") {
    FakeRam ram(5, {range(FakeRam::kBase + C, 1)}); // chunk 1 reserved
    ChunkPool& pool = *ram.pool;
    count_scrubs(pool);
    CHECK_FALSE(pool.scrub_one()); // nothing asked for
    const u32 a = pool.allocate(1);
    const u32 b = pool.allocate(2);
    const u32 c = pool.allocate(2);
    const u32 d = pool.allocate(3);
    CHECK((a == 0 && b == 2 && c == 3 && d == 4));
    CHECK_FALSE(pool.scrub_one()); // owned, but nobody asked: zeroed at their first use
    pool.want(a);
    pool.want(b);
    pool.want(c);
    CHECK(pool.scrub_one());
    CHECK(pool.is_clean(a));
    CHECK(pool.scrub_one());
    CHECK(pool.is_clean(b));
    pool.ready(c); // its owner got there first
    CHECK_FALSE(pool.scrub_one());
    CHECK(scrub_calls == 3);
    CHECK(pool.unscrubbed() == 1);
    CHECK_FALSE(pool.is_clean(d));
    CHECK(ram.at(pool.base(1))[0] == 0xAA);
    CHECK(ram.at(pool.base(d))[0] == 0xAA);
    pool.want(a); // already zeroed: nothing to ask for
    CHECK_FALSE(pool.scrub_one());
    pool.want(d);
    CHECK(pool.release(d, 3) == ChunkStatus::Ok); // given back before anyone zeroed it
    CHECK_FALSE(pool.scrub_one());
    CHECK(scrub_calls == 3);
}

TEST_CASE("want_free asks for the free chunks allocate hands out next, skipping owned ones") {
    FakeRam ram(6, {range(FakeRam::kBase + C, 1)}); // chunk 1 reserved
    ChunkPool& pool = *ram.pool;
    count_scrubs(pool);
    const u32 owned = pool.allocate(7); // chunk 0
    CHECK(pool.want_free(0) == 0);
    CHECK_FALSE(pool.scrub_one());
    CHECK(pool.want_free(2) == 2); // chunks 2 and 3
    CHECK(pool.scrub_one());
    CHECK(pool.scrub_one());
    CHECK_FALSE(pool.scrub_one());
    CHECK(scrub_calls == 2);
    CHECK_FALSE(pool.is_clean(owned));
    CHECK(ram.at(pool.base(4))[0] == 0xAA);
    // The boot's LPARs then get exactly those, already zeroed: nothing is zeroed again.
    const u32 first = pool.allocate(8), second = pool.allocate(8);
    CHECK((first == 2 && second == 3));
    CHECK((pool.is_clean(first) && pool.is_clean(second)));
    pool.ready(first);
    CHECK(scrub_calls == 2);
    // More than are free: what there is.
    CHECK(pool.want_free(10) == 2); // chunks 4 and 5
    CHECK(pool.scrub_one());
    CHECK(pool.scrub_one());
    CHECK(ram.at(pool.base(5))[C - 1] == 0);
    CHECK(ram.at(pool.base(1))[0] == 0xAA); // the reserved chunk is never touched
}

// A thread playing a vcpu on another physical CPU: both touch every granule of one chunk, in
// opposite orders, and each writes its mark into a granule it finds zero. A granule zeroed
// twice would lose a mark written after its first zeroing. Run under TSan by scripts/test.
TEST_CASE("two threads touching the same granules: each zeroed once, no write lost") {
    FakeRam ram(1);
    ChunkPool& pool = *ram.pool;
    pool.set_scrubber(nullptr);
    LogicalMap m;
    REQUIRE(m.assign(pool, 1, C));
    auto touch_all = [&](u64 mark, bool down) {
        for (u32 i = 0; i < kGranules; ++i) {
            const u32 g = down ? kGranules - 1 - i : i;
            auto* p = static_cast<u64*>(m.host_ptr(LogicalAddr(u64{g} * kGranuleSize), 8));
            u64 expected = 0;
            __atomic_compare_exchange_n(p, &expected, mark, false, __ATOMIC_RELAXED,
                                        __ATOMIC_RELAXED);
        }
    };
    std::thread other([&] { touch_all(1, true); });
    touch_all(2, false);
    other.join();
    for (u32 g = 0; g < kGranules; ++g) {
        u64 v = 0;
        REQUIRE(m.copy_out(&v, LogicalAddr(u64{g} * kGranuleSize), 8));
        if (v != 1 && v != 2) FAIL("granule ", g, " lost its mark: ", v);
    }
    CHECK(pool.zeroed_bytes() == C);
    m.release(pool);
}

// kN chunks of one LPAR, all asked for (want), and a thread playing an idle CPU, which zeroes
// them (scrub_one) until none is left, racing the test's own thread; run under TSan by
// scripts/test.
struct IdleRace {
    static constexpr u32 kN = 6;
    FakeRam ram{kN};
    ChunkPool& pool = *ram.pool;
    LogicalMap m;
    u64 before = 0;
    std::thread idle;
    IdleRace() {
        pool.set_scrubber(nullptr);
        REQUIRE(m.assign(pool, 1, kN * C));
        for (u32 i = 0; i < kN; ++i) pool.want(m.real_chunk(i));
        before = pool.zeroed_bytes();
        idle = std::thread([this] {
            while (pool.scrub_one()) {
            }
        });
    }
    // Chunk i reads as zero at both ends.
    bool zero(u32 i) const {
        u8 first = 0xff, last = 0xff;
        return m.copy_out(&first, LogicalAddr(u64{i} * C), 1) &&
               m.copy_out(&last, LogicalAddr(u64{i + 1} * C - 1), 1) && first == 0 && last == 0;
    }
    // Joins the idle thread: every byte was zeroed exactly once, by one side or the other.
    void finish() {
        idle.join();
        CHECK(pool.zeroed_bytes() - before == kN * C);
        CHECK(pool.unscrubbed() == 0);
        m.release(pool);
    }
};

TEST_CASE("chunks zeroed by an idle thread while another touches them: each once, all zero") {
    // The idle CPU's background zeroing against a vcpu's first touches (LogicalMap::translate ->
    // ready), as on two physical CPUs.
    IdleRace race;
    std::atomic<bool> bad{false};
    std::thread vcpu([&] {
        for (u32 i = IdleRace::kN; i-- > 0;) // from the top, to meet the idle thread in the middle
            if (!race.zero(i)) bad = true;
    });
    vcpu.join();
    race.finish();
    CHECK_FALSE(bad.load());
}

TEST_CASE("ready_all zeroes each of the LPAR's chunks once, and kicks the other CPUs to help") {
    FakeRam ram(5);
    ChunkPool& pool = *ram.pool;
    count_scrubs(pool);
    const u32 other = pool.allocate(2); // another LPAR's: not this map's work
    LogicalMap m;
    REQUIRE(m.assign(pool, 1, 3 * C));
    REQUIRE(m.translate(LogicalAddr(C), 1)); // one granule already in use
    CHECK(scrub_bytes == kGranuleSize);
    fake::machine_cpus = 3;
    fake::kicks.clear();
    m.ready_all();
    CHECK(fake::kicks == std::vector<u32>{1, 2});
    for (u32 i = 0; i < 3; ++i) CHECK(m.is_ready(LogicalAddr(i * C), C));
    CHECK(scrub_bytes == 3 * C);
    CHECK_FALSE(pool.is_clean(other));
    CHECK_FALSE(pool.scrub_one()); // nothing asked for is left for idle CPUs
    m.ready_all();                 // nothing left to do
    CHECK(scrub_bytes == 3 * C);
    fake::machine_cpus = 1;
    fake::kicks.clear();
    m.release(pool);
}

TEST_CASE("ready_all while an idle thread zeroes the same chunks: each once, all zero") {
    // An LPAR created on one CPU while another, kicked, zeroes owned chunks.
    IdleRace race;
    race.m.ready_all();
    for (u32 i = 0; i < IdleRace::kN; ++i) {
        CHECK(race.m.is_ready(LogicalAddr(u64{i} * C), C));
        CHECK(race.zero(i));
    }
    race.finish();
}

TEST_CASE("the background pool: nothing before boot sets it") {
    CHECK_FALSE(scrub_in_background());
    FakeRam ram(1);
    set_machine_pool(ram.pool.get());
    CHECK_FALSE(scrub_in_background()); // free chunks wait for an owner
    CHECK(ram.pool->allocate(1) == 0);
    CHECK_FALSE(scrub_in_background()); // and owned ones for its first use, unless asked for
    ram.pool->want(0);
    CHECK(scrub_in_background());
    CHECK_FALSE(scrub_in_background());
    set_machine_pool(nullptr);
}
