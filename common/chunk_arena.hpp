// Hypervisor tables carved from chunks (ChunkArena): naturally aligned power-of-two blocks of
// 256 KiB to 16 MiB, such as the ppc64 HTABs (whose real address must be a multiple of their
// size). The arena takes a chunk from the machine's pool (owner kChunkHypervisor) when none it
// holds has room, and gives a chunk back as soon as nothing in it is used, so the hypervisor's
// image holds no table memory and an idle machine holds none at all.
//
// Shared object: the core lock (LPAR creation and teardown take tables under it).
#pragma once

#include <tessera/addr.hpp>
#include <tessera/types.hpp>

#include "common/chunks.hpp"

namespace tessera {

class ChunkArena {
  public:
    static constexpr u32 kMinShift = 18;                                      // 256 KiB blocks
    static constexpr u32 kBlocks = static_cast<u32>(kChunkSize >> kMinShift); // 64 per chunk
    static constexpr usize kMaxChunks = 32;

    struct Use {
        u32 chunks = 0;      // chunks held now
        u32 chunks_most = 0; // the most held at once
        u64 bytes = 0;       // bytes handed out now
        u64 bytes_most = 0;  // the most handed out at once
        u32 tables = 0;      // blocks handed out since boot
    };

    // A zeroed block of 2^shift bytes (kMinShift <= shift <= kChunkShift) aligned to its size in
    // real memory: its host pointer, and its real address in *real. nullptr for a bad shift,
    // when the pool has no free chunk, or when the arena holds kMaxChunks already.
    void* allocate(ChunkPool& pool, u32 shift, RealAddr* real);
    // Gives back the block at `real` (as allocate returned it, same shift); a chunk with nothing
    // left in it goes back to the pool (scrubbed there). False, and nothing freed, for anything
    // but a block it handed out with that shift.
    bool free(ChunkPool& pool, RealAddr real, u32 shift);

    const Use& use() const { return use_; }

  private:
    struct Held {
        u32 index = kNoChunk;   // pool index, kNoChunk for an empty slot
        u64 used = 0;           // one bit per 256 KiB block
        u8 shift[kBlocks] = {}; // at a table's first block: its shift (0 elsewhere)
    };
    static u64 mask(u32 first, u32 count);
    void* take(ChunkPool& pool, Held& h, u32 first, u32 count, RealAddr* real);

    Held held_[kMaxChunks];
    Use use_;
};

} // namespace tessera
