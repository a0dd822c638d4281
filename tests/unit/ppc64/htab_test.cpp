// The ppc64 HTAB: sizes, HPTE layout in memory, page-size encodings, the hash, the virtual
// address and tlbie operand rebuilt from an entry, invalidation, the VRMA.
#include "isa/ppc64/htab.hpp"

#include <doctest/doctest.h>

#include <algorithm>
#include <cstring>
#include <memory>
#include <vector>

using namespace tessera;
using namespace tessera::arch;

namespace {

// A table in a host buffer at a fake (size-aligned) real address, recording TLB invalidations.
struct Table {
    static constexpr u64 kReal = 0x4000'0000;
    std::vector<u64> mem;
    Htab htab;
    std::vector<TlbInvalidation> invs;
    usize sequences = 0;
    void (*during_tlbie)(Table&) = nullptr; // stands in for the hardware setting R/C

    explicit Table(u32 shift = Htab::kMinShift) : mem((u64{1} << shift) / 8, 0xdeadbeef) {
        REQUIRE(htab.init(mem.data(), RealAddr(kReal), shift, 42, TlbHook{&record, this}));
    }
    static void record(void* ctx, const TlbInvalidation* list, usize count) {
        auto* t = static_cast<Table*>(ctx);
        ++t->sequences;
        for (usize i = 0; i < count; ++i) t->invs.push_back(list[i]);
        if (t->during_tlbie) t->during_tlbie(*t);
    }
    const u8* bytes(u64 index) const {
        return reinterpret_cast<const u8*>(mem.data()) + index * 16;
    }
    // Sets bits in doubleword 1 the way the hardware would (big-endian in memory).
    void hw_set_r(u64 index, u64 bits) {
        u8* p = reinterpret_cast<u8*>(mem.data()) + index * 16 + 8;
        for (int i = 0; i < 8; ++i) p[i] |= static_cast<u8>(bits >> (56 - 8 * i));
    }
};

// A page as Linux describes it: VSID, byte offset in the segment, segment size, page size.
struct Page {
    u64 vsid;
    u64 offset;
    bool seg1t;
    PageEncoding enc;

    // Linux's vpn (VA >> 12; the VA itself may not fit 64 bits).
    u64 vpn() const {
        return seg1t ? (vsid << 28) | (offset >> 12) : (vsid << 16) | (offset >> 12);
    }
    u64 va() const { return vpn() << 12; } // low 64 bits
    // Linux's hpt_hash(), written over the vpn, independent of hash_256m/hash_1t.
    u64 hash() const {
        const u64 vpn = this->vpn();
        const u32 shift = enc.base_shift;
        u64 h;
        if (!seg1t) {
            const u64 mask = (u64{1} << (28 - 12)) - 1;
            h = (vpn >> (28 - 12)) ^ ((vpn & mask) >> (shift - 12));
        } else {
            const u64 mask = (u64{1} << (40 - 12)) - 1;
            const u64 v = vpn >> (40 - 12);
            h = v ^ (v << 25) ^ ((vpn & mask) >> (shift - 12));
        }
        return h & 0x7f'ffff'ffff;
    }
    // Linux's hpte_encode_avpn + hpte_encode_v.
    u64 v(bool secondary = false) const {
        u64 avpn = vpn() >> 11;                      // VA >> 23
        if (enc.actual_shift == 24) avpn &= ~u64{1}; // avpnm of 16M pages
        u64 x = (avpn << 7) | hpte::kValid;
        if (seg1t) x |= hpte::kSegment1T;
        if (enc.large) x |= hpte::kLarge;
        if (secondary) x |= hpte::kSecondary;
        return x;
    }
    u64 r(u64 pa) const {
        return (pa & ~(enc.page_size() - 1)) | enc.lp_bits() | hpte::kRef | hpte::kChange |
               hpte::kM | 2;
    }
};

// Linux's compute_tlbie_rb (arch/powerpc/include/asm/kvm_book3s_64.h), as a cross-check.
u64 linux_tlbie_rb(u64 v, u64 r, u64 pte_index, u32 a, u32 b) {
    u64 rb = (v & ~u64{0x7f}) << 16;
    u64 va_low = pte_index >> 3;
    if (v & hpte::kSecondary) va_low = ~va_low;
    if (!(v & hpte::kSegment1T))
        va_low ^= v >> (28 - 16);
    else
        va_low ^= v >> (40 - 16);
    va_low &= 0x7ff;
    if (b <= 12) {
        rb |= (va_low & 0x7ff) << 12;
    } else {
        rb |= (va_low << b) & 0x7ff000;
        rb &= ~((u64{1} << a) - 1);
        const u32 aval_shift = 64 - (77 - b) + 1;
        rb |= (va_low << aval_shift) & 0xfe;
        rb |= 1;
        rb |= r & 0xff000 & ((u64{1} << a) - 1);
    }
    rb |= (v >> 62) << 8;
    return rb;
}

} // namespace

TEST_CASE("htab size: 1/128 of memory, a power of two, 256 KiB .. 64 TiB") {
    CHECK(Htab::shift_for_memory(0) == 18);
    CHECK(Htab::shift_for_memory(16 * MiB) == 18);
    CHECK(Htab::shift_for_memory(32 * MiB) == 18);
    CHECK(Htab::shift_for_memory(64 * MiB) == 19);
    CHECK(Htab::shift_for_memory(1 * GiB) == 23);
    CHECK(Htab::shift_for_memory(1 * GiB + 1) == 24);
    CHECK(Htab::shift_for_memory(3 * GiB) == 25);
    CHECK(Htab::shift_for_memory(4 * GiB) == 25);
    CHECK(Htab::shift_for_memory(u64{1} << 53) == 46);
    CHECK(Htab::shift_for_memory(~u64{0}) == 46);
}

TEST_CASE("htab init: geometry, SDR1, zeroed memory") {
    Table t(19);
    CHECK(t.htab.ready());
    CHECK(t.htab.size() == 512 * KiB);
    CHECK(t.htab.entry_count() == 32768);
    CHECK(t.htab.group_count() == 4096);
    CHECK(t.htab.group_mask() == 4095);
    CHECK(t.htab.lpid() == 42);
    CHECK(t.htab.sdr1() == (Table::kReal | 1));
    CHECK(std::all_of(t.mem.begin(), t.mem.end(), [](u64 w) { return w == 0; }));
}

TEST_CASE("htab init rejects bad parameters") {
    std::vector<u64> mem((1 << 18) / 8);
    auto hook = TlbHook{&Table::record, nullptr};
    Htab h;
    CHECK_FALSE(h.ready());
    CHECK_FALSE(h.init(mem.data(), RealAddr(0), 17, 1, hook));
    CHECK_FALSE(h.init(mem.data(), RealAddr(0), 47, 1, hook));
    CHECK_FALSE(h.init(nullptr, RealAddr(0), 18, 1, hook));
    CHECK_FALSE(h.init(mem.data(), RealAddr(0x20000), 18, 1, hook)); // not size-aligned
    CHECK_FALSE(h.init(reinterpret_cast<u8*>(mem.data()) + 4, RealAddr(0), 18, 1, hook));
    CHECK_FALSE(h.init(mem.data(), RealAddr(0), 18, 1, TlbHook{}));
    CHECK_FALSE(h.ready());
    CHECK(h.size() == 0);
    CHECK(h.entry_count() == 0);
    CHECK(h.init(mem.data(), RealAddr(0x40000), 18, 1, hook));
    CHECK(h.ready());
    h.reset();
    CHECK_FALSE(h.ready());
}

TEST_CASE("htab entries are big-endian in memory") {
    Table t;
    const Hpte e{0x0102'0304'0506'0781, 0x1112'1314'1516'1718};
    t.htab.store_new(9, e);
    const u8 want[16] = {0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x81,
                         0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17, 0x18};
    CHECK(std::memcmp(t.bytes(9), want, 16) == 0);
    CHECK(t.htab.load(9) == e);
    CHECK(t.htab.load(9).valid());
    t.htab.clear(9);
    CHECK(t.htab.load(9) == Hpte{});
    CHECK(t.invs.empty());
}

TEST_CASE("page-size encodings decode to exactly one (base, actual) pair") {
    const u64 L = hpte::kLarge;
    auto dec = [](u64 v, u64 r) { return decode_page_size(v, r); };

    REQUIRE(dec(0, 0x1234'5000));
    CHECK(dec(0, 0x1234'5000)->actual_shift == 12);
    CHECK(dec(0, 0x1234'5000)->base_shift == 12);

    for (const PageEncoding& enc : kPageEncodings) {
        if (!enc.large) continue;
        const u64 r = (u64{0x37} << 24) | enc.lp_bits(); // some page-aligned address
        auto got = dec(L, r);
        REQUIRE(got);
        CHECK(got->base_shift == enc.base_shift);
        CHECK(got->actual_shift == enc.actual_shift);
        CHECK(got->lp == enc.lp);
        // Exactly one encoding matches.
        int matches = 0;
        for (const PageEncoding& other : kPageEncodings)
            if (other.large && (r & other.lp_mask()) == other.lp_bits()) ++matches;
        CHECK(matches == 1);
    }
    CHECK(dec(L, 0x10000 | 0x1000)->actual_shift == 16); // 64K at 64K, LP 0001
    CHECK(dec(L, 0x1000000)->actual_shift == 24);        // 16M at 16M, LP 0
    CHECK(dec(L, 0x1008000)->actual_shift == 24);        // 16M in 64K, LP 0x08
    CHECK(dec(L, 0x1008000)->base_shift == 16);

    CHECK_FALSE(dec(L, 0x7000));   // MPSS 64K in 4K: not offered
    CHECK_FALSE(dec(L, 0x38000));  // 16M in 4K: not offered
    CHECK_FALSE(dec(L, 0x3000));   // LP 0011 (16G in 16G): not offered
    CHECK_FALSE(dec(L, 0x2000));   // LP 0010: nothing
    CHECK_FALSE(dec(L, 0x100000)); // 16M with bit 20 set: misaligned
    CHECK_FALSE(dec(L, 0x18000));  // LP 0x18: nothing
    CHECK_FALSE(dec(L, 0x9000));   // 64K at an odd 32K boundary (bit 15 + LP 1)
}

TEST_CASE("hash: 256M and 1T segments match Linux's hpt_hash, secondary is the complement") {
    const Page pages[] = {
        {0x123456, 0x0abc'd000, false, kPage4K},    {0x3'ffff'ffff, 0x0fff'f000, false, kPage4K},
        {0x7a5a5, 0x0123'0000, false, kPage64K},    {0x999, 0x0500'0000, false, kPage16M},
        {0x999, 0x0500'0000, false, kPage16MIn64K}, {0x1ff'ffff, 0x23'4567'8000, true, kPage4K},
        {0xabcdef, 0x80'0001'0000, true, kPage64K}, {0x1ff'ffff, 0x3'0000'0000, true, kPage16M},
    };
    for (const Page& p : pages) {
        const u64 h = p.seg1t ? hash_1t(p.vsid, p.offset, p.enc.base_shift)
                              : hash_256m(p.vsid, p.offset, p.enc.base_shift);
        CHECK(h == p.hash());
        CHECK(h <= kHashMask);
    }
    CHECK((~hash_256m(5, 0x3000, 12) & 2047) == (2047 - (hash_256m(5, 0x3000, 12) & 2047)));
}

TEST_CASE("virtual address and tlbie RB rebuilt from an entry, primary and secondary group") {
    Table t(20); // 8192 groups
    const u64 mask = t.htab.group_mask();
    const Page pages[] = {
        {0x123456, 0x0abc'd000, false, kPage4K},
        {0x3'ffff'ffff, 0x0fff'f000, false, kPage4K},
        {0xf'ffff'ffff, 0x0000'1000, false, kPage4K},
        {0x7a5a5, 0x0123'0000, false, kPage64K},
        {0x999, 0x0500'0000, false, kPage16M},
        {0x777, 0x0f00'0000, false, kPage16MIn64K},
        {0x1ff'ffff, 0x23'4567'8000, true, kPage4K},
        {0xabcdef, 0x80'0001'0000, true, kPage64K},
        {0x1ff'ffff, 0x3'0000'0000, true, kPage16M},
        {0x12'3456, 0xff'ff00'0000, true, kPage16MIn64K},
    };
    for (const Page& p : pages) {
        for (bool secondary : {false, true}) {
            CAPTURE(p.vsid);
            CAPTURE(p.offset);
            CAPTURE(secondary);
            const u64 group = (secondary ? ~p.hash() : p.hash()) & mask;
            const u64 index = group * 8 + 3;
            const Hpte e{p.v(secondary), p.r(0x1'2300'0000)};
            const PageEncoding enc = *decode_page_size(e.v, e.r);
            CHECK(hpte_vpn(e, index, mask, enc) == p.vpn());
            CHECK(tlbie_rb(e, enc, p.vpn()) ==
                  linux_tlbie_rb(e.v, e.r, index, enc.actual_shift, enc.base_shift));

            t.htab.store_new(index, e);
            const TlbInvalidation inv = t.htab.invalidation_for(index, e);
            CHECK(inv.lpid == 42);
            CHECK(inv.vpn == p.vpn());
            CHECK(inv.va() == p.va());
            CHECK(inv.page_shift == p.enc.actual_shift);
            CHECK(inv.base_shift == p.enc.base_shift);
            CHECK(inv.segment_1t == p.seg1t);
            CHECK((inv.rb & 1) == (p.enc.large ? 1u : 0u));    // L
            CHECK(((inv.rb >> 8) & 3) == (p.seg1t ? 1u : 0u)); // B
            t.htab.clear(index);
        }
    }
}

TEST_CASE("invalidate: V cleared, one TLB sequence, R/C read after it") {
    Table t;
    const Hpte e{(u64{0x1234} << 7) | hpte::kValid, 0x5000 | hpte::kM | 2};
    t.htab.store_new(100, e);
    t.during_tlbie = [](Table& tb) {
        CHECK_FALSE(tb.htab.load(100).valid()); // invalid before the tlbie
        tb.hw_set_r(100, hpte::kRef | hpte::kChange);
    };
    const Hpte old = t.htab.invalidate(100);
    CHECK(old.v == e.v);
    CHECK(old.r == (e.r | hpte::kRef | hpte::kChange));
    CHECK(t.sequences == 1);
    REQUIRE(t.invs.size() == 1);
    CHECK(t.invs[0].page_shift == 12);
    CHECK_FALSE(t.htab.load(100).valid());

    // retire() + flush_tlb(): a batch is one sequence.
    t.during_tlbie = nullptr;
    t.htab.store_new(200, e);
    t.htab.store_new(201, e);
    TlbInvalidation batch[2] = {t.htab.retire(200), t.htab.retire(201)};
    CHECK(t.sequences == 1);
    t.htab.flush_tlb(batch, 2);
    CHECK(t.sequences == 2);
    CHECK(t.invs.size() == 3);
    t.htab.flush_tlb(batch, 0);
    CHECK(t.sequences == 2);
}

TEST_CASE("find_free_slot walks the 8 slots of one group") {
    Table t;
    CHECK(t.htab.find_free_slot(5) == 0);
    for (u64 s = 0; s < 8; ++s) {
        t.htab.store_new(5 * 8 + s, Hpte{hpte::kValid, 0});
        CHECK(t.htab.find_free_slot(5) == (s < 7 ? static_cast<int>(s) + 1 : -1));
    }
    CHECK(t.htab.find_free_slot(4) == 0);
    CHECK(t.htab.find_free_slot(6) == 0);
    t.htab.clear(5 * 8 + 3);
    CHECK(t.htab.find_free_slot(5) == 3);
}

namespace {
struct Ram {
    static constexpr u64 kBase = 1 * GiB;
    std::vector<u8> mem;
    std::unique_ptr<ChunkPool> pool = std::make_unique<ChunkPool>();
    explicit Ram(usize chunks) : mem(chunks * kChunkSize) {
        RealRange ram{RealAddr(kBase), chunks * kChunkSize};
        RealWindow w{reinterpret_cast<uptr>(mem.data()), RealAddr(kBase), mem.size()};
        REQUIRE(pool->init(&ram, 1, nullptr, 0, w));
    }
};
} // namespace

TEST_CASE("VRMA: one bolted 16M HPTE per RMA chunk, slot 7, VSID 0x1ffffff, 1T segment") {
    Ram ram(5);
    REQUIRE(ram.pool->allocate(7) == 0); // someone else's chunk first: logical != real order
    auto map = std::make_unique<LogicalMap>();
    REQUIRE(map->assign(*ram.pool, 1, 3 * kChunkSize));
    Table t;
    REQUIRE(t.htab.map_vrma(*map, 3));
    CHECK(t.invs.empty());
    const u64 vsid = Htab::kVrmaVsid;
    for (u64 i = 0; i < 3; ++i) {
        const u64 group = (vsid ^ (vsid << 25) ^ i) & t.htab.group_mask(); // as Linux KVM
        CHECK(t.htab.vrma_group(i) == group);
        const Hpte e = t.htab.load(group * 8 + 7);
        CHECK(e.valid());
        CHECK(e.bolted());
        CHECK(e.large());
        CHECK_FALSE(e.secondary());
        CHECK(e.segment_bits() == 1);
        CHECK(e.avpn() == ((vsid << 17) | (i << 1)));
        const RealAddr real = *map->translate(LogicalAddr(i << 24), kChunkSize);
        CHECK(real == RealAddr(Ram::kBase + (i + 1) * kChunkSize));
        CHECK((e.r & hpte::kRpn) == real.value()); // LP 0: 16M base page
        CHECK((e.r & hpte::kWimg) == hpte::kM);
        CHECK((e.r & hpte::kPp) == 0);
        CHECK((e.r & hpte::kNoExec) == 0);
        const PageEncoding enc = *decode_page_size(e.v, e.r);
        CHECK(enc.actual_shift == 24);
        CHECK(enc.base_shift == 24);
        CHECK(hpte_vpn(e, group * 8 + 7, t.htab.group_mask(), enc) == ((vsid << 28) | (i << 12)));
        // The other slots of the group are free for the guest.
        CHECK(t.htab.find_free_slot(group) == 0);
    }
}

TEST_CASE("VRMA: refused when the LPAR is smaller or a slot 7 is taken") {
    Ram ram(4);
    auto map = std::make_unique<LogicalMap>();
    REQUIRE(map->assign(*ram.pool, 1, 2 * kChunkSize));
    Table t;
    CHECK_FALSE(t.htab.map_vrma(*map, 3));
    CHECK_FALSE(t.htab.map_vrma(*map, 0));
    t.htab.store_new(t.htab.vrma_group(1) * 8 + 7, Hpte{hpte::kValid, 0});
    CHECK_FALSE(t.htab.map_vrma(*map, 2));
    CHECK_FALSE(t.htab.load(t.htab.vrma_group(0) * 8 + 7).valid()); // nothing half-done
    t.htab.clear(t.htab.vrma_group(1) * 8 + 7);
    CHECK(t.htab.map_vrma(*map, 2));
    Htab unready;
    CHECK_FALSE(unready.map_vrma(*map, 1));
}
