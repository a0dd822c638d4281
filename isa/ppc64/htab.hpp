// The hashed page table (HTAB) of one LPAR on POWER8 (Power ISA v2.07 HPTE format), as host-
// testable logic: HPTE bit definitions, page-size encodings, the hash, PTEG groups, slot search,
// the TLB invalidation each change of a valid entry needs, and the VRMA entries.
//
// Memory layout: 2^shift bytes (shift 18..46), aligned to its size in real memory (SDR1's HTABORG
// requirement); 2^(shift-7) PTE groups (PTEGs) of 128 bytes, 8 HPTEs of 16 bytes each. The
// hardware table walk always reads HPTEs BIG-endian, whatever MSR[LE]/HILE say, so every
// doubleword is stored big-endian (byte-swapped on a little-endian hypervisor or test host).
//
// Who computes what: the guest computes the hash and hands H_ENTER the index of a PTEG (primary
// or secondary, with the H bit set accordingly in the HPTE); the hypervisor only searches the 8
// slots of that group. The hash functions here are for the VRMA entries the hypervisor inserts
// itself, for reconstructing a virtual address from an entry (the tlbie operand) and for tests.
//
// Page sizes the HTAB accepts (base = the segment's page size from the SLB, actual = the page
// the HPTE maps). The HPTE encodes them with L (doubleword 0) and the LP bits, which occupy the
// low RPN bits 12..(actual shift - 1) of doubleword 1 and must match exactly:
//     base 4K,  actual 4K:  L=0
//     base 64K, actual 64K: L=1, LP = 0x01 (bits 12..15 = 0001)
//     base 64K, actual 16M: L=1, LP = 0x08 (bits 12..23 = 0000 0000 1000)
//     base 16M, actual 16M: L=1, LP = 0x00 (bits 12..23 = 0)
// These are POWER8's own encodings (the hardware and QEMU decode exactly these), so the guest's
// device tree must advertise exactly this set and nothing else:
//     ibm,segment-page-sizes = <0x0c 0x000 1  0x0c 0x00
//                               0x10 0x110 2  0x10 0x01  0x18 0x08
//                               0x18 0x100 1  0x18 0x00>;
// (no 16G pages, no MPSS 64K-in-4K or 16M-in-4K). Every valid encoding decodes to exactly one
// (base, actual) pair from the HPTE alone, so H_ENTER can validate without knowing the SLB.
#pragma once

#include <tessera/addr.hpp>
#include <tessera/types.hpp>

#include "common/chunks.hpp"
#include "common/lib/optional.hpp"

namespace tessera::arch {

// ---- HPTE bits (LSB-0 numbering; the ISA's IBM bit n is bit 63-n here) -----------------------
namespace hpte {

// Doubleword 0 (PAPR "pteh", Linux "v").
inline constexpr u64 kValid = u64{1} << 0;      // V
inline constexpr u64 kSecondary = u64{1} << 1;  // H: entry sits in its secondary-hash group
inline constexpr u64 kLarge = u64{1} << 2;      // L: page larger than 4K, size in LP
inline constexpr u64 kSoftware = u64{0xf} << 3; // SW bits 3..6: the guest's own use
inline constexpr u64 kLock = u64{1} << 3;       // Linux's software lock bit (guest convention)
inline constexpr u64 kBolted = u64{1} << 4;     // PAPR/Linux "bolted" software bit
inline constexpr u32 kAvpnShift = 7;
inline constexpr u64 kAvpn = ((u64{1} << 55) - 1) << kAvpnShift; // VA bits 77..23 (VA >> 23)
inline constexpr u64 kCompareMask = ~u64{0x7f};                  // what H_AVPN compares: B and AVPN
inline constexpr u32 kSegmentShift = 62;                         // B: segment size
inline constexpr u64 kSegment = u64{3} << kSegmentShift;
inline constexpr u64 kSegment256M = u64{0} << kSegmentShift;
inline constexpr u64 kSegment1T = u64{1} << kSegmentShift;

// Doubleword 1 (PAPR "ptel", Linux "r").
inline constexpr u64 kPp0 = u64{1} << 63;
inline constexpr u64 kReserved1 = u64{1} << 62; // must be zero
inline constexpr u64 kKeyHi = u64{3} << 60;     // storage key bits 0:1
inline constexpr u32 kRpnShift = 12;
inline constexpr u64 kRpn = 0x0fff'ffff'ffff'f000; // real page number (+ LP for large pages)
inline constexpr u64 kLp = 0xff000;                // LP field (bits 12..19)
inline constexpr u64 kKeyLo = u64{7} << 9;         // storage key bits 2:4
inline constexpr u64 kRef = u64{1} << 8;           // R, set by hardware
inline constexpr u64 kChange = u64{1} << 7;        // C, set by hardware
inline constexpr u64 kW = u64{1} << 6;             // write-through
inline constexpr u64 kI = u64{1} << 5;             // cache-inhibited
inline constexpr u64 kM = u64{1} << 4;             // memory coherence
inline constexpr u64 kG = u64{1} << 3;             // guarded
inline constexpr u64 kWimg = kW | kI | kM | kG;
inline constexpr u64 kNoExec = u64{1} << 2; // N
inline constexpr u64 kPp = 3;               // pp1:pp2
// The protection bits H_PROTECT rewrites.
inline constexpr u64 kProtection = kPp0 | kKeyHi | kKeyLo | kNoExec | kPp;

} // namespace hpte

// One HPTE as numbers (host byte order).
struct Hpte {
    u64 v = 0; // doubleword 0
    u64 r = 0; // doubleword 1

    constexpr bool valid() const { return (v & hpte::kValid) != 0; }
    constexpr bool secondary() const { return (v & hpte::kSecondary) != 0; }
    constexpr bool large() const { return (v & hpte::kLarge) != 0; }
    constexpr bool bolted() const { return (v & hpte::kBolted) != 0; }
    constexpr u64 segment_bits() const { return (v & hpte::kSegment) >> hpte::kSegmentShift; }
    constexpr u64 avpn() const { return (v & hpte::kAvpn) >> hpte::kAvpnShift; } // VA >> 23
    constexpr bool operator==(const Hpte&) const = default;
};

// ---- Page sizes --------------------------------------------------------------------------------
struct PageEncoding {
    u8 base_shift;   // segment base page size (log2)
    u8 actual_shift; // page size the HPTE maps (log2)
    bool large;      // L bit
    u16 lp;          // LP value, in bits 12..(actual_shift-1) of doubleword 1 (large pages only)

    constexpr u64 page_size() const { return u64{1} << actual_shift; }
    // The bits of doubleword 1 that hold LP: 12..(actual_shift - 1); 0 for 4K pages.
    constexpr u64 lp_mask() const { return (page_size() - 1) & hpte::kRpn; }
    constexpr u64 lp_bits() const { return u64{lp} << hpte::kRpnShift; }
};

inline constexpr PageEncoding kPage4K{12, 12, false, 0x00};
inline constexpr PageEncoding kPage64K{16, 16, true, 0x01};
inline constexpr PageEncoding kPage16MIn64K{16, 24, true, 0x08};
inline constexpr PageEncoding kPage16M{24, 24, true, 0x00};
inline constexpr PageEncoding kPageEncodings[] = {kPage4K, kPage64K, kPage16MIn64K, kPage16M};

// The page size an HPTE encodes, or nothing for an encoding the HTAB does not accept.
Optional<PageEncoding> decode_page_size(u64 v, u64 r);

// ---- Hash --------------------------------------------------------------------------------------
inline constexpr u64 kHashMask = (u64{1} << 39) - 1; // the ISA's hash value is 39 bits
inline constexpr u32 kSegmentShift256M = 28;
inline constexpr u32 kSegmentShift1T = 40;

// Primary hash of the page at byte `offset` in the segment with `vsid`, for the segment's base
// page shift. The group index is hash & Htab::group_mask(); the secondary group is
// ~hash & group_mask().
constexpr u64 hash_256m(u64 vsid, u64 offset, u32 base_shift) {
    return (vsid ^ ((offset & ((u64{1} << kSegmentShift256M) - 1)) >> base_shift)) & kHashMask;
}
constexpr u64 hash_1t(u64 vsid, u64 offset, u32 base_shift) {
    return (vsid ^ (vsid << 25) ^ ((offset & ((u64{1} << kSegmentShift1T) - 1)) >> base_shift)) &
           kHashMask;
}

// ---- TLB invalidation -------------------------------------------------------------------------
// What the hardware must forget after a valid HPTE changed or went away.
struct TlbInvalidation {
    u32 lpid = 0;
    u64 rb = 0;  // the tlbie RB operand (ISA v2.07 layout: AVA, LP/AVAL, B, L)
    u64 vpn = 0; // virtual page number in 4K units (VA >> 12, as Linux's "vpn"), page-aligned
    u8 base_shift = 0;
    u8 page_shift = 0;
    bool segment_1t = false;

    constexpr u64 va() const { return vpn << 12; } // low 64 bits of the 78-bit VA
};

// Invalidates `count` (1..4) translations with one synchronisation sequence. The image uses the
// real sequence (isa/ppc64/tlb.hpp); host tests record the requests.
using TlbInvalidateFn = void (*)(void* ctx, const TlbInvalidation* list, usize count);
struct TlbHook {
    TlbInvalidateFn fn = nullptr;
    void* ctx = nullptr;
};

// ---- The table ---------------------------------------------------------------------------------
class Htab {
  public:
    static constexpr u32 kMinShift = 18; // 256 KiB: 2^11 groups, the architected minimum
    static constexpr u32 kMaxShift = 46;
    static constexpr u32 kEntryShift = 4; // 16-byte HPTEs
    static constexpr u32 kGroupShift = 7; // 128-byte PTEGs
    static constexpr u32 kSlotsPerGroup = 8;

    // The VRMA: guest real-mode accesses translate through 16M HPTEs of this VSID in a 1T
    // segment (LPCR[VRMASD] = kVrmaSd), one per RMA page, bolted, in slot 7 of the primary group.
    static constexpr u64 kVrmaVsid = 0x1ff'ffff;
    static constexpr u32 kVrmaSlot = 7;
    static constexpr u64 kVrmaSd = 0x10; // L=1, LP=00: 16M pages

    // log2 of the HTAB size for an LPAR with `memory_bytes` of memory: 1/128 of the memory
    // rounded up to a power of two, clamped to kMinShift..kMaxShift.
    static constexpr u32 shift_for_memory(u64 memory_bytes) {
        u32 log2 = 0;
        while (log2 < 63 && (u64{1} << log2) < memory_bytes) ++log2;
        u32 shift = log2 > 7 ? log2 - 7 : 0;
        if (shift < kMinShift) shift = kMinShift;
        if (shift > kMaxShift) shift = kMaxShift;
        return shift;
    }

    // Takes the table memory: `host` is where hypervisor code sees it, `real` its real address
    // (aligned to 2^shift), and zeroes it. `lpid` goes into every tlbie. False (and not ready)
    // for a bad shift, a null or misaligned pointer, a misaligned real address or no TLB hook.
    bool init(void* host, RealAddr real, u32 shift, u32 lpid, TlbHook tlb);
    // Forgets the table (the caller flushes the LPID's TLB entries and reuses the memory).
    void reset();

    bool ready() const { return base_ != nullptr; }
    u32 shift() const { return shift_; }
    u64 size() const { return ready() ? u64{1} << shift_ : 0; }
    u64 entry_count() const { return size() >> kEntryShift; }
    u64 group_count() const { return size() >> kGroupShift; }
    u64 group_mask() const { return group_count() - 1; }
    RealAddr real_base() const { return real_; }
    u32 lpid() const { return lpid_; }
    // SDR1 for this table: HTABORG | HTABSIZE (log2(size) - 18).
    u64 sdr1() const { return real_.value() | (shift_ - kMinShift); }

    // Entry access; index < entry_count(). Callers that change entries hold the lock.
    Hpte load(u64 index) const;
    // Fills an invalid slot: doubleword 1 first, then doubleword 0 (with V) so the hardware
    // never sees a half-written valid entry.
    void store_new(u64 index, Hpte e);
    // Takes a valid entry out of the hardware's view: clears V and returns the TLB invalidation
    // that must follow (flush_tlb) before the slot is reused or its R/C bits are final. Lets
    // H_BULK_REMOVE batch up to 4 invalidations into one synchronisation sequence.
    TlbInvalidation retire(u64 index);
    // Runs the TLB hook once for `count` invalidations.
    void flush_tlb(const TlbInvalidation* list, usize count) const;
    // retire() + flush_tlb() for one entry: returns the entry as it was (V set) with its final
    // R/C bits (the hardware may set them until the tlbie completed). The slot stays invalid
    // with its other contents until store_new/clear.
    Hpte invalidate(u64 index);
    void clear(u64 index); // both doublewords zero (no TLB work: use on invalid entries)

    // First invalid slot (0..7) of group `group_index`, or -1.
    int find_free_slot(u64 group_index) const;

    // The TLB invalidation for a valid entry at `index` (VA rebuilt from the AVPN and the group).
    TlbInvalidation invalidation_for(u64 index, Hpte e) const;

    // Inserts the VRMA: `chunks` 16 MiB pages mapping logical 0.. to the LPAR's real chunks.
    // False (nothing inserted) when the LPAR has fewer chunks, or a slot 7 is taken.
    bool map_vrma(const LogicalMap& memory, u32 chunks);
    // The VRMA HPTE for RMA page `page` backed by real address `real`, and its group index.
    static Hpte vrma_entry(u64 page, RealAddr real);
    u64 vrma_group(u64 page) const;
    // True for an HPTE in the VRMA's segment (1T, VSID kVrmaVsid): the hypervisor's mapping of
    // the LPAR's real-mode area, which the guest may neither create nor change.
    static constexpr bool is_vrma(const Hpte& e) {
        return e.segment_bits() == 1 && (e.avpn() >> (kSegmentShift1T - 23)) == kVrmaVsid;
    }

    // A simple spinlock around multi-step changes (vcpus of one LPAR may make hcalls on several
    // physical CPUs at once).
    void lock();
    void unlock();
    class Guard {
      public:
        explicit Guard(Htab& h) : h_(h) { h_.lock(); }
        ~Guard() { h_.unlock(); }
        Guard(const Guard&) = delete;
        Guard& operator=(const Guard&) = delete;

      private:
        Htab& h_;
    };

  private:
    volatile u64* slot_ptr(u64 index) const;

    u8* base_ = nullptr;
    RealAddr real_;
    u32 shift_ = 0;
    u32 lpid_ = 0;
    TlbHook tlb_;
    u32 lock_ = 0;
};

// Virtual page number (VA >> 12; exact for the VAs POWER8 implements, < 2^76) of the page an
// entry at `index` maps, in a table whose group mask is `group_mask` (at least 11 bits: the
// bits below VA bit 23 come from the group), aligned to the entry's actual page size.
u64 hpte_vpn(Hpte e, u64 index, u64 group_mask, const PageEncoding& enc);
// The tlbie RB operand (ISA v2.07) for an entry mapping virtual page `vpn`.
u64 tlbie_rb(Hpte e, const PageEncoding& enc, u64 vpn);

// ---- Inline definitions ------------------------------------------------------------------------
// Everything H_ENTER and H_REMOVE run, inline: under QEMU a function's return is an indirect
// branch whose target is looked up again after every TLB flush, and an H_REMOVE flushes
// (docs/benchmarks.md, "The page-table hcalls without calls").

namespace htab_detail {

// The hardware reads HPTEs big-endian.
inline constexpr u64 to_be(u64 x) {
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    return __builtin_bswap64(x);
#else
    return x;
#endif
}
inline constexpr u64 from_be(u64 x) {
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

inline constexpr u64 low_mask(u32 bits) {
    return bits >= 64 ? ~u64{0} : (u64{1} << bits) - 1;
}

} // namespace htab_detail

inline Optional<PageEncoding> decode_page_size(u64 v, u64 r) {
    if ((v & hpte::kLarge) == 0) return kPage4K;
    for (const PageEncoding& enc : kPageEncodings) {
        if (!enc.large) continue;
        if ((r & enc.lp_mask()) == enc.lp_bits()) return enc;
    }
    return {};
}

inline u64 hpte_vpn(Hpte e, u64 index, u64 group_mask, const PageEncoding& enc) {
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
        vpn |= (page_index_low & htab_detail::low_mask(23 - enc.base_shift))
               << (enc.base_shift - 12);
    }
    return vpn & ~htab_detail::low_mask(enc.actual_shift - 12u);
}

inline u64 tlbie_rb(Hpte e, const PageEncoding& enc, u64 vpn) {
    const u64 va = vpn << 12; // RB holds VA bits 12..63 at most
    u64 rb;
    if (!enc.large) {
        rb = va; // AVA: VA bits 12..63
    } else {
        const u64 page_mask = htab_detail::low_mask(enc.actual_shift);
        rb = va & ~page_mask;              // AVA above the page offset
        rb |= e.r & hpte::kLp & page_mask; // LP where the page offset is
        rb |= ((va & ~htab_detail::low_mask(enc.base_shift)) >> 12) & 0xfe; // AVAL
        rb |= 1;                                                            // L
    }
    rb |= e.segment_bits() << 8; // B
    return rb;
}

inline volatile u64* Htab::slot_ptr(u64 index) const {
    TESSERA_ASSERT(ready() && index < entry_count());
    return reinterpret_cast<volatile u64*>(base_ + (index << kEntryShift));
}

inline Hpte Htab::load(u64 index) const {
    volatile u64* p = slot_ptr(index);
    Hpte e;
    e.v = htab_detail::from_be(p[0]);
    e.r = htab_detail::from_be(p[1]);
    return e;
}

inline void Htab::store_new(u64 index, Hpte e) {
    volatile u64* p = slot_ptr(index);
    p[1] = htab_detail::to_be(e.r);
    htab_detail::order_stores();
    p[0] = htab_detail::to_be(e.v);
    htab_detail::pte_sync();
}

inline void Htab::clear(u64 index) {
    volatile u64* p = slot_ptr(index);
    p[0] = 0;
    htab_detail::order_stores();
    p[1] = 0;
    htab_detail::pte_sync();
}

inline TlbInvalidation Htab::retire(u64 index) {
    volatile u64* p = slot_ptr(index);
    const Hpte e = load(index);
    p[0] = htab_detail::to_be(e.v & ~hpte::kValid);
    return invalidation_for(index, e);
}

inline void Htab::flush_tlb(const TlbInvalidation* list, usize count) const {
    // The sequence starts with ptesync, which orders the V=0 stores before the tlbie.
    if (count != 0) tlb_.fn(tlb_.ctx, list, count);
}

inline Hpte Htab::invalidate(u64 index) {
    const TlbInvalidation inv = retire(index);
    flush_tlb(&inv, 1);
    // R/C may have been set by the hardware until the invalidation completed: read them now.
    Hpte out = load(index);
    out.v |= hpte::kValid; // the entry as it was
    return out;
}

inline int Htab::find_free_slot(u64 group_index) const {
    const u64 first = group_index << 3;
    for (u32 slot = 0; slot < kSlotsPerGroup; ++slot) {
        if (!load(first + slot).valid()) return static_cast<int>(slot);
    }
    return -1;
}

inline TlbInvalidation Htab::invalidation_for(u64 index, Hpte e) const {
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

inline void Htab::lock() {
    while (__atomic_exchange_n(&lock_, 1u, __ATOMIC_ACQUIRE) != 0) {
        while (__atomic_load_n(&lock_, __ATOMIC_RELAXED) != 0) {
        }
    }
}

inline void Htab::unlock() {
    __atomic_store_n(&lock_, 0u, __ATOMIC_RELEASE);
}

} // namespace tessera::arch
