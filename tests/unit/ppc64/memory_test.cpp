// The ppc64 memory parameters (<arch/memory.hpp>) the LPAR setup relies on.
#include "common/chunks.hpp"

#include <doctest/doctest.h>

#include <memory>
#include <vector>

using namespace tessera;

TEST_CASE("ppc64 zeroes a chunk whole at its first touch, as the VRMA's 16 MiB pages need") {
    static_assert(kGranules == 1, "the VRMA maps whole chunks: zero them whole");
    constexpr u64 kRam = 1 * GiB;
    std::vector<u8> ram(2 * kChunkSize, 0xAA); // what memory held at power-on
    auto pool = std::make_unique<ChunkPool>();
    RealRange r{RealAddr(kRam), ram.size()};
    REQUIRE(pool->init(&r, 1, nullptr, 0,
                       RealWindow{reinterpret_cast<uptr>(ram.data()), RealAddr(kRam), ram.size()}));
    LogicalMap m;
    REQUIRE(m.assign(*pool, 1, kChunkSize));
    CHECK_FALSE(m.is_ready(LogicalAddr(0), 1));
    REQUIRE(m.translate(LogicalAddr(5), 1));       // one byte...
    CHECK(m.is_ready(LogicalAddr(0), kChunkSize)); // ...and the whole chunk is the LPAR's
    const u8* mem = ram.data() + (pool->base(m.real_chunk(0)).value() - kRam);
    CHECK(mem[0] == 0);
    CHECK(mem[kChunkSize - 1] == 0);
    CHECK(pool->zeroed_bytes() == kChunkSize);
    m.release(*pool);
}
