// The software walk of the guest's own page tables (guest_translate) and the copies through
// guest-virtual addresses (guest_read/guest_write), over an LPAR in fake memory.
#include "isa/ia32/guest_mmu.hpp"

#include "tests/unit/ia32/machine.hpp"

#include <doctest/doctest.h>

#include <cstring>
#include <string>
#include <vector>

using namespace tessera;
using namespace tessera::arch;
using tessera::arch::test::GuestPaging;
using tessera::arch::test::kLparSize;
using tessera::arch::test::Machine;

namespace {

constexpr u32 kRw = kPteP | kPteW | kPteU;
constexpr u32 kNone = 0, kW = kPfW, kU = kPfU, kWU = kPfW | kPfU;

Translation tr(Machine& m, const GuestControl& c, u32 va, u32 access, bool probe = false) {
    return guest_translate(*m.lpar, c, va, access, probe);
}

} // namespace

TEST_CASE("guest_translate: paging off is the identity over the LPAR, then P|RSVD") {
    Machine m;
    const GuestControl off{};
    REQUIRE(!(off.cr0 & kCr0Pg));
    for (u32 va : {0u, 0x1234u, 0x00fff000u, 0x01000010u, kLparSize - 1}) {
        for (u32 access : {kNone, kW, kU, kWU}) {
            const Translation t = tr(m, off, va, access);
            CHECK(t.ok);
            CHECK(t.logical == va);
            CHECK(t.writable);
            CHECK(t.user);
            CHECK(t.dirty);
            CHECK_FALSE(t.large);
            CHECK_FALSE(t.global);
        }
    }
    // The end of memory: what exists of the machine ends there, with the access bits kept.
    for (u32 va : {kLparSize, kLparSize + 0x1000, 0x80000000u, 0xffbfffffu}) {
        CHECK_FALSE(tr(m, off, va, kNone).ok);
        CHECK(tr(m, off, va, kNone).error == (kPfP | kPfRsvd));
        CHECK(tr(m, off, va, kWU).error == (kPfP | kPfRsvd | kPfW | kPfU));
    }
    // The hypervisor's last 4 MiB.
    CHECK(tr(m, off, 0xffc00000u, kW).error == (kPfP | kPfRsvd | kPfW));
    CHECK(tr(m, off, 0xffffffffu, kNone).error == (kPfP | kPfRsvd));
}

TEST_CASE("guest_translate: not present in the directory or the table carries W and U") {
    Machine m;
    GuestPaging g(m);
    g.map(0x00800000, 0x200000);
    const GuestControl c = g.control();
    REQUIRE(tr(m, c, 0x00800123, kNone).ok);
    CHECK(tr(m, c, 0x00800123, kNone).logical == 0x200123);
    for (u32 access : {kNone, kW, kU, kWU}) {
        // Directory entry not present (4 MiB slot 1).
        const Translation no_pde = tr(m, c, 0x00400123, access);
        CHECK_FALSE(no_pde.ok);
        CHECK(no_pde.error == access);
        // Table entry not present (next page of a slot that has a table).
        const Translation no_pte = tr(m, c, 0x00801123, access);
        CHECK_FALSE(no_pte.ok);
        CHECK(no_pte.error == access);
    }
    // A directory entry that is not present is not followed even if it holds a table address.
    m.poke(g.pde_la(0x00800000), g.pde(0x00800000) & ~kPteP);
    CHECK(tr(m, c, 0x00800123, kW).error == kPfW);
}

TEST_CASE("guest_translate: permissions of both levels (P|W, P|U)") {
    Machine m;
    GuestPaging g(m);
    const GuestControl c = g.control();
    g.map(0x00400000, 0x200000, kPteP);              // supervisor, read-only
    g.map(0x00401000, 0x201000, kPteP | kPteU);      // user, read-only
    g.map(0x00402000, 0x202000, kPteP | kPteW);      // supervisor, writable
    g.map(0x00800000, 0x203000, kRw, kPteP | kPteU); // directory entry read-only
    g.map(0x00c00000, 0x204000, kRw, kPteP | kPteW); // directory entry supervisor
    g.map(0x01000000, 0x205000, kPteP | kPteW, kRw); // table entry supervisor
    g.map(0x01001000, 0x206000, kRw, kRw);           // everything allowed

    const Translation sro = tr(m, c, 0x00400010, kNone);
    CHECK(sro.ok);
    CHECK_FALSE(sro.writable);
    CHECK_FALSE(sro.user);
    CHECK(tr(m, c, 0x00400010, kW).error == (kPfP | kPfW)); // CR0.WP: supervisor too
    CHECK(tr(m, c, 0x00400010, kU).error == (kPfP | kPfU));
    CHECK(tr(m, c, 0x00400010, kWU).error == (kPfP | kPfW | kPfU));

    CHECK(tr(m, c, 0x00401010, kU).ok);
    CHECK(tr(m, c, 0x00401010, kU).user);
    CHECK(tr(m, c, 0x00401010, kWU).error == (kPfP | kPfW | kPfU));
    CHECK(tr(m, c, 0x00401010, kW).error == (kPfP | kPfW));

    CHECK(tr(m, c, 0x00402010, kW).ok);
    CHECK(tr(m, c, 0x00402010, kW).writable);
    CHECK(tr(m, c, 0x00402010, kU).error == (kPfP | kPfU));
    CHECK(tr(m, c, 0x00402010, kWU).error == (kPfP | kPfW | kPfU)); // W is the access's

    // The directory entry's W and U limit every page under it.
    const Translation pde_ro = tr(m, c, 0x00800010, kU);
    CHECK(pde_ro.ok);
    CHECK_FALSE(pde_ro.writable);
    CHECK(pde_ro.user);
    CHECK(tr(m, c, 0x00800010, kW).error == (kPfP | kPfW));
    const Translation pde_sup = tr(m, c, 0x00c00010, kW);
    CHECK(pde_sup.ok);
    CHECK(pde_sup.writable);
    CHECK_FALSE(pde_sup.user);
    CHECK(tr(m, c, 0x00c00010, kU).error == (kPfP | kPfU));
    CHECK(tr(m, c, 0x01000010, kU).error == (kPfP | kPfU));

    const Translation all = tr(m, c, 0x01001010, kWU);
    CHECK(all.ok);
    CHECK(all.logical == 0x206010);
    CHECK(all.writable);
    CHECK(all.user);
}

TEST_CASE("guest_translate: 4 MiB pages only with CR4.PSE") {
    Machine m;
    GuestPaging g(m);
    // Slot 3 -> logical 16 MiB as a large page; without PSE the same entry points at a table
    // at logical 16 MiB, whose entry 0x12 maps logical 0x300000.
    g.map_large(0x00c00000, 0x01000000, kRw);
    m.poke(0x01000000 + 0x12 * 4, 0x300000 | kRw);

    const Translation big = tr(m, g.control(kCr4Pse), 0x00c12345, kW);
    CHECK(big.ok);
    CHECK(big.large);
    CHECK(big.logical == 0x01012345);
    const Translation far = tr(m, g.control(kCr4Pse), 0x00ffffff, kNone);
    CHECK(far.ok);
    CHECK(far.logical == 0x013fffff);

    const Translation table = tr(m, g.control(), 0x00c12345, kW);
    CHECK(table.ok);
    CHECK_FALSE(table.large);
    CHECK(table.logical == 0x300345);
    // ... and an entry of that "table" that is not present faults as a table entry does.
    CHECK(tr(m, g.control(), 0x00c13345, kW).error == kPfW);

    // Permissions of a large page are the directory entry's.
    g.map_large(0x01400000, 0x01400000, kPteP);
    CHECK(tr(m, g.control(kCr4Pse), 0x01400000, kNone).ok);
    CHECK(tr(m, g.control(kCr4Pse), 0x01400000, kW).error == (kPfP | kPfW));
    CHECK(tr(m, g.control(kCr4Pse), 0x01400000, kU).error == (kPfP | kPfU));
    // A large page beyond the LPAR (logical 32 MiB is its end).
    g.map_large(0x01800000, 0x02000000, kRw);
    CHECK(tr(m, g.control(kCr4Pse), 0x01800000, kW).error == (kPfP | kPfRsvd | kPfW));
}

TEST_CASE("guest_translate: tables and frames outside the LPAR are P|RSVD") {
    Machine m;
    GuestPaging g(m);
    GuestControl c = g.control();
    g.map(0x00400000, kLparSize - 0x1000);          // the last page: fine
    g.map(0x00401000, kLparSize);                   // the first page beyond it
    g.map(0x00402000, 0xfffff000u);                 // far beyond
    m.poke(g.pde_la(0x00800000), 0x04000000 | kRw); // a page table beyond
    CHECK(tr(m, c, 0x00400abc, kW).ok);
    CHECK(tr(m, c, 0x00400abc, kW).logical == kLparSize - 0x1000 + 0xabc);
    CHECK(tr(m, c, 0x00401abc, kNone).error == (kPfP | kPfRsvd));
    CHECK(tr(m, c, 0x00401abc, kWU).error == (kPfP | kPfRsvd | kPfW | kPfU));
    CHECK(tr(m, c, 0x00402abc, kW).error == (kPfP | kPfRsvd | kPfW));
    CHECK(tr(m, c, 0x00800000, kU).error == (kPfP | kPfRsvd | kPfU));
    // The directory itself beyond.
    c.cr3 = kLparSize;
    CHECK(tr(m, c, 0x00400abc, kNone).error == (kPfP | kPfRsvd));
    // cr3's low 12 bits (PCD, PWT) are not part of the address.
    c.cr3 = g.pd | 0x18;
    CHECK(tr(m, c, 0x00400abc, kNone).ok);
    // The switcher's 4 MiB are a hole even when the guest maps them.
    g.map_large(0xffc00000, 0, kRw);
    g.map(0xffbff000, 0x200000);
    CHECK(tr(m, g.control(kCr4Pse), 0xffbff000, kNone).ok);
    CHECK(tr(m, g.control(kCr4Pse), 0xffc00000, kNone).error == (kPfP | kPfRsvd));
    CHECK(tr(m, g.control(kCr4Pse), 0xfffff000, kW).error == (kPfP | kPfRsvd | kPfW));
}

TEST_CASE("guest_translate: A in both levels, D on writes only, nothing when probing") {
    Machine m;
    GuestPaging g(m);
    const GuestControl c = g.control();
    g.map(0x00400000, 0x200000);
    const u32 pde0 = g.pde(0x00400000), pte0 = g.pte(0x00400000);
    REQUIRE(!(pde0 & (kPteA | kPteD)));
    REQUIRE(!(pte0 & (kPteA | kPteD)));

    // Probing reports what an access would see and writes nothing.
    const Translation p = tr(m, c, 0x00400000, kW, true);
    CHECK(p.ok);
    CHECK(p.dirty);
    CHECK(tr(m, c, 0x00400000, kNone, true).ok);
    CHECK_FALSE(tr(m, c, 0x00400000, kNone, true).dirty);
    CHECK(g.pde(0x00400000) == pde0);
    CHECK(g.pte(0x00400000) == pte0);

    const Translation r = tr(m, c, 0x00400000, kNone);
    CHECK(r.ok);
    CHECK_FALSE(r.dirty);
    CHECK(g.pde(0x00400000) == (pde0 | kPteA));
    CHECK(g.pte(0x00400000) == (pte0 | kPteA));

    const Translation w = tr(m, c, 0x00400000, kW);
    CHECK(w.ok);
    CHECK(w.dirty);
    CHECK(g.pde(0x00400000) == (pde0 | kPteA)); // D is only in the last level
    CHECK(g.pte(0x00400000) == (pte0 | kPteA | kPteD));
    // Once dirty, a read reports it.
    CHECK(tr(m, c, 0x00400000, kNone).dirty);

    // A failed access sets nothing.
    g.map(0x00401000, 0x201000, kPteP);
    const u32 pte1 = g.pte(0x00401000);
    CHECK_FALSE(tr(m, c, 0x00401000, kW).ok);
    CHECK(g.pte(0x00401000) == pte1);

    // A 4 MiB page: A and D in the directory entry.
    g.map_large(0x00800000, 0x00800000, kRw);
    const GuestControl pse = g.control(kCr4Pse);
    const u32 big0 = g.pde(0x00800000);
    CHECK(tr(m, pse, 0x00812345, kNone, true).ok);
    CHECK(g.pde(0x00800000) == big0);
    CHECK(tr(m, pse, 0x00812345, kNone).ok);
    CHECK(g.pde(0x00800000) == (big0 | kPteA));
    CHECK(tr(m, pse, 0x00812345, kW).ok);
    CHECK(g.pde(0x00800000) == (big0 | kPteA | kPteD));
    // The large page's memory was not touched by the walk.
    CHECK(m.peek(0x00812344) == 0);
}

TEST_CASE("guest_translate: global only with CR4.PGE, from the last level") {
    Machine m;
    GuestPaging g(m);
    g.map(0x00400000, 0x200000, kRw | kPteG);
    g.map(0x00401000, 0x201000, kRw);
    // G in a directory entry that points at a table means nothing.
    g.map(0x00800000, 0x202000, kRw, kRw | kPteG);
    g.map_large(0x00c00000, 0x00c00000, kRw | kPteG);
    CHECK(tr(m, g.control(kCr4Pge), 0x00400000, kNone).global);
    CHECK_FALSE(tr(m, g.control(), 0x00400000, kNone).global);
    CHECK_FALSE(tr(m, g.control(kCr4Pge), 0x00401000, kNone).global);
    CHECK_FALSE(tr(m, g.control(kCr4Pge), 0x00800000, kNone).global);
    CHECK(tr(m, g.control(kCr4Pge | kCr4Pse), 0x00c01000, kNone).global);
    CHECK_FALSE(tr(m, g.control(kCr4Pse), 0x00c01000, kNone).global);
}

TEST_CASE("guest_read/guest_write: across a page boundary into two logical pages") {
    Machine m;
    Vcpu& v = m.vcpu();
    GuestPaging g(m);
    g.enable(v);
    // Virtually contiguous, logically apart, in two different chunks.
    g.map(0x00400000, 0x200000);
    g.map(0x00401000, 0x01003000);
    const char text[] = "0123456789abcdef";
    GuestFault f{0x1111, 0x2222};
    REQUIRE(guest_write(v, 0x00400ff8, text, 16, &f));
    CHECK(f.va == 0x1111); // untouched on success
    CHECK(std::memcmp(m.host(0x200ff8), "01234567", 8) == 0);
    CHECK(std::memcmp(m.host(0x01003000), "89abcdef", 8) == 0);
    CHECK(m.host(0x01003008)[0] == 0);
    CHECK(m.host(0x200ff7)[0] == 0);
    char back[17] = {};
    REQUIRE(guest_read(v, 0x00400ff8, back, 16));
    CHECK(std::string(back) == text);
    // The writes set D in both pages' entries.
    CHECK((g.pte(0x00400000) & kPteD) != 0);
    CHECK((g.pte(0x00401000) & kPteD) != 0);
    // Zero bytes: nothing to translate.
    CHECK(guest_read(v, 0x00800000, back, 0, &f));

    // The second page not present: fails there, with the access bits.
    g.unmap(0x00401000);
    std::memset(m.host(0x200ff8), 0, 8);
    CHECK_FALSE(guest_write(v, 0x00400ff8, text, 16, &f));
    CHECK(f.va == 0x00401000);
    CHECK(f.error == kPfW);
    CHECK(std::memcmp(m.host(0x200ff8), "01234567", 8) == 0); // the page before was written
    f = {};
    CHECK_FALSE(guest_read(v, 0x00400ff8, back, 16, &f));
    CHECK(f.va == 0x00401000);
    CHECK(f.error == 0);
    CHECK_FALSE(guest_read(v, 0x00400ff8, back, 16, &f, true));
    CHECK(f.error == kPfU);
    CHECK_FALSE(guest_read(v, 0x00400ff8, back, 16)); // no fault to report: fine too

    // Read-only, supervisor-only, and outside the LPAR.
    g.map(0x00401000, 0x01003000, kPteP | kPteU);
    CHECK(guest_read(v, 0x00400ff8, back, 16, &f, true));
    CHECK_FALSE(guest_write(v, 0x00400ff8, text, 16, &f, true));
    CHECK(f.va == 0x00401000);
    CHECK(f.error == (kPfP | kPfW | kPfU));
    g.map(0x00401000, 0x01003000, kPteP | kPteW);
    CHECK(guest_write(v, 0x00400ff8, text, 16, &f));
    CHECK_FALSE(guest_read(v, 0x00400ff8, back, 16, &f, true));
    CHECK(f.va == 0x00401000);
    CHECK(f.error == (kPfP | kPfU));
    g.map(0x00401000, kLparSize + 0x5000);
    CHECK_FALSE(guest_read(v, 0x00400ff8, back, 16, &f));
    CHECK(f.va == 0x00401000);
    CHECK(f.error == (kPfP | kPfRsvd));
    // The first page failing reports its own address.
    CHECK_FALSE(guest_read(v, 0x003ffff8, back, 16, &f));
    CHECK(f.va == 0x003ffff8);
    CHECK(f.error == 0);
}

TEST_CASE("guest_read/guest_write: longer than a page, and with paging off") {
    Machine m;
    Vcpu& v = m.vcpu();
    std::vector<u8> data(3 * 4096 + 100);
    for (usize i = 0; i < data.size(); ++i) data[i] = static_cast<u8>(i * 7 + 1);
    // Paging off: straight through logical memory, across the chunk boundary at 16 MiB.
    REQUIRE(guest_write(v, 0x00fff000 - 50, data.data(), data.size()));
    CHECK(std::memcmp(m.host(0x00fff000 - 50), data.data(), 50 + 4096) == 0);
    CHECK(std::memcmp(m.host(0x01000000), data.data() + 50 + 4096, data.size() - 50 - 4096) == 0);
    GuestFault f;
    CHECK_FALSE(guest_read(v, kLparSize - 8, data.data(), 16, &f));
    CHECK(f.va == kLparSize);
    CHECK(f.error == (kPfP | kPfRsvd));

    // Paging on: four pages scattered in logical memory.
    GuestPaging g(m);
    g.enable(v);
    const u32 frames[4] = {0x00500000, 0x00300000, 0x01200000, 0x00400000};
    for (u32 i = 0; i < 4; ++i) g.map(0x08000000 + i * 4096, frames[i]);
    REQUIRE(guest_write(v, 0x08000000 + 3996, data.data(), data.size()));
    CHECK(std::memcmp(m.host(frames[0] + 3996), data.data(), 100) == 0);
    CHECK(std::memcmp(m.host(frames[1]), data.data() + 100, 4096) == 0);
    CHECK(std::memcmp(m.host(frames[2]), data.data() + 100 + 4096, 4096) == 0);
    CHECK(std::memcmp(m.host(frames[3]), data.data() + 100 + 8192, 4096) == 0);
    std::vector<u8> back(data.size());
    REQUIRE(guest_read(v, 0x08000000 + 3996, back.data(), back.size()));
    CHECK(back == data);
    // One byte further and the last byte is on an unmapped fifth page.
    CHECK_FALSE(guest_write(v, 0x08000000 + 3997, data.data(), data.size(), &f));
    CHECK(f.va == 0x08004000);
}
