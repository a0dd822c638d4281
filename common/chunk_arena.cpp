#include "common/chunk_arena.hpp"

#include "common/rt/panic.hpp"
#include "common/rt/string.hpp"

namespace tessera {

u64 ChunkArena::mask(u32 first, u32 count) {
    const u64 run = count >= 64 ? ~u64{0} : (u64{1} << count) - 1;
    return run << first;
}

void* ChunkArena::take(ChunkPool& pool, Held& h, u32 first, u32 count, RealAddr* real) {
    h.used |= mask(first, count);
    h.shift[first] = static_cast<u8>(kMinShift + __builtin_ctz(count));
    const u64 offset = u64{first} << kMinShift;
    const u64 bytes = u64{count} << kMinShift;
    *real = pool.base(h.index) + offset;
    void* host = pool.host_ptr(*real, bytes);
    TESSERA_ASSERT(host != nullptr); // every tracked chunk is visible through the window
    rt::mem_set(host, 0, static_cast<usize>(bytes)); // the previous table's entries are gone
    use_.bytes += bytes;
    if (use_.bytes > use_.bytes_most) use_.bytes_most = use_.bytes;
    ++use_.tables;
    return host;
}

void* ChunkArena::allocate(ChunkPool& pool, u32 shift, RealAddr* real) {
    if (shift < kMinShift || shift > kChunkShift || real == nullptr) return nullptr;
    const u32 count = 1u << (shift - kMinShift);
    // A chunk held already: the first aligned run of free blocks (a chunk is aligned to 16 MiB,
    // so a block aligned inside it is aligned in real memory).
    for (Held& h : held_) {
        if (h.index == kNoChunk) continue;
        for (u32 first = 0; first + count <= kBlocks; first += count)
            if ((h.used & mask(first, count)) == 0) return take(pool, h, first, count, real);
    }
    // A new chunk from the pool, zeroed before the hypervisor uses it as for any owner.
    for (Held& h : held_) {
        if (h.index != kNoChunk) continue;
        const u32 index = pool.allocate(kChunkHypervisor);
        if (index == kNoChunk) return nullptr;
        pool.ready(index);
        h = Held{index, 0};
        if (++use_.chunks > use_.chunks_most) use_.chunks_most = use_.chunks;
        return take(pool, h, 0, count, real);
    }
    return nullptr;
}

bool ChunkArena::free(ChunkPool& pool, RealAddr real, u32 shift) {
    if (shift < kMinShift || shift > kChunkShift) return false;
    const u32 index = pool.find(real);
    if (index == kNoChunk) return false;
    const u64 offset = real - pool.base(index);
    const u32 count = 1u << (shift - kMinShift);
    if (offset % (u64{count} << kMinShift) != 0) return false;
    const u32 first = static_cast<u32>(offset >> kMinShift);
    for (Held& h : held_) {
        if (h.index != index) continue;
        if (h.shift[first] != shift) return false; // no table of that size starts there
        h.shift[first] = 0;
        h.used &= ~mask(first, count);
        use_.bytes -= u64{count} << kMinShift;
        if (h.used == 0) {
            const ChunkStatus st = pool.release(index, kChunkHypervisor);
            TESSERA_ASSERT(st == ChunkStatus::Ok); // the arena and the pool disagree: a bug
            h = Held{};
            --use_.chunks;
        }
        return true;
    }
    return false;
}

} // namespace tessera
