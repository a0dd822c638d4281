// The PAPR page-table hcalls over an LPAR's HTAB: H_ENTER, H_REMOVE, H_READ, H_PROTECT,
// H_BULK_REMOVE, H_CLEAR_REF, H_CLEAR_MOD.
#include "isa/ppc64/mmu_hcalls.hpp"

#include <doctest/doctest.h>

#include <algorithm>
#include <cstring>
#include <memory>
#include <random>
#include <vector>

// Compiled against either the ppc64 <arch/...> headers or the host fakes; the dispatch glue is
// only tested with the former.
#include <arch/hcalls.hpp>

using namespace tessera;
using namespace tessera::arch;
using namespace tessera::hcall;

namespace {

constexpr u64 C = kChunkSize;
constexpr u64 kRAM = 1 * GiB; // real address of the fake RAM

// 6 chunks of fake real memory; another owner takes real chunks 0 and 2, the LPAR gets 1, 3, 4
// as its logical chunks 0, 1, 2 (48 MiB): logical and real layouts differ.
struct Machine {
    std::vector<u8> ram = std::vector<u8>(6 * C);
    std::unique_ptr<ChunkPool> pool = std::make_unique<ChunkPool>();
    std::unique_ptr<LogicalMap> memory = std::make_unique<LogicalMap>();

    Machine() {
        RealRange r{RealAddr(kRAM), ram.size()};
        RealWindow w{reinterpret_cast<uptr>(ram.data()), RealAddr(kRAM), ram.size()};
        REQUIRE(pool->init(&r, 1, nullptr, 0, w));
        REQUIRE(pool->allocate(9) == 0);
        const u32 one = pool->allocate(1);
        REQUIRE(pool->allocate(9) == 2);
        REQUIRE(pool->release(one, 1) == ChunkStatus::Ok);
        REQUIRE(memory->assign(*pool, 1, 3 * C));
        REQUIRE(*memory->translate(LogicalAddr(0), 1) == RealAddr(kRAM + 1 * C));
        REQUIRE(*memory->translate(LogicalAddr(C), 1) == RealAddr(kRAM + 3 * C));
        REQUIRE(*memory->translate(LogicalAddr(2 * C), 1) == RealAddr(kRAM + 4 * C));
    }
    static u64 real_of(u64 logical) {
        static constexpr u64 kRealChunk[] = {1, 3, 4};
        return kRAM + kRealChunk[logical / C] * C + logical % C;
    }
    u8* host(u64 logical) { return ram.data() + (real_of(logical) - kRAM); }
};

struct Guest {
    static constexpr u64 kHtabReal = 0x8000'0000;
    Machine machine;
    std::vector<u64> htab_mem = std::vector<u64>((u64{1} << Htab::kMinShift) / 8);
    Htab htab;
    MmuContext ctx{htab, *machine.memory};
    std::vector<TlbInvalidation> invs;
    usize sequences = 0;
    Frame last;

    Guest() {
        REQUIRE(htab.init(htab_mem.data(), RealAddr(kHtabReal), Htab::kMinShift, 7,
                          TlbHook{&record, this}));
    }
    static void record(void* c, const TlbInvalidation* list, usize n) {
        auto* g = static_cast<Guest*>(c);
        ++g->sequences;
        for (usize i = 0; i < n; ++i) g->invs.push_back(list[i]);
    }

    Ret call(Ret (*fn)(MmuContext&, Frame&), std::initializer_list<u64> args) {
        last = Frame{};
        usize i = 0;
        for (u64 a : args) last.args[i++] = a;
        for (u64& r : last.rets) r = 0xdead'beef'dead'beef;
        return fn(ctx, last);
    }
    Ret enter(u64 flags, u64 ptex, u64 v, u64 r) { return call(&h_enter, {flags, ptex, v, r}); }
    Ret remove(u64 flags, u64 ptex, u64 avpn) { return call(&h_remove, {flags, ptex, avpn}); }
    Ret read(u64 flags, u64 ptex) { return call(&h_read, {flags, ptex}); }
    Ret protect(u64 flags, u64 ptex, u64 avpn) { return call(&h_protect, {flags, ptex, avpn}); }
    Ret clear_ref(u64 flags, u64 ptex) { return call(&h_clear_ref, {flags, ptex}); }
    Ret clear_mod(u64 flags, u64 ptex) { return call(&h_clear_mod, {flags, ptex}); }
    Hpte at(u64 index) const { return htab.load(index); }
};

// An HPTE the way Linux builds one for a 256M segment: vsid, page index in the segment, page
// encoding, logical address; plus the group Linux computes for it.
struct Mapping {
    u64 vsid;
    u64 page; // page number within the segment, in units of the actual page size
    PageEncoding enc;
    u64 logical;
    bool secondary = false;
    u64 extra_r = hpte::kRef | hpte::kChange | hpte::kM | 2; // R, C, M, pp=10

    u64 offset() const { return page << enc.actual_shift; }
    u64 vpn() const { return (vsid << 16) | (offset() >> 12); }
    u64 v() const {
        u64 avpn = vpn() >> 11;
        if (enc.actual_shift == 24) avpn &= ~u64{1};
        return (avpn << 7) | (enc.large ? hpte::kLarge : 0) | (secondary ? hpte::kSecondary : 0) |
               hpte::kValid;
    }
    u64 r() const { return logical | enc.lp_bits() | extra_r; }
    u64 avpn_word() const { return v() & hpte::kCompareMask; } // what H_AVPN compares
    u64 group(const Htab& h) const {
        const u64 hash = hash_256m(vsid, offset(), enc.base_shift);
        return (secondary ? ~hash : hash) & h.group_mask();
    }
    u64 ptex(const Htab& h) const { return group(h) * 8; }
};

} // namespace

TEST_CASE("H_ENTER then H_READ: the entry holds the real address of the logical page") {
    Guest g;
    const Mapping m{0x1234, 0x56, kPage4K, C + 0x7000}; // logical chunk 1 -> real chunk 3
    const u64 ptex = m.ptex(g.htab);
    REQUIRE(g.enter(0, ptex, m.v(), m.r()) == H_SUCCESS);
    CHECK(g.last.rets[0] == ptex); // first free slot of the group
    CHECK(g.invs.empty());

    REQUIRE(g.read(0, ptex) == H_SUCCESS);
    CHECK(g.last.rets[0] == m.v());
    CHECK(g.last.rets[1] == (Machine::real_of(m.logical) | m.extra_r));
    CHECK((g.last.rets[1] & hpte::kRpn) == kRAM + 3 * C + 0x7000);
    CHECK(g.last.rets[2] == 0xdead'beef'dead'beef); // one entry only

    // With H_R_XLATE: the logical address back.
    REQUIRE(g.read(papr::H_R_XLATE, ptex) == H_SUCCESS);
    CHECK(g.last.rets[0] == m.v());
    CHECK(g.last.rets[1] == m.r());

    // The next H_ENTER into the group takes the next slot.
    const Mapping m2{0x1234, 0x56 + 2048, kPage4K, 0x1000}; // same group, other page
    REQUIRE(m2.ptex(g.htab) == ptex);
    REQUIRE(g.enter(0, ptex + 5, m2.v(), m2.r()) == H_SUCCESS); // low bits ignored without H_EXACT
    CHECK(g.last.rets[0] == ptex + 1);
}

TEST_CASE("H_ENTER: the V bit is set by the hypervisor, software bits are kept") {
    Guest g;
    const Mapping m{0x42, 1, kPage4K, 0x2000};
    const u64 v = (m.v() & ~hpte::kValid) | hpte::kBolted;
    REQUIRE(g.enter(0, 64, v, m.r()) == H_SUCCESS);
    CHECK(g.at(64).v == (v | hpte::kValid));
}

TEST_CASE("H_ENTER: logical addresses outside the LPAR are refused") {
    Guest g;
    const u64 size = g.machine.memory->size();
    REQUIRE(size == 3 * C);
    const Mapping last{1, 1, kPage4K, size - 0x1000};
    CHECK(g.enter(0, 0, last.v(), last.r()) == H_SUCCESS);
    for (u64 la : {size, size + 0x1000, 4 * C, u64{1} << 40, hpte::kRpn}) {
        CAPTURE(la);
        const Mapping m{1, 1, kPage4K, la & hpte::kRpn};
        CHECK(g.enter(0, 8, m.v(), m.r()) == H_PARAMETER);
    }
    // 16M at the last chunk is inside; one chunk further is not.
    CHECK(g.enter(0, 16, Mapping{1, 2, kPage16M, 2 * C}.v(), Mapping{1, 2, kPage16M, 2 * C}.r()) ==
          H_SUCCESS);
    CHECK(g.enter(0, 16, Mapping{1, 3, kPage16M, 3 * C}.v(), Mapping{1, 3, kPage16M, 3 * C}.r()) ==
          H_PARAMETER);
    CHECK(g.invs.empty());
    for (u64 i = 8; i < 16; ++i) CHECK_FALSE(g.at(i).valid());
}

TEST_CASE("H_ENTER: 64K and 16M pages must be aligned to their size") {
    Guest g;
    // 64K: LP 0001 in bits 12..15, address 64K-aligned.
    const Mapping ok64{0x77, 3, kPage64K, C + 0x30000};
    REQUIRE(g.enter(0, ok64.ptex(g.htab), ok64.v(), ok64.r()) == H_SUCCESS);
    const Hpte e64 = g.at(g.last.rets[0]);
    CHECK((e64.r & hpte::kRpn) == (Machine::real_of(C + 0x30000) | 0x1000));
    for (u64 la : {C + 0x38000, C + 0x32000, C + 0x34000, C + 0x18000}) {
        CAPTURE(la);
        CHECK(g.enter(0, 0, ok64.v(), la | 0x1000 | hpte::kM) == H_PARAMETER);
    }
    // 16M (16M base): bits 12..23 all zero.
    const Mapping ok16{0x88, 1, kPage16M, C};
    REQUIRE(g.enter(0, ok16.ptex(g.htab), ok16.v(), ok16.r()) == H_SUCCESS);
    CHECK((g.at(g.last.rets[0]).r & hpte::kRpn) == Machine::real_of(C));
    for (u64 la : {C + 0x10000, C + 0x800000, C + 0x2000}) {
        CAPTURE(la);
        CHECK(g.enter(0, 0, ok16.v(), la | hpte::kM) == H_PARAMETER);
    }
    // 16M in a 64K segment: LP 0x08.
    const Mapping thp{0x99, 2, kPage16MIn64K, 2 * C};
    REQUIRE(g.enter(0, thp.ptex(g.htab), thp.v(), thp.r()) == H_SUCCESS);
    CHECK((g.at(g.last.rets[0]).r & hpte::kRpn) == (Machine::real_of(2 * C) | 0x8000));
    CHECK(g.enter(0, 0, thp.v(), (2 * C + 0x10000) | 0x8000 | hpte::kM) == H_PARAMETER);
}

TEST_CASE("H_ENTER: bad encodings, segment sizes, WIMG, reserved bits and flags") {
    Guest g;
    const Mapping m{0x1, 1, kPage4K, 0x1000};
    const u64 v = m.v(), r = m.r();
    CHECK(g.enter(0, 0, v | hpte::kLarge, 0x7000 | hpte::kM) == H_PARAMETER);  // MPSS 64K in 4K
    CHECK(g.enter(0, 0, v | hpte::kLarge, 0x38000 | hpte::kM) == H_PARAMETER); // 16M in 4K
    CHECK(g.enter(0, 0, v | hpte::kLarge, 0x2000 | hpte::kM) == H_PARAMETER);
    CHECK(g.enter(0, 0, v | (u64{2} << 62), r) == H_PARAMETER); // B = 10: reserved
    CHECK(g.enter(0, 0, v | (u64{3} << 62), r) == H_PARAMETER);
    CHECK(g.enter(0, 0, v | hpte::kSegment1T, r) == H_SUCCESS); // 1T is fine
    CHECK(g.enter(0, 0, v, r | hpte::kReserved1) == H_PARAMETER);
    CHECK(g.enter(0, 0, v, (r & ~hpte::kWimg)) == H_PARAMETER);            // M=0
    CHECK(g.enter(0, 0, v, (r & ~hpte::kWimg) | hpte::kI) == H_PARAMETER); // cache-inhibited
    CHECK(g.enter(0, 0, v, r | hpte::kI) == H_PARAMETER);
    CHECK(g.enter(0, 0, v, r | hpte::kW) == H_PARAMETER);
    CHECK(g.enter(0, 0, v, r | hpte::kG) == H_PARAMETER);
    for (u64 flag = 1; flag != 0; flag <<= 1) {
        const u64 allowed = papr::H_EXACT | papr::H_ZERO_PAGE | papr::H_ICACHE_INVALIDATE |
                            papr::H_ICACHE_SYNCHRONIZE | papr::H_COALESCE_CAND;
        if (flag & allowed) continue;
        CAPTURE(flag);
        CHECK(g.enter(flag, 8, v, r) == H_PARAMETER);
    }
    CHECK(g.enter(papr::H_ICACHE_INVALIDATE | papr::H_ICACHE_SYNCHRONIZE | papr::H_COALESCE_CAND, 8,
                  v, r) == H_SUCCESS);
    // Bad PTE indexes.
    const u64 n = g.htab.entry_count();
    CHECK(g.enter(0, n, v, r) == H_PARAMETER);
    CHECK(g.enter(papr::H_EXACT, n, v, r) == H_PARAMETER);
    CHECK(g.enter(0, ~u64{0}, v, r) == H_PARAMETER);
    CHECK(g.enter(papr::H_EXACT, n - 1, v, r) == H_SUCCESS);
    CHECK(g.last.rets[0] == n - 1);
}

TEST_CASE("H_ENTER with H_EXACT: that slot or H_PTEG_FULL") {
    Guest g;
    const Mapping m{0x5, 9, kPage4K, 0x9000};
    const u64 base = m.ptex(g.htab);
    REQUIRE(g.enter(papr::H_EXACT, base + 5, m.v(), m.r()) == H_SUCCESS);
    CHECK(g.last.rets[0] == base + 5);
    const Hpte before = g.at(base + 5);
    const Mapping other{0x5, 10, kPage4K, 0xa000};
    CHECK(g.enter(papr::H_EXACT, base + 5, other.v(), other.r()) == H_PTEG_FULL);
    CHECK(g.at(base + 5) == before);
    // Without H_EXACT the group still has room.
    REQUIRE(g.enter(0, base + 5, other.v(), other.r()) == H_SUCCESS);
    CHECK(g.last.rets[0] == base);
}

TEST_CASE("a full group gives H_PTEG_FULL; the guest then uses the secondary group") {
    Guest g;
    const u64 groups = g.htab.group_count();
    Mapping m{0x3c3c, 0, kPage4K, 0};
    const u64 primary = m.group(g.htab);
    for (u64 i = 0; i < 8; ++i) {
        m.page = i * groups; // same primary group (page index differs above the mask)
        m.logical = i * 0x1000;
        REQUIRE(m.group(g.htab) == primary);
        REQUIRE(g.enter(0, primary * 8, m.v(), m.r()) == H_SUCCESS);
        CHECK(g.last.rets[0] == primary * 8 + i);
    }
    m.page = 8 * groups;
    m.logical = 0x8000;
    CHECK(g.enter(0, primary * 8, m.v(), m.r()) == H_PTEG_FULL);
    for (u64 i = 0; i < 8; ++i) CHECK(g.at(primary * 8 + i).valid());

    // Linux: retry in the secondary group with H set.
    m.secondary = true;
    const u64 secondary = m.group(g.htab);
    CHECK(secondary == (~primary & g.htab.group_mask()));
    REQUIRE(g.enter(0, secondary * 8, m.v(), m.r()) == H_SUCCESS);
    const u64 idx = g.last.rets[0];
    CHECK(idx == secondary * 8);
    CHECK(g.at(idx).secondary());

    // Removing it invalidates the right page: the VA is rebuilt from the secondary group.
    REQUIRE(g.remove(papr::H_AVPN, idx, m.avpn_word()) == H_SUCCESS);
    REQUIRE(g.invs.size() == 1);
    CHECK(g.invs[0].vpn == m.vpn());
    CHECK(g.invs[0].page_shift == 12);
    CHECK(g.invs[0].lpid == 7);
}

TEST_CASE("H_REMOVE: AVPN mismatch leaves the entry; a match removes it with one invalidation") {
    Guest g;
    const Mapping m{0xabc, 77, kPage64K, 0x50000};
    REQUIRE(g.enter(0, m.ptex(g.htab), m.v(), m.r()) == H_SUCCESS);
    const u64 idx = g.last.rets[0];
    const Hpte e = g.at(idx);

    CHECK(g.remove(papr::H_AVPN, idx, m.avpn_word() ^ (u64{1} << 20)) == H_NOT_FOUND);
    CHECK(g.remove(papr::H_AVPN, idx, m.avpn_word() | hpte::kSegment1T) == H_NOT_FOUND);
    CHECK(g.at(idx) == e);
    CHECK(g.invs.empty());

    REQUIRE(g.remove(papr::H_AVPN, idx, m.avpn_word()) == H_SUCCESS);
    CHECK(g.last.rets[0] == e.v);
    CHECK(g.last.rets[1] == e.r);
    CHECK(g.at(idx) == Hpte{});
    REQUIRE(g.invs.size() == 1);
    CHECK(g.sequences == 1);
    CHECK(g.invs[0].vpn == m.vpn());
    CHECK(g.invs[0].page_shift == 16);
    CHECK(g.invs[0].base_shift == 16);
    CHECK((g.invs[0].rb & 1) == 1);

    // Gone: a second remove finds nothing, with or without a condition.
    CHECK(g.remove(0, idx, 0) == H_NOT_FOUND);
    CHECK(g.remove(papr::H_AVPN, idx, m.avpn_word()) == H_NOT_FOUND);
    CHECK(g.invs.size() == 1);
}

TEST_CASE("H_REMOVE: ANDCOND, absolute, bad flags, bad index") {
    Guest g;
    const Mapping plain{0x10, 1, kPage4K, 0x1000};
    Mapping bolted{0x10, 2, kPage4K, 0x2000};
    REQUIRE(g.enter(papr::H_EXACT, 0, plain.v(), plain.r()) == H_SUCCESS);
    REQUIRE(g.enter(papr::H_EXACT, 1, bolted.v() | hpte::kBolted, bolted.r()) == H_SUCCESS);

    // Linux's eviction: remove unless bolted.
    CHECK(g.remove(papr::H_ANDCOND, 1, hpte::kBolted) == H_NOT_FOUND);
    CHECK(g.at(1).valid());
    CHECK(g.remove(papr::H_ANDCOND, 0, hpte::kBolted) == H_SUCCESS);
    CHECK_FALSE(g.at(0).valid());
    CHECK(g.invs.size() == 1);

    CHECK(g.remove(papr::H_AVPN | papr::H_ANDCOND, 1, 0) == H_PARAMETER);
    CHECK(g.remove(u64{1} << 63, 1, 0) == H_PARAMETER);
    CHECK(g.remove(papr::H_READ_4, 1, 0) == H_PARAMETER);
    CHECK(g.remove(0, g.htab.entry_count(), 0) == H_PARAMETER);
    CHECK(g.remove(0, ~u64{0}, 0) == H_PARAMETER);
    CHECK(g.at(1).valid());
    CHECK(g.invs.size() == 1);

    // Absolute (flags 0) removes whatever is there; H_LOCAL is accepted.
    CHECK(g.remove(papr::H_LOCAL, 1, 0) == H_SUCCESS);
    CHECK(g.last.rets[0] == (bolted.v() | hpte::kBolted));
    CHECK(g.invs.size() == 2);
}

TEST_CASE("H_REMOVE returns the R/C bits the hardware set until the tlbie") {
    Guest g;
    const Mapping m{0x20, 3, kPage4K, 0x3000, false, hpte::kM | 2}; // R=C=0 when entered
    REQUIRE(g.enter(papr::H_EXACT, 24, m.v(), m.r()) == H_SUCCESS);
    // The "hardware" sets R and C just before the invalidation takes effect.
    u8* hw = reinterpret_cast<u8*>(g.htab_mem.data()) + 24 * 16 + 8;
    hw[6] |= 0x01; // R: bit 8 of doubleword 1 -> byte 6 (big-endian)
    hw[7] |= 0x80; // C: bit 7 -> byte 7
    REQUIRE(g.remove(0, 24, 0) == H_SUCCESS);
    CHECK((g.last.rets[1] & (hpte::kRef | hpte::kChange)) == (hpte::kRef | hpte::kChange));
}

TEST_CASE("H_PROTECT: new pp/N/key bits, one invalidation, AVPN checked, R/C kept") {
    Guest g;
    const Mapping m{0x31, 4, kPage4K, 0x4000};
    REQUIRE(g.enter(0, m.ptex(g.htab), m.v(), m.r()) == H_SUCCESS);
    const u64 idx = g.last.rets[0];
    const Hpte before = g.at(idx);
    CHECK((before.r & hpte::kPp) == 2);

    // pp=11 (read-only), N set.
    REQUIRE(g.protect(papr::H_AVPN | 3 | papr::kProtectN, idx, m.avpn_word()) == H_SUCCESS);
    Hpte after = g.at(idx);
    CHECK(after.valid());
    CHECK(after.v == before.v);
    CHECK((after.r & hpte::kPp) == 3);
    CHECK((after.r & hpte::kNoExec) != 0);
    CHECK((after.r & ~(hpte::kPp | hpte::kNoExec)) == (before.r & ~(hpte::kPp | hpte::kNoExec)));
    REQUIRE(g.invs.size() == 1);
    CHECK(g.invs[0].vpn == m.vpn());
    CHECK(g.invs[0].page_shift == 12);

    // Same bits again: nothing changes, no invalidation.
    REQUIRE(g.protect(3 | papr::kProtectN, idx, 0) == H_SUCCESS);
    CHECK(g.invs.size() == 1);

    // pp0 and the key bits.
    REQUIRE(g.protect(papr::kProtectPp0 | papr::kProtectKeyHi | papr::kProtectKeyLo | 1, idx, 0) ==
            H_SUCCESS);
    after = g.at(idx);
    CHECK((after.r & hpte::kProtection) == (hpte::kPp0 | hpte::kKeyHi | hpte::kKeyLo | 1));
    CHECK((after.r & hpte::kRpn) == Machine::real_of(0x4000)); // address untouched
    CHECK(g.invs.size() == 2);

    // Wrong AVPN, invalid entry, bad flags, bad index.
    CHECK(g.protect(papr::H_AVPN | 2, idx, m.avpn_word() + 0x80) == H_NOT_FOUND);
    CHECK(g.protect(2, idx + 1, 0) == H_NOT_FOUND);
    CHECK(g.protect(papr::H_ANDCOND | 2, idx, 0) == H_PARAMETER);
    CHECK(g.protect(u64{1} << 20, idx, 0) == H_PARAMETER);
    CHECK(g.protect(0x80, idx, 0) == H_PARAMETER); // R/C are not H_PROTECT's to change
    CHECK(g.protect(0x8, idx, 0) == H_PARAMETER);
    CHECK(g.protect(2, g.htab.entry_count(), 0) == H_PARAMETER);
    CHECK(g.invs.size() == 2);
    CHECK(g.at(idx) == after);
}

TEST_CASE("H_PROTECT keeps R/C the hardware set meanwhile") {
    Guest g;
    const Mapping m{0x32, 4, kPage4K, 0x4000, false, hpte::kM | 2};
    REQUIRE(g.enter(papr::H_EXACT, 40, m.v(), m.r()) == H_SUCCESS);
    u8* hw = reinterpret_cast<u8*>(g.htab_mem.data()) + 40 * 16 + 8;
    hw[7] |= 0x80; // C
    REQUIRE(g.protect(3, 40, 0) == H_SUCCESS);
    CHECK((g.at(40).r & hpte::kChange) != 0);
    CHECK((g.at(40).r & hpte::kPp) == 3);
}

namespace {
u64 req(u64 ptex, u64 mode = papr::kBulkAbsolute) {
    return papr::kBulkRequest | mode | ptex;
}
Ret bulk(Guest& g, std::initializer_list<u64> args) {
    return g.call(&h_bulk_remove, args);
}
u64 code(u64 tsh) {
    return tsh & papr::kBulkCode;
}
} // namespace

TEST_CASE("H_BULK_REMOVE: mixed requests, one TLB sequence, per-entry responses") {
    Guest g;
    const Mapping a{0x40, 1, kPage4K, 0x1000};
    const Mapping b{0x40, 2, kPage64K, 0x20000, false, hpte::kM | 2};
    const Mapping c{0x40, 3, kPage16M, 2 * C, false, hpte::kRef | hpte::kM | 2};
    REQUIRE(g.enter(0, a.ptex(g.htab), a.v(), a.r()) == H_SUCCESS);
    const u64 ia = g.last.rets[0];
    REQUIRE(g.enter(0, b.ptex(g.htab), b.v(), b.r()) == H_SUCCESS);
    const u64 ib = g.last.rets[0];
    REQUIRE(g.enter(0, c.ptex(g.htab), c.v() | hpte::kBolted, c.r()) == H_SUCCESS);
    const u64 ic = g.last.rets[0];

    const u64 end = papr::kBulkEnd;
    REQUIRE(bulk(g, {req(ia), 0,                                     // absolute: removed
                     req(ib, papr::kBulkAvpn), b.avpn_word() ^ 0x80, // AVPN mismatch
                     req(ic, papr::kBulkAndcond), hpte::kBolted,     // bolted: kept
                     end, 0}) == H_SUCCESS);
    CHECK(g.last.rets[0] == (papr::kBulkResponse | papr::kBulkSuccess | papr::kBulkRefBit |
                             papr::kBulkChangeBit | ia));
    CHECK(g.last.rets[2] == (papr::kBulkResponse | papr::kBulkNotFound | papr::kBulkAvpn | ib));
    CHECK(g.last.rets[4] == (papr::kBulkResponse | papr::kBulkNotFound | papr::kBulkAndcond | ic));
    CHECK(g.last.rets[6] == end); // untouched
    CHECK(g.last.rets[1] == 0);   // low doublewords come back as given
    CHECK(g.last.rets[3] == (b.avpn_word() ^ 0x80));
    CHECK_FALSE(g.at(ia).valid());
    CHECK(g.at(ib).valid());
    CHECK(g.at(ic).valid());
    CHECK(g.sequences == 1);
    REQUIRE(g.invs.size() == 1);
    CHECK(g.invs[0].vpn == a.vpn());
    CHECK(g.invs[0].page_shift == 12);

    // Now both removable (AVPN matches; the ANDCOND mask 0x8 misses the bolted bit); `ia` is
    // gone already; no end marker, so the 4th (type 0) specifier is read and refused.
    REQUIRE(bulk(g, {req(ib, papr::kBulkAvpn), b.avpn_word(), req(ic, papr::kBulkAndcond),
                     hpte::kLock, req(ia), 0}) == H_PARAMETER);
    CHECK(code(g.last.rets[0]) == papr::kBulkSuccess);
    CHECK((g.last.rets[0] & (papr::kBulkRefBit | papr::kBulkChangeBit)) == 0); // b: R=C=0
    CHECK(code(g.last.rets[2]) == papr::kBulkSuccess);
    CHECK((g.last.rets[2] & (papr::kBulkRefBit | papr::kBulkChangeBit)) == papr::kBulkRefBit);
    CHECK(code(g.last.rets[4]) == papr::kBulkNotFound);
    CHECK(g.last.rets[6] == (papr::kBulkResponse | papr::kBulkParm | 0));
    CHECK(g.sequences == 2); // both removals in one sequence
    REQUIRE(g.invs.size() == 3);
    CHECK(g.invs[1].vpn == b.vpn());
    CHECK(g.invs[1].page_shift == 16);
    CHECK(g.invs[2].vpn == c.vpn());
    CHECK(g.invs[2].page_shift == 24);
    CHECK_FALSE(g.at(ib).valid());
    CHECK_FALSE(g.at(ic).valid());
}

TEST_CASE("H_BULK_REMOVE: a bad specifier stops the batch with H_PARAMETER") {
    Guest g;
    const Mapping a{0x41, 1, kPage4K, 0x1000};
    const Mapping b{0x41, 2, kPage4K, 0x2000};
    REQUIRE(g.enter(papr::H_EXACT, 8, a.v(), a.r()) == H_SUCCESS);
    REQUIRE(g.enter(papr::H_EXACT, 9, b.v(), b.r()) == H_SUCCESS);

    // A response-typed specifier in the middle: the first is done, the rest untouched.
    const u64 bad = papr::kBulkResponse | 9;
    REQUIRE(bulk(g, {req(8), 0, bad, 0, req(9), 0, papr::kBulkEnd, 0}) == H_PARAMETER);
    CHECK(code(g.last.rets[0]) == papr::kBulkSuccess);
    CHECK(g.last.rets[2] == (papr::kBulkResponse | papr::kBulkParm | 9));
    CHECK(g.last.rets[4] == req(9));
    CHECK_FALSE(g.at(8).valid());
    CHECK(g.at(9).valid());
    CHECK(g.invs.size() == 1); // the completed removal was still invalidated

    // Both ANDCOND and AVPN; an index out of range; type 0.
    CHECK(bulk(g, {req(9, papr::kBulkFlags), 0}) == H_PARAMETER);
    CHECK(g.last.rets[0] == (papr::kBulkResponse | papr::kBulkParm | papr::kBulkFlags | 9));
    CHECK(bulk(g, {req(g.htab.entry_count()), 0}) == H_PARAMETER);
    CHECK(bulk(g, {req(papr::kBulkPtex), 0}) == H_PARAMETER);
    CHECK(bulk(g, {9, 0}) == H_PARAMETER);
    CHECK(g.at(9).valid());
    CHECK(g.invs.size() == 1);

    // The same index twice: removed once, then not found.
    REQUIRE(bulk(g, {req(9), 0, req(9), 0, papr::kBulkEnd, 0}) == H_SUCCESS);
    CHECK(code(g.last.rets[0]) == papr::kBulkSuccess);
    CHECK(code(g.last.rets[2]) == papr::kBulkNotFound);
    CHECK(g.invs.size() == 2);

    // Only an end marker: nothing happens.
    REQUIRE(bulk(g, {papr::kBulkEnd, 0}) == H_SUCCESS);
    CHECK(g.invs.size() == 2);
}

TEST_CASE("H_CLEAR_REF / H_CLEAR_MOD: old doubleword 1 back, bit cleared, one invalidation") {
    Guest g;
    const Mapping m{0x50, 5, kPage4K, 0x5000}; // R and C set
    REQUIRE(g.enter(papr::H_EXACT, m.ptex(g.htab), m.v(), m.r()) == H_SUCCESS);
    const u64 idx = m.ptex(g.htab);
    const Hpte e = g.at(idx);

    REQUIRE(g.clear_ref(0, idx) == H_SUCCESS);
    CHECK(g.last.rets[0] == e.r);
    CHECK(g.at(idx).r == (e.r & ~hpte::kRef));
    CHECK(g.at(idx).valid());
    CHECK(g.invs.size() == 1);
    CHECK(g.invs[0].vpn == m.vpn());

    // R already clear: reported clear, nothing to invalidate.
    REQUIRE(g.clear_ref(0, idx) == H_SUCCESS);
    CHECK((g.last.rets[0] & hpte::kRef) == 0);
    CHECK(g.invs.size() == 1);

    REQUIRE(g.clear_mod(0, idx) == H_SUCCESS);
    CHECK((g.last.rets[0] & hpte::kChange) != 0);
    CHECK(g.at(idx).r == (e.r & ~(hpte::kRef | hpte::kChange)));
    CHECK(g.invs.size() == 2);
    REQUIRE(g.clear_mod(0, idx) == H_SUCCESS);
    CHECK((g.last.rets[0] & hpte::kChange) == 0);
    CHECK(g.invs.size() == 2);
    CHECK(g.at(idx).valid());

    CHECK(g.clear_ref(0, idx + 1) == H_NOT_FOUND);
    CHECK(g.clear_mod(0, idx + 1) == H_NOT_FOUND);
    CHECK(g.clear_ref(1, idx) == H_PARAMETER);
    CHECK(g.clear_mod(papr::H_AVPN, idx) == H_PARAMETER);
    CHECK(g.clear_ref(0, g.htab.entry_count()) == H_PARAMETER);
    CHECK(g.clear_mod(0, ~u64{0}) == H_PARAMETER);
    CHECK(g.invs.size() == 2);
}

TEST_CASE("H_READ: one entry, or four from the index rounded down to a multiple of 4") {
    Guest g;
    for (u64 i = 12; i < 16; ++i) {
        const Mapping m{0x60, i, kPage4K, i * 0x1000};
        REQUIRE(g.enter(papr::H_EXACT, i, m.v(), m.r()) == H_SUCCESS);
    }
    REQUIRE(g.read(papr::H_READ_4, 13) == H_SUCCESS);
    for (u64 i = 0; i < 4; ++i) {
        CHECK(g.last.rets[2 * i] == g.at(12 + i).v);
        CHECK(g.last.rets[2 * i + 1] == g.at(12 + i).r);
    }
    CHECK(g.last.rets[8] == 0xdead'beef'dead'beef);
    REQUIRE(g.read(papr::H_READ_4 | papr::H_R_XLATE, 15) == H_SUCCESS);
    for (u64 i = 0; i < 4; ++i) CHECK((g.last.rets[2 * i + 1] & hpte::kRpn) == (12 + i) * 0x1000);

    // Invalid entries read as they are; the last group is readable whole.
    const u64 n = g.htab.entry_count();
    REQUIRE(g.read(papr::H_READ_4, n - 1) == H_SUCCESS);
    for (u64 i = 0; i < 8; ++i) CHECK(g.last.rets[i] == 0);
    REQUIRE(g.read(0, n - 1) == H_SUCCESS);

    CHECK(g.read(0, n) == H_PARAMETER);
    CHECK(g.read(papr::H_READ_4, n) == H_PARAMETER);
    CHECK(g.read(papr::H_READ_4, ~u64{0}) == H_PARAMETER);
    CHECK(g.read(papr::H_EXACT, 0) == H_PARAMETER);
    CHECK(g.read(u64{1} << 63, 0) == H_PARAMETER);
    CHECK(g.invs.empty());
}

TEST_CASE("H_ENTER with H_ZERO_PAGE zeroes the page it maps, only when it maps it") {
    Guest g;
    std::memset(g.machine.host(C + 0x10000), 0x5a, 0x10000);
    const Mapping m{0x70, 1, kPage64K, C + 0x10000};
    REQUIRE(g.enter(papr::H_ZERO_PAGE | papr::H_EXACT, 32, m.v(), m.r()) == H_SUCCESS);
    const u8* p = g.machine.host(C + 0x10000);
    CHECK(std::all_of(p, p + 0x10000, [](u8 b) { return b == 0; }));
    CHECK(g.machine.host(C + 0x20000)[0] == 0); // the next page was never touched (chunk zeroed)

    std::memset(g.machine.host(0x30000), 0x5a, 0x10000);
    const Mapping m2{0x70, 3, kPage64K, 0x30000};
    REQUIRE(g.enter(papr::H_ZERO_PAGE | papr::H_EXACT, 32, m2.v(), m2.r()) == H_PTEG_FULL);
    CHECK(g.machine.host(0x30000)[0] == 0x5a);
}

TEST_CASE("real_to_logical inverts the LPAR's chunk map") {
    Machine mc;
    CHECK(*real_to_logical(*mc.memory, RealAddr(kRAM + C + 5)) == LogicalAddr(5));
    CHECK(*real_to_logical(*mc.memory, RealAddr(kRAM + 4 * C + 0x1000)) ==
          LogicalAddr(2 * C + 0x1000));
    CHECK_FALSE(real_to_logical(*mc.memory, RealAddr(kRAM)));         // another owner's chunk
    CHECK_FALSE(real_to_logical(*mc.memory, RealAddr(kRAM + 2 * C))); // another owner's chunk
    CHECK_FALSE(real_to_logical(*mc.memory, RealAddr(kRAM + 6 * C)));
    CHECK_FALSE(real_to_logical(*mc.memory, RealAddr(~u64{0})));
}

TEST_CASE("random and huge arguments never crash and never map outside the LPAR") {
    Guest g;
    std::mt19937_64 rng(20240601);
    auto pick = [&](std::initializer_list<u64> xs) {
        return *(xs.begin() + static_cast<std::ptrdiff_t>(rng() % xs.size()));
    };
    const u64 n = g.htab.entry_count();
    const u64 flag_pool[] = {0,
                             papr::H_EXACT,
                             papr::H_AVPN,
                             papr::H_ANDCOND,
                             papr::H_READ_4,
                             papr::H_R_XLATE,
                             papr::H_ZERO_PAGE,
                             papr::H_LOCAL,
                             3,
                             papr::kProtectPp0,
                             ~u64{0}};
    auto any = [&]() -> u64 {
        switch (rng() % 6) {
        case 0:
            return rng();
        case 1:
            return ~u64{0} - rng() % 4;
        case 2:
            return rng() % 64;
        case 3:
            return rng() % n;
        case 4:
            return u64{1} << (rng() % 64);
        default:
            return 0;
        }
    };
    // An HPTE that is right except, now and then, for one flipped bit.
    auto plausible = [&](u64& v, u64& r) {
        const PageEncoding& enc = kPageEncodings[rng() % 4];
        const u64 la = (rng() % (4 * C)) & ~(enc.page_size() - 1);
        r = la | enc.lp_bits() | hpte::kM |
            (rng() & (hpte::kProtection | hpte::kRef | hpte::kChange));
        v = (rng() & hpte::kAvpn) | (rng() & 0x7a) | (enc.large ? hpte::kLarge : 0);
        if (rng() % 3 == 0) v |= hpte::kSegment1T;
        if (rng() % 8 == 0) r ^= u64{1} << (rng() % 64);
        if (rng() % 16 == 0) v ^= u64{1} << (rng() % 64);
    };
    for (int i = 0; i < 40000; ++i) {
        Frame f;
        for (u64& a : f.args) a = any();
        f.args[0] = pick({flag_pool[rng() % 11], any()});
        switch (rng() % 8) {
        case 0:
        case 1: {
            if (rng() % 4) plausible(f.args[2], f.args[3]);
            const Ret r = h_enter(g.ctx, f);
            CHECK((r == H_SUCCESS || r == H_PARAMETER || r == H_PTEG_FULL));
            break;
        }
        case 2:
            h_remove(g.ctx, f);
            break;
        case 3:
            h_read(g.ctx, f);
            break;
        case 4:
            h_protect(g.ctx, f);
            break;
        case 5:
            for (usize k = 0; k < 8; k += 2)
                if (rng() % 2) f.args[k] = req(rng() % n, (rng() % 4) << 56);
            h_bulk_remove(g.ctx, f);
            break;
        case 6:
            h_clear_ref(g.ctx, f);
            break;
        default:
            h_clear_mod(g.ctx, f);
            break;
        }
    }
    // Every valid entry maps a page wholly inside the LPAR's chunks, with a valid encoding.
    usize valid = 0;
    for (u64 i = 0; i < n; ++i) {
        const Hpte e = g.at(i);
        if (!e.valid()) continue;
        ++valid;
        const auto enc = decode_page_size(e.v, e.r);
        REQUIRE(enc);
        CHECK((e.r & hpte::kWimg) == hpte::kM);
        CHECK(e.segment_bits() <= 1);
        const RealAddr real(e.r & hpte::kRpn & ~(enc->page_size() - 1));
        const auto la = real_to_logical(*g.machine.memory, real);
        REQUIRE(la);
        CHECK(la->is_aligned(enc->page_size()));
        CHECK(*g.machine.memory->translate(*la, enc->page_size()) == real);
    }
    CHECK(valid > 100);
    for (const TlbInvalidation& inv : g.invs) {
        CHECK(inv.lpid == 7);
        CHECK((inv.page_shift == 12 || inv.page_shift == 16 || inv.page_shift == 24));
    }
}

#if defined(TESSERA_ARCH_PPC64_HCALLS)
#include "common/lpar.hpp"

TEST_CASE("ppc64 <arch/hcalls.hpp>: the HTAB hcalls reach the LPAR's table through dispatch") {
    Table table;
    REQUIRE(table.add(kIsaHcalls) == Table::Added::Ok);
    for (u64 nr : {H_REMOVE, H_ENTER, H_READ, H_CLEAR_MOD, H_CLEAR_REF, H_PROTECT, H_BULK_REMOVE})
        CHECK((table.lookup(nr) != nullptr));

    Machine mc;
    auto lpar = std::make_unique<Lpar>();
    Env env{*lpar, lpar->vcpus[0]};
    Frame f;
    f.args[1] = 0;
    f.args[2] = hpte::kValid;
    f.args[3] = 0x1000 | hpte::kM;
    // No HTAB yet: H_FUNCTION.
    CHECK(table.lookup(H_ENTER)(env, f) == H_FUNCTION);

    std::vector<u64> mem((u64{1} << 18) / 8);
    std::vector<TlbInvalidation> invs;
    auto rec = [](void* c, const TlbInvalidation* l, usize k) {
        static_cast<std::vector<TlbInvalidation>*>(c)->insert(
            static_cast<std::vector<TlbInvalidation>*>(c)->end(), l, l + k);
    };
    mc.memory->release(*mc.pool);
    REQUIRE(lpar->memory.assign(*mc.pool, 1, 2 * C));
    REQUIRE(lpar->arch.htab.init(mem.data(), RealAddr(0x40000), 18, 3, TlbHook{rec, &invs}));
    REQUIRE(table.lookup(H_ENTER)(env, f) == H_SUCCESS);
    CHECK(f.rets[0] == 0);
    CHECK((lpar->arch.htab.load(0).r & hpte::kRpn) ==
          lpar->memory.translate(LogicalAddr(0x1000), 1)->value());
    f.args[0] = 0;
    REQUIRE(table.lookup(H_REMOVE)(env, f) == H_SUCCESS);
    CHECK(invs.size() == 1);
    lpar->memory.release(*mc.pool);
}
#endif

TEST_CASE("the VRMA entries are the hypervisor's: the guest can neither change nor alias them") {
    Guest g;
    REQUIRE(g.htab.map_vrma(*g.machine.memory, 3));
    const u64 ptex = g.htab.vrma_group(1) * 8 + Htab::kVrmaSlot;
    const Hpte vrma = g.at(ptex);
    REQUIRE(vrma.valid());
    REQUIRE(Htab::is_vrma(vrma));
    g.invs.clear();
    CHECK(g.remove(0, ptex, 0) == H_PARAMETER);
    CHECK(g.protect(0, ptex, 0) == H_PARAMETER);
    CHECK(g.clear_ref(0, ptex) == H_PARAMETER);
    CHECK(g.clear_mod(0, ptex) == H_PARAMETER);
    const u64 bulk_request = (u64{1} << 62) | ptex; // type "request", absolute mode
    CHECK(g.call(&h_bulk_remove, {bulk_request, 0, u64{3} << 62}) == H_PARAMETER);
    CHECK(g.at(ptex) == vrma); // untouched
    CHECK(g.invs.empty());
    // An entry in the VRMA's segment would give the hardware two translations for one address.
    const u64 other = g.htab.vrma_group(2) * 8;
    const Hpte alias = Htab::vrma_entry(2, RealAddr(0));
    CHECK(g.enter(papr::H_EXACT, other, alias.v & ~hpte::kBolted, hpte::kM) == H_PARAMETER);
    // An ordinary 1T-segment entry is still fine.
    CHECK_FALSE(Htab::is_vrma(Hpte{hpte::kSegment1T | (u64{0x1234} << 24) | hpte::kValid, 0}));
}
