// Real memory in fixed-size chunks (ChunkPool) and each LPAR's logical -> real map (LogicalMap).
//
// A chunk is 16 MiB: the POWER large page the VRMA maps (an LPAR's real-mode area is backed by
// whole chunks, one large-page HPTE each) and a multiple of the ia32 4 MiB PSE page, so both ISAs
// can map any chunk with large pages. Logical memory is a run of chunks starting at logical 0;
// translation is one array lookup.
//
// A chunk is zeroed in granules of 2^arch::kZeroGranuleShift bytes (<arch/memory.hpp>): ia32
// zeroes a 4 KiB page at its first use, ppc64 whole chunks (its VRMA maps them all at once).
#pragma once

#include <arch/memory.hpp>
#include <tessera/addr.hpp>
#include <tessera/arch.hpp>
#include <tessera/types.hpp>

#include "common/lib/optional.hpp"
#include "common/rt/panic.hpp"
#include "common/spinlock.hpp"

namespace tessera {

inline constexpr u32 kChunkShift = 24;
inline constexpr u64 kChunkSize = u64{1} << kChunkShift;
// 16 GiB of real memory (a 32-bit hypervisor sees 4 GiB); more is ignored (reported).
inline constexpr usize kMaxChunks = sizeof(uptr) >= 8 ? 1024 : 256;
inline constexpr usize kMaxLparChunks = 256; // 4 GiB of logical memory per LPAR
inline constexpr usize kMaxRamRanges = 64;   // RAM ranges ChunkPool::init accepts

inline constexpr u32 kGranuleShift = arch::kZeroGranuleShift;
inline constexpr u64 kGranuleSize = u64{1} << kGranuleShift;
inline constexpr u32 kGranules = static_cast<u32>(kChunkSize >> kGranuleShift); // per chunk
static_assert(kGranuleShift >= 12 && kGranuleShift <= kChunkShift, "granules: 4 KiB to a chunk");

// Chunk owners: an LPAR id (1-based), or one of these.
inline constexpr u32 kChunkFree = 0;
inline constexpr u32 kChunkReserved = 0xffff'ffff;   // overlaps firmware/hypervisor/bundle
inline constexpr u32 kChunkHypervisor = 0xffff'fffe; // held for hypervisor tables (ChunkArena)
inline constexpr u32 kNoChunk = 0xffff'ffff;         // "no such chunk" where an index is expected

enum class ChunkStatus : u8 { Ok, BadIndex, NotAllocated, NotOwner, Reserved };
const char* to_string(ChunkStatus s);

// Where real memory is visible to hypervisor code: real [real_base, real_base + size) is at host
// address host_base. The hypervisor uses identity(); host tests map a malloc'd buffer.
struct RealWindow {
    uptr host_base = 0;
    RealAddr real_base;
    u64 size = 0;

    static constexpr RealWindow identity() {
        // A 32-bit hypervisor can only see the low 4 GiB.
        constexpr u64 top = sizeof(uptr) >= 8 ? ~u64{0} : u64{static_cast<uptr>(-1)} + 1;
        return RealWindow{0, RealAddr(0), top};
    }
    // True when [addr, addr + len) lies inside the window (len 0: addr itself must be inside).
    bool contains(RealAddr addr, u64 len) const;
    // Host pointer for [addr, addr + len), or nullptr when it is not entirely visible.
    void* host_ptr(RealAddr addr, u64 len) const;
};

class ChunkPool {
  public:
    // Tracks every whole chunk that is entirely RAM (the union of `ram`, so adjacent ranges may
    // share a chunk) and entirely visible through `window`, in ascending address order. Chunks
    // overlapping a reservation, and real chunk 0 (exception vectors / BIOS area, and its host
    // pointer would be null), are tracked as reserved and never handed out. Chunks beyond
    // kMaxChunks are ignored and counted. Returns false (and tracks nothing) when there are more
    // than kMaxRamRanges non-empty RAM ranges.
    bool init(const RealRange* ram, usize ram_count, const RealRange* reserved,
              usize reserved_count, RealWindow window = RealWindow::identity());

    usize count() const { return used_; }             // tracked chunks, reserved included
    usize total() const { return used_ - reserved_; } // chunks that can be handed out
    usize free_count() const { return free_; }
    usize hypervisor_count() const { return hypervisor_; } // held by kChunkHypervisor
    usize reserved_count() const { return reserved_; }
    u64 dropped_over_capacity() const { return over_capacity_; } // whole RAM chunks ignored
    u64 dropped_outside_window() const { return outside_window_; }

    // Takes the lowest free chunk for `owner` (an LPAR id: not kChunkFree/kChunkReserved).
    // Returns its index or kNoChunk. It may not be zeroed yet: a granule whose content is
    // unknown (never used since boot, or given back before its owner touched it) is zeroed at
    // its first use, by ready() (LogicalMap::translate calls it before it hands out any address
    // in it), or earlier by an idle CPU when the owner asked for the whole chunk (want()). So
    // LPAR creation does not wait for its memory to be zeroed, memory the LPAR never uses is
    // never zeroed, and no owner ever sees what a chunk held before.
    u32 allocate(u32 owner);
    // Gives the chunk back. The granules its owner may have used are zeroed now, so its data is
    // gone before anyone can get it; those it never used stay "to be zeroed". The caller makes
    // sure nothing uses it any more: every release path (common/run.cpp's reap, the management
    // stop and destroy) waits until no CPU runs one of the owner's vcpus.
    ChunkStatus release(u32 index, u32 owner);

    // Zeroes the granules [first, first + count) of chunk `index` that have not been zeroed
    // since their content became unknown, waiting while another CPU zeroes part of the chunk.
    // After it returns the chunk's owner may use them. Any CPU, no lock needed. Inline: a
    // chunk that is all zeroed (or all its owner's) is one load, no call (the page-table hcalls
    // translate through it on every H_ENTER).
    void ready(u32 index, u32 first = 0, u32 count = kGranules) {
        if (index < used_ &&
            __atomic_load_n(&chunks_[index].clean_count, __ATOMIC_ACQUIRE) == kGranules)
            return;
        ready_granules(index, first, count);
    }
    // Asks idle CPUs to zero all of chunk `index` (scrub_one), for an owner that will need it
    // all at once. Any CPU, no lock needed.
    void want(u32 index);
    // want() for the lowest `count` free chunks: those allocate() hands out next. For the boot,
    // which knows how much memory its LPARs will take before it creates them. Returns how many
    // it asked for (fewer when fewer are free). Reads the owners: the core lock, or the boot CPU
    // before the run starts.
    usize want_free(usize count);
    // Zeroes what is left of chunk `index` when no other CPU is zeroing part of it: unlike
    // ready() it never waits. Any CPU, no lock needed.
    void scrub_if_waiting(u32 index);
    // Zeroes one chunk that its owner asked for (want()) and is not zeroed yet (the lowest), for
    // an idle CPU. False when none is left. Any CPU, no lock needed.
    bool scrub_one();
    usize unscrubbed() const { return __atomic_load_n(&dirty_, __ATOMIC_RELAXED); } // chunks

    // How granules are zeroed: rt::mem_set unless the hypervisor sets a faster way
    // (arch::scrub). fn gets a host pointer to whole granules.
    using ScrubFn = void (*)(void* host, usize len);
    void set_scrubber(ScrubFn fn) { scrub_fn_ = fn; }
    // True when the whole chunk is zeroed (free) or its owner may use it all (owned).
    bool is_clean(u32 index) const { return is_clean(index, 0, kGranules); }
    // The same for granules [first, first + count) of it.
    bool is_clean(u32 index, u32 first, u32 count) const;
    // Bytes zeroed since boot (before an owner's use and at releases).
    u64 zeroed_bytes() const {
        return u64{__atomic_load_n(&zeroed_granules_, __ATOMIC_RELAXED)} << kGranuleShift;
    }

    u32 owner(u32 index) const; // kChunkReserved for an index that is not tracked
    RealAddr base(u32 index) const {
        TESSERA_ASSERT(index < used_);
        return chunks_[index].base;
    }
    u32 find(RealAddr addr) const; // index of the tracked chunk holding addr, or kNoChunk
    const RealWindow& window() const { return window_; }
    void* host_ptr(RealAddr addr, u64 len) const { return window_.host_ptr(addr, len); }

  private:
    static constexpr u32 kWords = (kGranules + 31) / 32;
    // A chunk and what of it is zeroed. Granule g is clean (bit g of `clean`): zeroed, or in its
    // owner's use; else its content is unknown and nobody may touch it. Bits are set only under
    // `lock` (after the granule is zeroed) and read without it; a release zeroes the granules
    // whose bit is set and leaves the bits: they are zero then. Reserved chunks have none set.
    struct Chunk {
        RealAddr base;          // set by init(), read-only after it
        u32 owner = kChunkFree; // the core lock (allocate/release); atomic writes: scrub_one
        bool reserved = false;  // set by init(), read-only after it
        u8 wanted = 0;          // atomic: idle CPUs zero all of it (want(); cleared when done)
        u32 clean_count = 0;    // atomic: bits set in `clean`; kGranules: all of it is clean
        u32 clean[kWords] = {}; // atomic words, written under `lock`
        Spinlock lock;          // held by the CPU that zeroes granules of this chunk
    };
    void track(u64 chunk_number, const RealRange* reserved, usize reserved_count);
    static bool clean_bit(const Chunk& c, u32 g) {
        return (__atomic_load_n(&c.clean[g / 32], __ATOMIC_ACQUIRE) >> (g % 32)) & 1;
    }
    void ready_granules(u32 index, u32 first, u32 count); // ready() when some are not clean
    void zero(Chunk& c, u32 first, u32 count);            // the granules' memory, no bookkeeping
    // With c.lock held: zeroes the granules of [first, first + count) not clean yet and marks
    // them clean.
    void zero_unknown(Chunk& c, u32 first, u32 count);
    void unwant(Chunk& c);

    Chunk chunks_[kMaxChunks];
    usize used_ = 0;       // set by init(), read-only after it
    usize free_ = 0;       // the core lock
    usize hypervisor_ = 0; // the core lock
    usize dirty_ = 0;      // atomic: chunks not all clean, owned or free, reserved ones not
    usize wanted_ = 0;     // atomic: chunks with `wanted` set
    usize reserved_ = 0;
    u64 over_capacity_ = 0;
    u64 outside_window_ = 0;
    usize zeroed_granules_ = 0; // atomic (usize: ia32 has no 8-byte atomics)
    ScrubFn scrub_fn_ = nullptr;
    RealWindow window_;
};

// The machine's pool: set by boot once it is initialised, nullptr before. Idle CPUs zero the
// chunks owners asked for (ChunkPool::want) in the background (common/run.cpp):
// scrub_in_background() zeroes one; false when there was nothing (left) to do. The ISA takes its
// table chunks from it (ChunkArena).
void set_machine_pool(ChunkPool* pool);
ChunkPool* machine_pool();
bool scrub_in_background();
// Kicks every other CPU, so that the idle ones look for chunks asked for (ChunkPool::want).
void kick_scrubbers();

// One LPAR's logical memory: logical chunk i is real chunk chunks_[i] of the pool.
class LogicalMap {
  public:
    // Gives the LPAR `bytes` of memory rounded up to whole chunks, all or nothing: false (and
    // nothing held) when bytes is 0 or over kMaxLparChunks chunks, the map already holds memory,
    // or the pool runs out.
    bool assign(ChunkPool& pool, u32 owner, u64 bytes);
    // Gives every chunk back to the pool (which must be the one assign() used).
    void release(ChunkPool& pool);

    u64 size() const { return u64{count_} << kChunkShift; }
    u32 chunk_count() const { return count_; }
    u32 owner() const { return owner_; }
    u32 real_chunk(u32 logical_index) const; // pool index, or kNoChunk
    // Makes every chunk ready (ChunkPool::ready) now, for an ISA that must map all of the LPAR's
    // memory at once: it asks for them (ChunkPool::want) and kicks the other CPUs, which zero
    // them while idle, zeroes the chunks nobody has begun yet, then waits for the rest.
    void ready_all() const;
    // True when [la, la + len) lies inside one chunk of the LPAR and may be touched without
    // zeroing anything first (no work done).
    bool is_ready(LogicalAddr la, u64 len) const;
    // The real base of logical chunk i whether or not it is zeroed yet: for reverse lookups
    // (real -> logical) and for deciding what to map, never to hand out an address.
    Optional<RealAddr> chunk_real(u32 logical_index) const;

    // True when [la, la + len) lies inside the LPAR (it may span chunks; len 0: la <= size()).
    bool contains(LogicalAddr la, u64 len) const;
    // Real address of la when [la, la + len) lies inside the LPAR and inside one chunk, so that
    // it is contiguous in real memory. len 0 is treated as 1 (la itself must be inside). This is
    // the one way to an address in the LPAR's memory (host_ptr and the copies use it): it zeroes
    // the granules of the range first when that has not happened yet (ChunkPool::ready).
    // Inline: the page-table hcalls translate on every H_ENTER.
    Optional<RealAddr> translate(LogicalAddr la, u64 len) const {
        if (len == 0) len = 1;
        if (la.value() >= size()) return {};
        const u64 off = la.value() & (kChunkSize - 1);
        if (len > kChunkSize - off) return {}; // outside the LPAR or across a chunk boundary
        const u32 index = chunks_[la.value() >> kChunkShift];
        u32 first, count;
        granules_of(off, len, &first, &count);
        // Nothing of a granule reaches the LPAR before it is zeroed.
        pool_->ready(index, first, count);
        return pool_->base(index) + off;
    }
    // As translate(la, align) but also requires align to be a power of two <= kChunkSize and la
    // to be a multiple of it (naturally aligned accesses, page-sized guest structures).
    Optional<RealAddr> translate_aligned(LogicalAddr la, u64 align) const {
        if (!is_pow2(align) || align > kChunkSize || !la.is_aligned(align)) return {};
        return translate(la, align);
    }
    // Host pointer for a range translate() accepts, or nullptr.
    void* host_ptr(LogicalAddr la, u64 len) const;
    // The pool the chunks come from (nullptr before assign): for real addresses that a
    // translation of this map produced earlier (shadow page-table entries).
    const ChunkPool* pool() const { return pool_; }

    // Copies that may cross chunk boundaries (loading guest images, reading guest buffers). They
    // check the whole range first and touch nothing when any of it is outside the LPAR.
    bool copy_in(LogicalAddr dst, const void* src, u64 len);
    bool copy_out(void* dst, LogicalAddr src, u64 len) const;
    bool fill(LogicalAddr dst, u8 value, u64 len);
    // Copies [src, src + len) to [dst, dst + len) inside this LPAR; the ranges may overlap (as
    // memmove). Both ranges must lie inside the LPAR, else nothing is touched.
    bool move(LogicalAddr dst, LogicalAddr src, u64 len);

  private:
    static_assert(kMaxChunks <= 0xffff, "pool indexes are stored as u16");
    // Calls fn(host pointer, bytes done so far, piece length) for each chunk-contiguous piece.
    template <class Fn>
    bool for_each_piece(LogicalAddr la, u64 len, Fn&& fn) const;
    // The granules [*first, *first + *count) of its chunk that [off, off + len) touches (len >= 1).
    static void granules_of(u64 off, u64 len, u32* first, u32* count) {
        *first = static_cast<u32>(off >> kGranuleShift);
        *count = static_cast<u32>(((off + len - 1) >> kGranuleShift) - *first + 1);
    }

    ChunkPool* pool_ = nullptr;
    u32 owner_ = kChunkFree;
    u32 count_ = 0;
    u16 chunks_[kMaxLparChunks] = {};
};

} // namespace tessera
