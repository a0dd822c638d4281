#include "common/chunks.hpp"

#include "common/rt/panic.hpp"
#include "common/rt/string.hpp"

#include <tessera/arch.hpp>
#include <tessera/hot.hpp>

namespace tessera {

namespace {

constexpr u64 kChunkMask = kChunkSize - 1;
// Chunk numbers are real addresses >> kChunkShift. The topmost chunk is never used: its end,
// 2^64, has no u64 representation, and no machine has RAM there.
constexpr u64 kChunkNumberLimit = (~u64{0} >> kChunkShift);

// A byte range as [first, last] so that a range reaching 2^64 - 1 needs no overflowing end.
struct Span {
    u64 first;
    u64 last;
};

// Whole chunks inside [first, last]: chunk numbers [*lo, *hi).
void whole_chunks(Span s, u64* lo, u64* hi) {
    *lo = (s.first >> kChunkShift) + ((s.first & kChunkMask) != 0 ? 1 : 0);
    *hi = s.last == ~u64{0} ? kChunkNumberLimit : (s.last + 1) >> kChunkShift;
    if (*hi > kChunkNumberLimit) *hi = kChunkNumberLimit;
    if (*hi < *lo) *hi = *lo;
}

Span span_of(RealAddr base, u64 size) { // size > 0
    const u64 room = ~u64{0} - base.value();
    return Span{base.value(), size - 1 > room ? ~u64{0} : base.value() + (size - 1)};
}

bool overlaps(Span a, Span b) {
    return a.first <= b.last && b.first <= a.last;
}

// Sorts the non-empty RAM ranges and merges overlapping or adjacent ones. Returns the number of
// merged spans, or kMaxRamRanges + 1 when there are too many ranges.
usize normalise(const RealRange* ram, usize count, Span* out) {
    usize n = 0;
    for (usize i = 0; i < count; ++i) {
        if (ram[i].size == 0) continue;
        if (n == kMaxRamRanges) return kMaxRamRanges + 1;
        Span s = span_of(ram[i].base, ram[i].size);
        usize j = n++;
        for (; j > 0 && out[j - 1].first > s.first; --j) out[j] = out[j - 1];
        out[j] = s;
    }
    usize merged = 0;
    for (usize i = 0; i < n; ++i) {
        if (merged > 0) {
            Span& prev = out[merged - 1];
            if (prev.last == ~u64{0} || out[i].first <= prev.last + 1) {
                if (out[i].last > prev.last) prev.last = out[i].last;
                continue;
            }
        }
        out[merged++] = out[i];
    }
    return merged;
}

} // namespace

const char* to_string(ChunkStatus s) {
    switch (s) {
    case ChunkStatus::Ok:
        return "ok";
    case ChunkStatus::BadIndex:
        return "no such chunk";
    case ChunkStatus::NotAllocated:
        return "chunk is free";
    case ChunkStatus::NotOwner:
        return "chunk belongs to another owner";
    case ChunkStatus::Reserved:
        return "chunk is reserved";
    }
    return "?";
}

bool RealWindow::contains(RealAddr addr, u64 len) const {
    if (addr < real_base) return false;
    const u64 off = addr - real_base;
    if (off >= size) return false;
    return len <= size - off;
}

void* RealWindow::host_ptr(RealAddr addr, u64 len) const {
    if (!contains(addr, len)) return nullptr;
    // off < size, and a window never exceeds the host's address space, so this fits in uptr.
    return reinterpret_cast<void*>(host_base + static_cast<uptr>(addr - real_base));
}

bool ChunkPool::init(const RealRange* ram, usize ram_count, const RealRange* reserved,
                     usize reserved_count, RealWindow window) {
    used_ = free_ = reserved_ = 0;
    over_capacity_ = outside_window_ = 0;
    dirty_ = wanted_ = hypervisor_ = zeroed_granules_ = 0;
    window_ = window;

    Span spans[kMaxRamRanges];
    const usize n = normalise(ram, ram_count, spans);
    if (n > kMaxRamRanges) return false;

    u64 win_lo = 0, win_hi = 0;
    if (window.size != 0) whole_chunks(span_of(window.real_base, window.size), &win_lo, &win_hi);

    for (usize i = 0; i < n; ++i) {
        u64 lo, hi;
        whole_chunks(spans[i], &lo, &hi);
        // Only the part visible through the window can be used.
        const u64 vis_lo = lo > win_lo ? lo : win_lo;
        const u64 vis_hi = hi < win_hi ? hi : win_hi;
        const u64 visible = vis_hi > vis_lo ? vis_hi - vis_lo : 0;
        outside_window_ += (hi - lo) - visible;
        for (u64 c = vis_lo; c < vis_lo + visible; ++c) {
            if (used_ == kMaxChunks) {
                over_capacity_ += vis_lo + visible - c;
                break;
            }
            track(c, reserved, reserved_count);
        }
    }
    return true;
}

void ChunkPool::track(u64 chunk_number, const RealRange* reserved, usize reserved_count) {
    const RealAddr base(chunk_number << kChunkShift);
    bool is_reserved = chunk_number == 0;
    for (usize r = 0; r < reserved_count && !is_reserved; ++r) {
        if (reserved[r].size == 0) continue;
        is_reserved =
            overlaps(span_of(base, kChunkSize), span_of(reserved[r].base, reserved[r].size));
    }
    Chunk& c = chunks_[used_++];
    c.base = base;
    c.owner = is_reserved ? kChunkReserved : kChunkFree;
    c.reserved = is_reserved;
    c.wanted = 0;
    c.clean_count = 0;
    for (u32& w : c.clean) w = 0;
    if (is_reserved) {
        ++reserved_;
    } else {
        ++free_;
        ++dirty_;
    }
}

void ChunkPool::zero(Chunk& c, u32 first, u32 count) {
    const u64 len = u64{count} << kGranuleShift;
    void* mem = host_ptr(c.base + (u64{first} << kGranuleShift), len);
    TESSERA_ASSERT(mem != nullptr); // init() only tracks chunks inside the window
    if (scrub_fn_ != nullptr) {
        scrub_fn_(mem, static_cast<usize>(len));
    } else {
        rt::mem_set(mem, 0, static_cast<usize>(len));
    }
    __atomic_fetch_add(&zeroed_granules_, count, __ATOMIC_RELAXED);
}

void ChunkPool::zero_unknown(Chunk& c, u32 first, u32 count) {
    const u32 end = first + count;
    u32 added = 0;
    for (u32 g = first; g < end;) {
        if (clean_bit(c, g)) {
            ++g;
            continue;
        }
        u32 run = g + 1; // zero a run of unknown granules at once
        while (run < end && !clean_bit(c, run)) ++run;
        zero(c, g, run - g);
        for (u32 i = g; i < run; ++i) { // readers test the bits without the lock: release
            const u32 w = __atomic_load_n(&c.clean[i / 32], __ATOMIC_RELAXED) | (1u << (i % 32));
            __atomic_store_n(&c.clean[i / 32], w, __ATOMIC_RELEASE);
        }
        added += run - g;
        g = run;
    }
    if (added == 0) return;
    const u32 now = __atomic_add_fetch(&c.clean_count, added, __ATOMIC_RELEASE);
    if (now == kGranules) {
        __atomic_fetch_sub(&dirty_, 1, __ATOMIC_RELAXED);
        unwant(c);
    }
}

void ChunkPool::unwant(Chunk& c) {
    u8 expected = 1;
    if (__atomic_compare_exchange_n(&c.wanted, &expected, 0, false, __ATOMIC_RELAXED,
                                    __ATOMIC_RELAXED))
        __atomic_fetch_sub(&wanted_, 1, __ATOMIC_RELAXED);
}

TESSERA_HOT bool ChunkPool::is_clean(u32 index, u32 first, u32 count) const {
    if (index >= used_ || count == 0 || first >= kGranules || count > kGranules - first)
        return false;
    const Chunk& c = chunks_[index];
    if (__atomic_load_n(&c.clean_count, __ATOMIC_ACQUIRE) == kGranules) return true;
    for (u32 g = first; g < first + count; ++g)
        if (!clean_bit(c, g)) return false;
    return true;
}

void ChunkPool::ready_granules(u32 index, u32 first, u32 count) {
    TESSERA_ASSERT(index < used_ && !chunks_[index].reserved);
    TESSERA_ASSERT(count != 0 && first < kGranules && count <= kGranules - first);
    if (is_clean(index, first, count)) return; // the usual case: one load
    Chunk& c = chunks_[index];
    LockGuard hold(c.lock); // another CPU may zero granules of it meanwhile: wait, then look again
    zero_unknown(c, first, count);
}

void ChunkPool::want(u32 index) {
    TESSERA_ASSERT(index < used_ && !chunks_[index].reserved);
    Chunk& c = chunks_[index];
    if (is_clean(index)) return;
    u8 expected = 0;
    if (__atomic_compare_exchange_n(&c.wanted, &expected, 1, false, __ATOMIC_RELAXED,
                                    __ATOMIC_RELAXED))
        __atomic_fetch_add(&wanted_, 1, __ATOMIC_RELAXED);
}

usize ChunkPool::want_free(usize count) {
    usize asked = 0;
    for (usize i = 0; i < used_ && asked < count; ++i) {
        if (chunks_[i].owner != kChunkFree) continue;
        want(static_cast<u32>(i));
        ++asked;
    }
    return asked;
}

void ChunkPool::scrub_if_waiting(u32 index) {
    TESSERA_ASSERT(index < used_ && !chunks_[index].reserved);
    Chunk& c = chunks_[index];
    if (is_clean(index) || !c.lock.try_lock()) return;
    zero_unknown(c, 0, kGranules);
    c.lock.unlock();
}

bool ChunkPool::scrub_one() {
    if (__atomic_load_n(&wanted_, __ATOMIC_RELAXED) == 0) return false;
    for (usize i = 0; i < used_; ++i) {
        Chunk& c = chunks_[i];
        // Only chunks asked for: zeroing the others now would be work that may never be needed
        // (an owner's first use of a granule zeroes it anyway), and CPU time taken from the host.
        if (__atomic_load_n(&c.wanted, __ATOMIC_RELAXED) == 0 || !c.lock.try_lock()) continue;
        zero_unknown(c, 0, kGranules);
        unwant(c); // all clean now, or given back meanwhile
        c.lock.unlock();
        return true;
    }
    return false;
}

u32 ChunkPool::allocate(u32 owner) {
    if (owner == kChunkFree || owner == kChunkReserved) return kNoChunk;
    for (usize i = 0; i < used_; ++i) {
        Chunk& c = chunks_[i];
        if (c.owner != kChunkFree) continue;
        __atomic_store_n(&c.owner, owner, __ATOMIC_RELAXED);
        if (owner == kChunkHypervisor) ++hypervisor_;
        // Clean or not: ready() zeroes each granule before its first use.
        --free_;
        return static_cast<u32>(i);
    }
    return kNoChunk;
}

ChunkStatus ChunkPool::release(u32 index, u32 owner) {
    if (index >= used_) return ChunkStatus::BadIndex;
    Chunk& c = chunks_[index];
    if (c.owner == kChunkReserved) return ChunkStatus::Reserved;
    if (c.owner == kChunkFree) return ChunkStatus::NotAllocated;
    if (c.owner != owner) return ChunkStatus::NotOwner;
    {
        // An idle CPU may be zeroing it (want): wait for it. Clean granules are the ones the
        // owner may have written: zero them now, in runs. Unknown ones stay to be zeroed.
        LockGuard hold(c.lock);
        for (u32 g = 0; g < kGranules;) {
            if (!clean_bit(c, g)) {
                ++g;
                continue;
            }
            u32 run = g + 1;
            while (run < kGranules && clean_bit(c, run)) ++run;
            zero(c, g, run - g);
            g = run;
        }
        unwant(c);
    }
    if (owner == kChunkHypervisor) --hypervisor_;
    __atomic_store_n(&c.owner, kChunkFree, __ATOMIC_RELAXED);
    ++free_;
    return ChunkStatus::Ok;
}

namespace {
ChunkPool* the_pool = nullptr; // atomic: set once by the boot CPU, read by idle CPUs
} // namespace

void set_machine_pool(ChunkPool* pool) {
    __atomic_store_n(&the_pool, pool, __ATOMIC_RELEASE);
}

ChunkPool* machine_pool() {
    return __atomic_load_n(&the_pool, __ATOMIC_ACQUIRE);
}

bool scrub_in_background() {
    ChunkPool* pool = machine_pool();
    return pool != nullptr && pool->scrub_one();
}

void kick_scrubbers() {
    for (u32 cpu = 0; cpu < plat::cpu_count(); ++cpu)
        if (cpu != arch::cpu_index()) plat::kick_cpu(cpu);
}

u32 ChunkPool::owner(u32 index) const {
    return index < used_ ? chunks_[index].owner : kChunkReserved;
}

u32 ChunkPool::find(RealAddr addr) const {
    // Chunks are tracked in ascending order: binary search for the last base <= addr.
    usize lo = 0, hi = used_;
    while (lo < hi) {
        const usize mid = lo + (hi - lo) / 2;
        if (chunks_[mid].base <= addr) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    if (lo == 0) return kNoChunk;
    const Chunk& c = chunks_[lo - 1];
    return addr - c.base < kChunkSize ? static_cast<u32>(lo - 1) : kNoChunk;
}

// ---- LogicalMap -------------------------------------------------------------------------------

bool LogicalMap::assign(ChunkPool& pool, u32 owner, u64 bytes) {
    if (count_ != 0 || bytes == 0) return false;
    const u64 want = (bytes >> kChunkShift) + ((bytes & kChunkMask) != 0 ? 1 : 0);
    if (want > kMaxLparChunks || want > pool.free_count()) return false;
    pool_ = &pool;
    owner_ = owner;
    for (u64 i = 0; i < want; ++i) {
        const u32 idx = pool.allocate(owner);
        if (idx == kNoChunk) { // bad owner: give back what we took
            release(pool);
            return false;
        }
        chunks_[count_++] = static_cast<u16>(idx);
    }
    return true;
}

void LogicalMap::release(ChunkPool& pool) {
    if (pool_ == nullptr) return;
    TESSERA_ASSERT(pool_ == &pool);
    for (u32 i = 0; i < count_; ++i) {
        const ChunkStatus st = pool.release(chunks_[i], owner_);
        TESSERA_ASSERT(st == ChunkStatus::Ok); // the map and the pool disagree: a hypervisor bug
    }
    count_ = 0;
    owner_ = kChunkFree;
    pool_ = nullptr;
}

u32 LogicalMap::real_chunk(u32 logical_index) const {
    return logical_index < count_ ? chunks_[logical_index] : kNoChunk;
}

void LogicalMap::ready_all() const {
    // Under QEMU most of a chunk's first zeroing is the host backing its memory, which the CPUs
    // do in parallel (docs/benchmarks.md, "Scale").
    for (u32 i = 0; i < count_; ++i) pool_->want(chunks_[i]);
    kick_scrubbers();
    for (u32 i = 0; i < count_; ++i) pool_->scrub_if_waiting(chunks_[i]);
    for (u32 i = 0; i < count_; ++i) pool_->ready(chunks_[i]);
}

bool LogicalMap::is_ready(LogicalAddr la, u64 len) const {
    if (len == 0) len = 1;
    if (la.value() >= size()) return false;
    const u64 off = la.value() & kChunkMask;
    if (len > kChunkSize - off) return false;
    u32 first, count;
    granules_of(off, len, &first, &count);
    return pool_->is_clean(chunks_[la.value() >> kChunkShift], first, count);
}

Optional<RealAddr> LogicalMap::chunk_real(u32 logical_index) const {
    if (logical_index >= count_) return {};
    return pool_->base(chunks_[logical_index]);
}

bool LogicalMap::contains(LogicalAddr la, u64 len) const {
    const u64 end = size();
    return la.value() <= end && len <= end - la.value();
}

void* LogicalMap::host_ptr(LogicalAddr la, u64 len) const {
    const Optional<RealAddr> ra = translate(la, len);
    return ra ? pool_->host_ptr(*ra, len == 0 ? 1 : len) : nullptr;
}

template <class Fn>
bool LogicalMap::for_each_piece(LogicalAddr la, u64 len, Fn&& fn) const {
    if (!contains(la, len)) return false;
    u64 done = 0;
    while (done < len) {
        const LogicalAddr at = la + done;
        const u64 off = at.value() & kChunkMask;
        const u64 piece = len - done < kChunkSize - off ? len - done : kChunkSize - off;
        void* mem = host_ptr(at, piece);
        TESSERA_ASSERT(mem != nullptr); // every assigned chunk is visible through the window
        fn(static_cast<u8*>(mem), done, static_cast<usize>(piece));
        done += piece;
    }
    return true;
}

bool LogicalMap::copy_in(LogicalAddr dst, const void* src, u64 len) {
    const auto* from = static_cast<const u8*>(src);
    return for_each_piece(
        dst, len, [from](u8* mem, u64 done, usize n) { rt::mem_copy(mem, from + done, n); });
}

bool LogicalMap::copy_out(void* dst, LogicalAddr src, u64 len) const {
    auto* to = static_cast<u8*>(dst);
    return for_each_piece(src, len,
                          [to](u8* mem, u64 done, usize n) { rt::mem_copy(to + done, mem, n); });
}

bool LogicalMap::fill(LogicalAddr dst, u8 value, u64 len) {
    return for_each_piece(dst, len, [value](u8* mem, u64, usize n) { rt::mem_set(mem, value, n); });
}

bool LogicalMap::move(LogicalAddr dst, LogicalAddr src, u64 len) {
    if (!contains(dst, len) || !contains(src, len)) return false;
    if (len == 0 || dst == src) return true;
    // Downwards from the start, upwards from the end: no byte is overwritten before it is read.
    // Each step stays inside one chunk on both sides (chunks are not contiguous in real memory).
    const bool forward = dst < src;
    for (u64 done = 0; done < len;) {
        const u64 left = len - done;
        u64 d = 0, s = 0, n = left;
        if (forward) {
            d = dst.value() + done;
            s = src.value() + done;
            n = n < kChunkSize - (d & kChunkMask) ? n : kChunkSize - (d & kChunkMask);
            n = n < kChunkSize - (s & kChunkMask) ? n : kChunkSize - (s & kChunkMask);
        } else {
            const u64 d_end = dst.value() + left, s_end = src.value() + left;
            n = n < ((d_end - 1) & kChunkMask) + 1 ? n : ((d_end - 1) & kChunkMask) + 1;
            n = n < ((s_end - 1) & kChunkMask) + 1 ? n : ((s_end - 1) & kChunkMask) + 1;
            d = d_end - n;
            s = s_end - n;
        }
        void* to = host_ptr(LogicalAddr(d), n);
        const void* from = host_ptr(LogicalAddr(s), n);
        TESSERA_ASSERT(to != nullptr && from != nullptr); // inside, checked above
        rt::mem_move(to, from, static_cast<usize>(n));
        done += n;
    }
    return true;
}

} // namespace tessera
