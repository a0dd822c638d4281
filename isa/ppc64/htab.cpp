#include "isa/ppc64/htab.hpp"

#include "common/rt/string.hpp"
#include <tessera/hot.hpp>

namespace tessera::arch {

namespace {

// The hardware reads HPTEs big-endian.
constexpr u64 to_be(u64 x) {
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    return __builtin_bswap64(x);
#else
    return x;
#endif
}
constexpr u64 from_be(u64 x) {
    return to_be(x);
}

// Ordering of HPTE stores against the hardware table walk. On POWER: eieio orders the two
// doubleword stores of one entry; ptesync makes page-table stores visible to the walk before the
// next access or tlbie. On a test host: plain fences (no table walker there).
#if defined(TESSERA_FREESTANDING) && defined(__powerpc64__)
inline void order_stores() {
    asm volatile("eieio" ::: "memory");
}
inline void pte_sync() {
    asm volatile("ptesync" ::: "memory");
}
#else
inline void order_stores() {
    __atomic_thread_fence(__ATOMIC_RELEASE);
}
inline void pte_sync() {
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
}
#endif

constexpr u64 low_mask(u32 bits) {
    return bits >= 64 ? ~u64{0} : (u64{1} << bits) - 1;
}

} // namespace

TESSERA_HOT Optional<PageEncoding> decode_page_size(u64 v, u64 r) {
    if ((v & hpte::kLarge) == 0) return kPage4K;
    for (const PageEncoding& enc : kPageEncodings) {
        if (!enc.large) continue;
        if ((r & enc.lp_mask()) == enc.lp_bits()) return enc;
    }
    return {};
}

TESSERA_HOT u64 hpte_vpn(Hpte e, u64 index, u64 group_mask, const PageEncoding& enc) {
    const u64 avpn = e.avpn(); // VA >> 23
    u64 vpn = avpn << 11;
    if (enc.base_shift < 23) {
        // The bits of the page index below VA bit 23 are not in the AVPN: recover them from the
        // group the entry sits in (hash = vsid-part XOR page index; group = hash & mask).
        u64 group = index >> 3;
        if (e.secondary()) group = ~group;
        u64 vsid_part;
        if (e.segment_bits() == 1) {
            const u64 vsid = avpn >> (kSegmentShift1T - 23);
            vsid_part = vsid ^ (vsid << 25);
        } else {
            vsid_part = avpn >> (kSegmentShift256M - 23);
        }
        const u64 page_index_low = (group ^ vsid_part) & group_mask;
        vpn |= (page_index_low & low_mask(23 - enc.base_shift)) << (enc.base_shift - 12);
    }
    return vpn & ~low_mask(enc.actual_shift - 12u);
}

TESSERA_HOT u64 tlbie_rb(Hpte e, const PageEncoding& enc, u64 vpn) {
    const u64 va = vpn << 12; // RB holds VA bits 12..63 at most
    u64 rb;
    if (!enc.large) {
        rb = va; // AVA: VA bits 12..63
    } else {
        const u64 page_mask = low_mask(enc.actual_shift);
        rb = va & ~page_mask;                                  // AVA above the page offset
        rb |= e.r & hpte::kLp & page_mask;                     // LP where the page offset is
        rb |= ((va & ~low_mask(enc.base_shift)) >> 12) & 0xfe; // AVAL
        rb |= 1;                                               // L
    }
    rb |= e.segment_bits() << 8; // B
    return rb;
}

bool Htab::init(void* host, RealAddr real, u32 shift, u32 lpid, TlbHook tlb) {
    reset();
    if (shift < kMinShift || shift > kMaxShift || host == nullptr || tlb.fn == nullptr)
        return false;
    if (!is_aligned(reinterpret_cast<uptr>(host), 8) || !real.is_aligned(u64{1} << shift))
        return false;
    rt::mem_set(host, 0, static_cast<usize>(u64{1} << shift));
    pte_sync();
    base_ = static_cast<u8*>(host);
    real_ = real;
    shift_ = shift;
    lpid_ = lpid;
    tlb_ = tlb;
    return true;
}

void Htab::reset() {
    base_ = nullptr;
    real_ = RealAddr(0);
    shift_ = 0;
    lpid_ = 0;
    tlb_ = {};
}

TESSERA_HOT volatile u64* Htab::slot_ptr(u64 index) const {
    TESSERA_ASSERT(ready() && index < entry_count());
    return reinterpret_cast<volatile u64*>(base_ + (index << kEntryShift));
}

TESSERA_HOT Hpte Htab::load(u64 index) const {
    volatile u64* p = slot_ptr(index);
    Hpte e;
    e.v = from_be(p[0]);
    e.r = from_be(p[1]);
    return e;
}

TESSERA_HOT void Htab::store_new(u64 index, Hpte e) {
    volatile u64* p = slot_ptr(index);
    p[1] = to_be(e.r);
    order_stores();
    p[0] = to_be(e.v);
    pte_sync();
}

TESSERA_HOT void Htab::clear(u64 index) {
    volatile u64* p = slot_ptr(index);
    p[0] = 0;
    order_stores();
    p[1] = 0;
    pte_sync();
}

TESSERA_HOT TlbInvalidation Htab::retire(u64 index) {
    volatile u64* p = slot_ptr(index);
    const Hpte e = load(index);
    p[0] = to_be(e.v & ~hpte::kValid);
    return invalidation_for(index, e);
}

TESSERA_HOT void Htab::flush_tlb(const TlbInvalidation* list, usize count) const {
    // The sequence starts with ptesync, which orders the V=0 stores before the tlbie.
    if (count != 0) tlb_.fn(tlb_.ctx, list, count);
}

TESSERA_HOT Hpte Htab::invalidate(u64 index) {
    const TlbInvalidation inv = retire(index);
    flush_tlb(&inv, 1);
    // R/C may have been set by the hardware until the invalidation completed: read them now.
    Hpte out = load(index);
    out.v |= hpte::kValid; // the entry as it was
    return out;
}

TESSERA_HOT int Htab::find_free_slot(u64 group_index) const {
    const u64 first = group_index << 3;
    for (u32 slot = 0; slot < kSlotsPerGroup; ++slot) {
        if (!load(first + slot).valid()) return static_cast<int>(slot);
    }
    return -1;
}

TESSERA_HOT TlbInvalidation Htab::invalidation_for(u64 index, Hpte e) const {
    // Entries reach the table only through H_ENTER / map_vrma, which accept valid encodings
    // only; fall back to 4K for anything else rather than trusting it.
    const PageEncoding enc = decode_page_size(e.v, e.r).value_or(kPage4K);
    TlbInvalidation inv;
    inv.lpid = lpid_;
    inv.vpn = hpte_vpn(e, index, group_mask(), enc);
    inv.rb = tlbie_rb(e, enc, inv.vpn);
    inv.base_shift = enc.base_shift;
    inv.page_shift = enc.actual_shift;
    inv.segment_1t = e.segment_bits() == 1;
    return inv;
}

Hpte Htab::vrma_entry(u64 page, RealAddr real) {
    // AVPN = VA >> 23 with VA = VSID || 40-bit offset (65 bits: computed without forming VA).
    const u64 avpn = (kVrmaVsid << (kSegmentShift1T - 23)) | (page << (kPage16M.actual_shift - 23));
    Hpte e;
    e.v = hpte::kSegment1T | ((avpn << hpte::kAvpnShift) & hpte::kAvpn) | hpte::kBolted |
          hpte::kLarge | hpte::kValid;
    // PP=00 key 0: read/write for the guest's real-mode accesses; coherent, R and C preset.
    e.r = (real.value() & hpte::kRpn & ~kPage16M.lp_mask()) | kPage16M.lp_bits() | hpte::kRef |
          hpte::kChange | hpte::kM;
    return e;
}

u64 Htab::vrma_group(u64 page) const {
    return hash_1t(kVrmaVsid, page << kPage16M.actual_shift, kPage16M.base_shift) & group_mask();
}

bool Htab::map_vrma(const LogicalMap& memory, u32 chunks) {
    static_assert(kChunkShift == 24, "the VRMA maps one chunk per 16M page");
    if (!ready() || chunks == 0 || chunks > memory.chunk_count()) return false;
    // Pages 0..chunks-1 hash to distinct groups (page XOR constant, < group_count()).
    if (chunks > group_count()) return false;
    Guard g(*this);
    for (u32 i = 0; i < chunks; ++i) {
        if (load((vrma_group(i) << 3) + kVrmaSlot).valid()) return false;
        if (!memory.translate(LogicalAddr(u64{i} << kChunkShift), kChunkSize)) return false;
    }
    for (u32 i = 0; i < chunks; ++i) {
        const RealAddr real = *memory.translate(LogicalAddr(u64{i} << kChunkShift), kChunkSize);
        store_new((vrma_group(i) << 3) + kVrmaSlot, vrma_entry(i, real));
    }
    return true;
}

TESSERA_HOT void Htab::lock() {
    while (__atomic_exchange_n(&lock_, 1u, __ATOMIC_ACQUIRE) != 0) {
        while (__atomic_load_n(&lock_, __ATOMIC_RELAXED) != 0) {
        }
    }
}

TESSERA_HOT void Htab::unlock() {
    __atomic_store_n(&lock_, 0u, __ATOMIC_RELEASE);
}

} // namespace tessera::arch
