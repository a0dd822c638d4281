// Shadow paging: the tables the CPU walks while a guest has paging on, filled from the guest's
// own tables on page faults, dropped by invlpg / cr3 loads / mode changes, and their pool.
#include "isa/ia32/shadow.hpp"

#include "isa/ia32/guest_mmu.hpp"
#include "tests/unit/ia32/machine.hpp"

#include <doctest/doctest.h>

#include <vector>

using namespace tessera;
using namespace tessera::arch;
using tessera::arch::test::GuestPaging;
using tessera::arch::test::kLparSize;
using tessera::arch::test::Machine;

namespace {

constexpr u32 kRw = kPteP | kPteW | kPteU;
constexpr u32 kAvlGlobal = 1u << 9; // how a shadow entry remembers a global guest mapping

// The vcpu's shadow directory as the CPU would find it from cr3.
u32* root_page(Vcpu& v) {
    u32* p = fake::shadow_page_at(shadow_root(v));
    REQUIRE(p != nullptr);
    return p;
}
// The shadow page table of va's 4 MiB slot, through the directory entry (nullptr: none).
u32* table_of(Vcpu& v, u32 va) {
    const u32 pde = root_page(v)[va >> 22];
    if (!(pde & kPteP)) return nullptr;
    u32* t = fake::shadow_page_at(pde & kPteFrame);
    REQUIRE(t != nullptr);
    return t;
}
// The shadow entry for va (0 when there is no table).
u32 entry_of(Vcpu& v, u32 va) {
    const u32* t = table_of(v, va);
    return t ? t[(va >> 12) & 0x3ff] : 0;
}

// What the CPU does to the shadow entry it uses: sets Accessed, Dirty (bits).
void set_entry_bits(Vcpu& v, u32 va, u32 bits) {
    u32* t = table_of(v, va);
    REQUIRE(t != nullptr);
    t[(va >> 12) & 0x3ff] |= bits;
}

ShadowFill fill(Vcpu& v, u32 va, u32 error, u32* guest_error = nullptr) {
    u32 ge = 0xdeadbeef;
    const ShadowFill f = shadow_fill(v, va, error, ge);
    if (guest_error) *guest_error = ge;
    return f;
}

} // namespace

TEST_CASE("shadow_root: a zeroed directory whose slot 1023 maps the switcher") {
    REQUIRE(shadow_pages_in_use() == 0); // every test gives its pages back
    CHECK(shadow_pool_pages() == kShadowPoolPages);
    // Leave garbage in every pool page: what is handed out must be zeroed.
    for (usize i = 0; i < kShadowPoolPages; ++i)
        for (usize j = 0; j < 1024; ++j) shadow_pool_page(i)[j] = 0xdeadbeef;
    Machine m;
    Vcpu& v = m.vcpu();
    CHECK(shadow_space(v).pd == 0);
    const u32 root = shadow_root(v);
    CHECK(root != 0);
    CHECK((root & 0xfff) == 0);
    CHECK(root == shadow_page_real(shadow_space(v).pd - 1u));
    CHECK(shadow_pages_in_use() == 1);
    const u32* pd = fake::shadow_page_at(root);
    REQUIRE(pd != nullptr);
    CHECK(pd[1023] == fake::kSwitcherPde);
    usize nonzero = 0;
    for (usize i = 0; i < 1023; ++i) nonzero += pd[i] != 0;
    CHECK(nonzero == 0);
    // Asking again gives the same directory.
    CHECK(shadow_root(v) == root);
    CHECK(shadow_pages_in_use() == 1);
    // Another vcpu gets its own.
    const u32 other = shadow_root(m.vcpu(1));
    CHECK(other != root);
    CHECK(shadow_pages_in_use() == 2);
    shadow_release(v);
    CHECK(shadow_space(v).pd == 0);
    CHECK(shadow_pages_in_use() == 1);
    shadow_release(v); // twice is harmless
    CHECK(shadow_pages_in_use() == 1);
    shadow_release(m.vcpu(1));
    CHECK(shadow_pages_in_use() == 0);
}

TEST_CASE("shadow_fill: real addresses from the chunks, writable once the guest entry is dirty") {
    Machine m;
    const usize start = shadow_pages_in_use();
    Vcpu& v = m.vcpu();
    GuestPaging g(m);
    g.enable(v);
    g.map(0x00801000, 0x01003000);                        // user, writable, clean
    g.map(0x00802000, 0x00200000, kRw | kPteD);           // already dirty
    g.map(0x00803000, 0x00201000, kPteP | kPteU | kPteD); // dirty but read-only
    g.map(0x00804000, 0x00202000, kPteP | kPteW | kPteD); // supervisor
    REQUIRE(Machine::real_of(0x01003000) == 0x03003000);

    CHECK(fill(v, 0x00801234, 0) == ShadowFill::Filled); // a supervisor read
    CHECK(shadow_pages_in_use() == start + 2);           // directory + one table
    const u32 pde = root_page(v)[2];
    CHECK((pde & kPteFrame) == shadow_page_real(shadow_space(v).pt[2] - 1u));
    CHECK((pde & 0xfff) == (kPteP | kPteW | kPteU));
    CHECK(entry_of(v, 0x00801000) == (0x03003000 | kPteP | kPteU)); // read-only for now
    CHECK(g.pte(0x00801000) == (0x01003000 | kRw | kPteA));         // A set, D not
    CHECK((g.pde(0x00801000) & kPteA) != 0);

    // The write fault on the read-only shadow entry: P|W from the CPU.
    CHECK(fill(v, 0x00801234, kPfP | kPfW) == ShadowFill::Filled);
    CHECK(entry_of(v, 0x00801000) == (0x03003000 | kPteP | kPteW | kPteU));
    CHECK(g.pte(0x00801000) == (0x01003000 | kRw | kPteA | kPteD));
    CHECK(shadow_pages_in_use() == start + 2); // same table

    // Dirty already: writable at the first (read) fill.
    CHECK(fill(v, 0x00802000, kPfU) == ShadowFill::Filled);
    CHECK(entry_of(v, 0x00802000) == (Machine::real_of(0x200000) | kRw));
    // Dirty and read-only: never writable.
    CHECK(fill(v, 0x00803000, kPfU) == ShadowFill::Filled);
    CHECK(entry_of(v, 0x00803000) == (Machine::real_of(0x201000) | kPteP | kPteU));
    // Supervisor: no U in the shadow entry (ring 1 is supervisor for paging, ring 3 is not).
    CHECK(fill(v, 0x00804000, kPfW) == ShadowFill::Filled);
    CHECK(entry_of(v, 0x00804000) == (Machine::real_of(0x202000) | kPteP | kPteW));
    // Neighbours untouched.
    CHECK(entry_of(v, 0x00800000) == 0);
    CHECK(entry_of(v, 0x00805000) == 0);
    CHECK(shadow_pages_in_use() == start + 2);
}

TEST_CASE("shadow_fill: the guest's own faults are reflected with its error code") {
    Machine m;
    const usize start = shadow_pages_in_use();
    Vcpu& v = m.vcpu();
    GuestPaging g(m);
    g.enable(v);
    g.map(0x00401000, 0x201000, kPteP | kPteU);
    g.map(0x00402000, 0x202000, kPteP | kPteW);
    g.map(0x00403000, kLparSize);
    u32 ge = 0;
    // Not present in the guest (directory, then table): the CPU's P bit does not leak through.
    CHECK(fill(v, 0x00c00000, kPfW | kPfU, &ge) == ShadowFill::Reflect);
    CHECK(ge == (kPfW | kPfU));
    CHECK(fill(v, 0x00400000, kPfP | kPfW, &ge) == ShadowFill::Reflect);
    CHECK(ge == kPfW);
    CHECK(shadow_pages_in_use() == start); // nothing allocated for a fault
    CHECK(shadow_space(v).pd == 0);
    // Permissions.
    CHECK(fill(v, 0x00401000, kPfP | kPfW | kPfU, &ge) == ShadowFill::Reflect);
    CHECK(ge == (kPfP | kPfW | kPfU));
    CHECK(fill(v, 0x00402000, kPfP | kPfU, &ge) == ShadowFill::Reflect);
    CHECK(ge == (kPfP | kPfU));
    CHECK((g.pte(0x00402000) & kPteA) == 0);
    // Outside the LPAR, and the switcher's hole.
    CHECK(fill(v, 0x00403000, 0, &ge) == ShadowFill::Reflect);
    CHECK(ge == (kPfP | kPfRsvd));
    CHECK(fill(v, 0xffc00010, kPfW, &ge) == ShadowFill::Reflect);
    CHECK(ge == (kPfP | kPfRsvd | kPfW));
    CHECK(shadow_pages_in_use() == start);
    // The same accesses the guest allows are filled.
    CHECK(fill(v, 0x00401000, kPfU, &ge) == ShadowFill::Filled);
    CHECK(fill(v, 0x00402000, kPfW, &ge) == ShadowFill::Filled);
    CHECK(shadow_pages_in_use() == start + 2);
}

TEST_CASE("shadow_fill: a 4 MiB guest page is shadowed 4 KiB at a time") {
    Machine m;
    Vcpu& v = m.vcpu();
    GuestPaging g(m);
    g.enable(v, kCr4Pse);
    g.map_large(0x00c00000, 0x01000000, kRw);
    CHECK(fill(v, 0x00c05123, kPfW) == ShadowFill::Filled);
    CHECK(fill(v, 0x00ffe000, 0) == ShadowFill::Filled);
    CHECK(entry_of(v, 0x00c05000) == (Machine::real_of(0x01005000) | kRw));
    // Filled before the write of the other page set D in the (one) guest entry: writable now.
    CHECK(entry_of(v, 0x00ffe000) == (Machine::real_of(0x013fe000) | kRw));
    // Prefilled: the rest of the aligned group of 16 pages around a fill (the guest's entry is
    // accessed and dirty by now), nothing beyond it.
    CHECK(entry_of(v, 0x00c06000) == (Machine::real_of(0x01006000) | kRw));
    CHECK(entry_of(v, 0x00c10000) == 0);
    CHECK(shadow_space(v).large[3]);
    CHECK(g.pde(0x00c00000) == (0x01000000 | kRw | kPtePs | kPteA | kPteD));
}

TEST_CASE("shadow_invlpg: one entry, or the whole table of a 4 MiB guest page") {
    Machine m;
    const usize start = shadow_pages_in_use();
    Vcpu& v = m.vcpu();
    GuestPaging g(m);
    g.enable(v, kCr4Pse);
    g.map(0x00801000, 0x200000);
    g.map(0x00802000, 0x201000);
    g.map_large(0x00c00000, 0x01000000, kRw);
    for (u32 va : {0x00801000u, 0x00802000u, 0x00c05000u, 0x00c06000u})
        REQUIRE(fill(v, va, 0) == ShadowFill::Filled);
    REQUIRE(shadow_pages_in_use() == start + 3);
    const u32 pde2 = root_page(v)[2];

    shadow_invlpg(v, 0x00801abc);
    CHECK(entry_of(v, 0x00801000) == 0);
    CHECK(entry_of(v, 0x00802000) == (Machine::real_of(0x201000) | kPteP | kPteU));
    CHECK(root_page(v)[2] == pde2);
    CHECK(shadow_pages_in_use() == start + 3);
    CHECK(shadow_space(v).nonglobal[2] == 1);

    shadow_invlpg(v, 0x00c05000);
    CHECK(root_page(v)[3] == 0);
    CHECK(shadow_space(v).pt[3] == 0);
    CHECK_FALSE(shadow_space(v).large[3]);
    CHECK(shadow_pages_in_use() == start + 2);

    // Slots without a table, and the switcher's slot: nothing happens.
    shadow_invlpg(v, 0x01000000);
    shadow_invlpg(v, 0xffc00000);
    shadow_invlpg(v, 0xfffff000);
    CHECK(root_page(v)[1023] == fake::kSwitcherPde);
    CHECK(shadow_pages_in_use() == start + 2);
    // Without a directory at all.
    shadow_invlpg(m.vcpu(1), 0x00801000);
    CHECK(shadow_space(m.vcpu(1)).pd == 0);
}

TEST_CASE("shadow_invalidate: every page the range overlaps, across slots; covered tables go") {
    Machine m;
    const usize start = shadow_pages_in_use();
    Vcpu& v = m.vcpu();
    GuestPaging g(m);
    g.enable(v, kCr4Pse);
    // Four pages across the boundary of slots 2 and 3, and a 4 MiB page in slot 4.
    const u32 pages[] = {0x00bfe000, 0x00bff000, 0x00c00000, 0x00c01000};
    for (u32 i = 0; i < 4; ++i) g.map(pages[i], 0x200000 + i * 0x1000);
    g.map_large(0x01000000, 0x01000000, kRw);
    for (u32 va : pages) REQUIRE(fill(v, va, 0) == ShadowFill::Filled);
    REQUIRE(fill(v, 0x01003000, 0) == ShadowFill::Filled);
    REQUIRE(shadow_pages_in_use() == start + 4);

    // The middle two: the ends of the range are page-granular, the neighbours stay.
    shadow_invalidate(v, 0x00bff000, 0x00c01000);
    CHECK(entry_of(v, 0x00bfe000) == (Machine::real_of(0x200000) | kPteP | kPteU));
    CHECK(entry_of(v, 0x00bff000) == 0);
    CHECK(entry_of(v, 0x00c00000) == 0);
    CHECK(entry_of(v, 0x00c01000) == (Machine::real_of(0x203000) | kPteP | kPteU));
    CHECK(shadow_space(v).nonglobal[2] == 1);
    CHECK(shadow_space(v).nonglobal[3] == 1);
    // One byte inside a page takes the page; an empty or reversed range takes nothing.
    shadow_invalidate(v, 0x00c01ffe, 0x00c01fff);
    CHECK(entry_of(v, 0x00c01000) == 0);
    shadow_invalidate(v, 0x00bfe000, 0x00bfe000);
    shadow_invalidate(v, 0x00bff000, 0x00bfe000);
    CHECK(entry_of(v, 0x00bfe000) != 0);
    CHECK(shadow_pages_in_use() == start + 4);

    // A range that covers slot 3's table gives it back; a 4 MiB guest page goes as a whole.
    shadow_invalidate(v, 0x00c00000, 0x01000000);
    CHECK(shadow_space(v).pt[3] == 0);
    CHECK(root_page(v)[3] == 0);
    shadow_invalidate(v, 0x013fe000, 0x013ff000);
    CHECK(shadow_space(v).pt[4] == 0);
    CHECK_FALSE(shadow_space(v).large[4]);
    CHECK(shadow_pages_in_use() == start + 2);

    // Up to 4 GiB: everything but the switcher's slot.
    shadow_invalidate(v, 0, 0x1'0000'0000ull);
    CHECK(shadow_space(v).pt[2] == 0);
    CHECK(root_page(v)[1023] == fake::kSwitcherPde);
    CHECK(shadow_pages_in_use() == start + 1);
    shadow_release(v);
    CHECK(shadow_pages_in_use() == start);
}

TEST_CASE("shadow_protect: the loaded space's entries in the range lose W and nothing else") {
    Machine m;
    const usize start = shadow_pages_in_use();
    Vcpu& v = m.vcpu();
    GuestPaging a(m, 0x100000, 0x101000);
    GuestPaging b(m, 0x110000, 0x111000);
    for (u32 i = 0; i < 3; ++i) {
        a.map(0x00bff000 + i * 0x1000, 0x200000 + i * 0x1000, kRw | kPteD);
        b.map(0x00bff000 + i * 0x1000, 0x200000 + i * 0x1000, kRw | kPteD);
    }
    a.enable(v);
    shadow_switch(v, 1, 1, 0);
    for (u32 i = 0; i < 3; ++i)
        REQUIRE(fill(v, 0x00bff000 + i * 0x1000, kPfW) == ShadowFill::Filled);
    v.arch.ctl.cr3 = b.pd;
    shadow_switch(v, 2, 1, 1);
    for (u32 i = 0; i < 3; ++i)
        REQUIRE(fill(v, 0x00bff000 + i * 0x1000, kPfW) == ShadowFill::Filled);
    const u32 w = kPteP | kPteW | kPteU;

    // b is loaded: its first two pages (across slots 2 and 3) lose W, the third keeps it.
    shadow_protect(v, 0x00bff800, 0x00c00001);
    CHECK(entry_of(v, 0x00bff000) == (Machine::real_of(0x200000) | kPteP | kPteU));
    CHECK(entry_of(v, 0x00c00000) == (Machine::real_of(0x201000) | kPteP | kPteU));
    CHECK(entry_of(v, 0x00c01000) == (Machine::real_of(0x202000) | w));
    CHECK(shadow_space(v).nonglobal[2] == 1);
    // A write there refills the entry writable (the guest's is still writable and dirty).
    REQUIRE(fill(v, 0x00bff000, kPfP | kPfW) == ShadowFill::Filled);
    CHECK(entry_of(v, 0x00bff000) == (Machine::real_of(0x200000) | w));
    // An empty or reversed range: nothing.
    shadow_protect(v, 0x00bff000, 0x00bff000);
    shadow_protect(v, 0x00c01000, 0x00bff000);
    CHECK(entry_of(v, 0x00bff000) == (Machine::real_of(0x200000) | w));
    // The other space kept its writable entries.
    v.arch.ctl.cr3 = a.pd;
    REQUIRE(shadow_switch(v, 1, 1, 1));
    for (u32 i = 0; i < 3; ++i)
        CHECK(entry_of(v, 0x00bff000 + i * 0x1000) ==
              (Machine::real_of(0x200000 + i * 0x1000) | w));
    // Up to 4 GiB, the switcher's slot untouched.
    shadow_protect(v, 0, 0x1'0000'0000ull);
    CHECK(entry_of(v, 0x00c01000) == (Machine::real_of(0x202000) | kPteP | kPteU));
    CHECK(root_page(v)[1023] == fake::kSwitcherPde);
    shadow_release(v);
    CHECK(shadow_pages_in_use() == start);
}

TEST_CASE("shadow_flush: keep_global keeps the global entries only; otherwise all go") {
    Machine m;
    const usize start = shadow_pages_in_use();
    Vcpu& v = m.vcpu();
    GuestPaging g(m);
    g.enable(v, kCr4Pse | kCr4Pge);
    g.map(0x00400000, 0x200000, kRw | kPteG); // slot 1: a global and a non-global page
    g.map(0x00401000, 0x201000, kRw);
    g.map(0x00800000, 0x202000, kRw);                 // slot 2: non-global only
    g.map_large(0x00c00000, 0x00c00000, kRw | kPteG); // slot 3: a global 4 MiB page
    g.map_large(0x01000000, 0x01000000, kRw);         // slot 4: a non-global 4 MiB page
    g.map(0x01400000, 0x203000, kRw | kPteG);         // slot 5: global only
    const u32 vas[] = {0x00400000, 0x00401000, 0x00800000, 0x00c00000,
                       0x00c01000, 0x01000000, 0x01400000};
    for (u32 va : vas) REQUIRE(fill(v, va, 0) == ShadowFill::Filled);
    REQUIRE(shadow_pages_in_use() == start + 6);
    // The real G bit is never set (it would survive the switch to another LPAR's cr3).
    for (u32 va : vas) CHECK((entry_of(v, va) & kPteG) == 0);
    CHECK((entry_of(v, 0x00400000) & kAvlGlobal) != 0);
    CHECK((entry_of(v, 0x00401000) & kAvlGlobal) == 0);
    const u32 global_entry = entry_of(v, 0x00400000);

    shadow_flush(v, true);
    CHECK(entry_of(v, 0x00400000) == global_entry);
    CHECK(entry_of(v, 0x00401000) == 0);
    CHECK(root_page(v)[2] == 0); // a table left empty is given back
    CHECK(shadow_space(v).pt[2] == 0);
    CHECK(entry_of(v, 0x00c00000) != 0);
    CHECK(entry_of(v, 0x00c01000) != 0);
    CHECK(root_page(v)[4] == 0);
    CHECK(entry_of(v, 0x01400000) != 0);
    CHECK(root_page(v)[1023] == fake::kSwitcherPde);
    CHECK(shadow_pages_in_use() == start + 4);

    // Refill a non-global page next to the global one: the next flush drops it again.
    REQUIRE(fill(v, 0x00401000, 0) == ShadowFill::Filled);
    CHECK(entry_of(v, 0x00401000) != 0);
    shadow_flush(v, true);
    CHECK(entry_of(v, 0x00401000) == 0);
    CHECK(entry_of(v, 0x00400000) == global_entry);
    // A global entry replaced by a non-global one (the guest changed its mapping) goes too.
    g.map(0x00400000, 0x204000, kRw);
    shadow_invlpg(v, 0x00400000);
    REQUIRE(fill(v, 0x00400000, 0) == ShadowFill::Filled);
    shadow_flush(v, true);
    CHECK(root_page(v)[1] == 0);
    CHECK(shadow_pages_in_use() == start + 3);

    shadow_flush(v, false);
    for (usize i = 0; i < 1023; ++i) CHECK(root_page(v)[i] == 0);
    for (u16 p : shadow_space(v).pt) CHECK(p == 0);
    CHECK(root_page(v)[1023] == fake::kSwitcherPde);
    CHECK(shadow_pages_in_use() == start + 1); // the directory stays
}

TEST_CASE("shadow_release gives every page back") {
    Machine m;
    const usize start = shadow_pages_in_use();
    GuestPaging g(m);
    for (u32 i = 0; i < 2; ++i) {
        Vcpu& v = m.vcpu(i);
        g.enable(v);
        for (u32 slot = 0; slot < 8; ++slot) g.map(slot << 22, 0x200000 + slot * 4096);
        for (u32 slot = 0; slot < 8; ++slot) REQUIRE(fill(v, slot << 22, 0) == ShadowFill::Filled);
    }
    CHECK(shadow_pages_in_use() == start + 18);
    shadow_release(m.vcpu(0));
    CHECK(shadow_pages_in_use() == start + 9);
    CHECK(shadow_space(m.vcpu(0)).pd == 0);
    for (u16 p : shadow_space(m.vcpu(0)).pt) CHECK(p == 0);
    // The other vcpu's shadow is intact.
    CHECK(entry_of(m.vcpu(1), 7u << 22) == (Machine::real_of(0x207000) | kPteP | kPteU));
    shadow_release(m.vcpu(1));
    CHECK(shadow_pages_in_use() == start);
    // And a released vcpu starts over.
    REQUIRE(fill(m.vcpu(0), 0, 0) == ShadowFill::Filled);
    CHECK(shadow_pages_in_use() == start + 2);
    shadow_release(m.vcpu(0));
    CHECK(shadow_pages_in_use() == start);
}

// Two vcpus a and b on guest tables where every 4 MiB slot maps its first page to logical
// 0x200000 (one shared table), with the shadow pool empty at the start.
struct OneTableEverywhere {
    Machine m;
    Vcpu& a = m.vcpu(0);
    Vcpu& b = m.vcpu(1);
    GuestPaging g{m};

    OneTableEverywhere() {
        REQUIRE(shadow_pages_in_use() == 0);
        g.map(0, 0x200000);
        for (u32 slot = 1; slot < 1023; ++slot) m.poke(g.pde_la(slot << 22), g.pde(0));
        g.enable(a);
        g.enable(b);
    }
};

TEST_CASE_FIXTURE(
    OneTableEverywhere,
    "shadow pool: when it runs dry the other vcpus' tables are reclaimed, then one's own") {

    u32 slot = 0;
    while (shadow_pages_in_use() < kShadowPoolPages) {
        REQUIRE(fill(a, slot << 22, 0) == ShadowFill::Filled);
        ++slot;
    }
    CHECK(slot == kShadowPoolPages - 1); // a directory and the rest tables
    std::vector<u16> a_pages;
    for (u16 p : shadow_space(a).pt)
        if (p) a_pages.push_back(p);
    CHECK(a_pages.size() == kShadowPoolPages - 1);

    // b still gets a directory and a table: a's tables go (they refault).
    CHECK(fill(b, 900u << 22, 0) == ShadowFill::Filled);
    CHECK(entry_of(b, 900u << 22) == (Machine::real_of(0x200000) | kPteP | kPteU));
    CHECK(shadow_pages_in_use() == 3);
    for (u16 p : shadow_space(a).pt) CHECK(p == 0);
    const u32* a_pd = fake::shadow_page_at(shadow_page_real(shadow_space(a).pd - 1u));
    for (usize i = 0; i < 1023; ++i) CHECK(a_pd[i] == 0); // no pointer at reclaimed pages
    CHECK(a_pd[1023] == fake::kSwitcherPde);
    const u16 b_pd = shadow_space(b).pd, b_pt = shadow_space(b).pt[900];
    CHECK(b_pd != shadow_space(a).pd);
    CHECK(b_pt != 0);
    // a refaults fine.
    CHECK(fill(a, 5u << 22, 0) == ShadowFill::Filled);
    CHECK(entry_of(a, 5u << 22) == (Machine::real_of(0x200000) | kPteP | kPteU));

    // Dry again with a's tables; a's next fill takes b's table first ...
    for (slot = 6; shadow_pages_in_use() < kShadowPoolPages; ++slot)
        REQUIRE(fill(a, slot << 22, 0) == ShadowFill::Filled);
    const u32 last = slot - 1;
    CHECK(fill(a, 1000u << 22, 0) == ShadowFill::Filled);
    CHECK(shadow_space(b).pt[900] == 0);
    CHECK(fake::shadow_page_at(shadow_page_real(b_pd - 1u))[900] == 0);
    CHECK(shadow_space(b).pd == b_pd); // directories are not reclaimed
    CHECK(shadow_pages_in_use() == kShadowPoolPages);
    // ... and when no other vcpu has a table left, its own (all but the new one).
    CHECK(fill(a, 1001u << 22, 0) == ShadowFill::Filled);
    CHECK(entry_of(a, 1001u << 22) != 0);
    CHECK(shadow_space(a).pt[last] == 0);
    CHECK(shadow_space(a).pt[1000] == 0);
    CHECK(shadow_space(a).pt[5] == 0);
    usize tables = 0;
    for (u16 p : shadow_space(a).pt) tables += p != 0;
    CHECK(tables == 1);
    CHECK(shadow_pages_in_use() == 3); // a's directory and table, b's directory
    shadow_release(a);
    shadow_release(b);
    CHECK(shadow_pages_in_use() == 0);
}

TEST_CASE_FIXTURE(OneTableEverywhere,
                  "shadow pool: a space another CPU runs a guest on (pinned) is never reclaimed") {

    // b runs on another CPU with one table; a fills the rest of the pool.
    REQUIRE(fill(b, 900u << 22, 0) == ShadowFill::Filled);
    shadow_space(b).pinned = true;
    for (u32 slot = 0; shadow_pages_in_use() < kShadowPoolPages; ++slot)
        REQUIRE(fill(a, slot << 22, 0) == ShadowFill::Filled);
    // a's next fill finds nothing of b to take: it drops its own tables instead.
    const u16 b_pt = shadow_space(b).pt[900];
    CHECK(fill(a, 1000u << 22, 0) == ShadowFill::Filled);
    CHECK(shadow_space(b).pt[900] == b_pt);
    CHECK(entry_of(b, 900u << 22) == (Machine::real_of(0x200000) | kPteP | kPteU));
    CHECK(entry_of(a, 1000u << 22) != 0);
    // Back from its guest, b's tables may go again.
    shadow_space(b).pinned = false;
    for (u32 slot = 1; shadow_pages_in_use() < kShadowPoolPages; ++slot)
        REQUIRE(fill(a, slot << 22, 0) == ShadowFill::Filled);
    CHECK(fill(a, 1001u << 22, 0) == ShadowFill::Filled);
    CHECK(shadow_space(b).pt[900] == 0);
    shadow_release(a);
    shadow_release(b);
    CHECK(shadow_pages_in_use() == 0);
}

TEST_CASE("shadow_switch: a space switched back to at the same generation keeps its entries") {
    Machine m;
    const usize start = shadow_pages_in_use();
    Vcpu& v = m.vcpu();
    // Two address spaces mapping va 0x00400000 to different pages, a global page in both.
    GuestPaging a(m, 0x100000, 0x101000);
    GuestPaging b(m, 0x110000, 0x111000);
    a.map(0x00400000, 0x200000);
    b.map(0x00400000, 0x300000);
    a.map(0x00800000, 0x210000, kRw | kPteG);
    b.map(0x00800000, 0x210000, kRw | kPteG);
    a.enable(v, kCr4Pge);
    const u32 in_a = Machine::real_of(0x200000) | kPteP | kPteU;
    const u32 in_b = Machine::real_of(0x300000) | kPteP | kPteU;

    CHECK_FALSE(shadow_switch(v, 7, 1, 0)); // a new space
    REQUIRE(fill(v, 0x00400000, 0) == ShadowFill::Filled);
    REQUIRE(fill(v, 0x00800000, 0) == ShadowFill::Filled);
    const u32 root_a = shadow_root(v);
    CHECK(entry_of(v, 0x00400000) == in_a);

    v.arch.ctl.cr3 = b.pd;
    CHECK_FALSE(shadow_switch(v, 8, 1, 1));
    CHECK(shadow_root(v) != root_a);
    CHECK(entry_of(v, 0x00400000) == 0); // b's own, not a's
    REQUIRE(fill(v, 0x00400000, 0) == ShadowFill::Filled);
    REQUIRE(fill(v, 0x00800000, 0) == ShadowFill::Filled);
    CHECK(entry_of(v, 0x00400000) == in_b);

    // Back to a at the generation it was left at: its root and entries are still there.
    v.arch.ctl.cr3 = a.pd;
    CHECK(shadow_switch(v, 7, 1, 1));
    CHECK(shadow_root(v) == root_a);
    CHECK(entry_of(v, 0x00400000) == in_a);

    // b's generation moved while it was not loaded: its non-global entries go, global stay.
    v.arch.ctl.cr3 = b.pd;
    CHECK_FALSE(shadow_switch(v, 8, 2, 1));
    CHECK(entry_of(v, 0x00400000) == 0);
    CHECK(entry_of(v, 0x00800000) != 0);

    // The same ctx at another cr3 is another space (the guest's id alone does not decide).
    v.arch.ctl.cr3 = 0x120000;
    CHECK_FALSE(shadow_switch(v, 7, 1, 2));
    CHECK(entry_of(v, 0x00400000) == 0);
    // That took an unused root; a's is still kept.
    v.arch.ctl.cr3 = a.pd;
    CHECK(shadow_switch(v, 7, 1, 1));
    CHECK(shadow_root(v) == root_a);
    CHECK(entry_of(v, 0x00400000) == in_a);
    shadow_release(v);
    CHECK(shadow_pages_in_use() == start);
}

TEST_CASE(
    "shadow_switch: invlpg, ranges and mode changes reach every kept space; ctx 0 is never kept") {
    Machine m;
    const usize start = shadow_pages_in_use();
    Vcpu& v = m.vcpu();
    GuestPaging a(m, 0x100000, 0x101000);
    GuestPaging b(m, 0x110000, 0x111000);
    a.map(0x00400000, 0x200000, kRw | kPteG);
    b.map(0x00400000, 0x200000, kRw | kPteG);
    a.enable(v, kCr4Pge);
    shadow_switch(v, 1, 5, 0);
    REQUIRE(fill(v, 0x00400000, 0) == ShadowFill::Filled);
    v.arch.ctl.cr3 = b.pd;
    shadow_switch(v, 2, 5, 5);
    REQUIRE(fill(v, 0x00400000, 0) == ShadowFill::Filled);
    // invlpg while b runs also drops a's copy (a global page is in every space).
    shadow_invlpg(v, 0x00400000);
    CHECK(entry_of(v, 0x00400000) == 0);
    v.arch.ctl.cr3 = a.pd;
    REQUIRE(shadow_switch(v, 1, 5, 5));
    CHECK(entry_of(v, 0x00400000) == 0);
    REQUIRE(fill(v, 0x00400000, 0) == ShadowFill::Filled);
    // So does a range (H_IA32_INVALIDATE).
    v.arch.ctl.cr3 = b.pd;
    REQUIRE(shadow_switch(v, 2, 5, 5));
    REQUIRE(fill(v, 0x00400000, 0) == ShadowFill::Filled);
    shadow_invalidate(v, 0x003ff000, 0x00402000);
    v.arch.ctl.cr3 = a.pd;
    REQUIRE(shadow_switch(v, 1, 5, 5));
    CHECK(entry_of(v, 0x00400000) == 0);
    REQUIRE(fill(v, 0x00400000, 0) == ShadowFill::Filled);

    // A paging-mode change empties and forgets every space.
    shadow_flush_all(v);
    CHECK(entry_of(v, 0x00400000) == 0);
    v.arch.ctl.cr3 = b.pd;
    CHECK_FALSE(shadow_switch(v, 2, 5, 5));

    // A plain cr3 load of another directory forgets the current space's id ...
    REQUIRE(fill(v, 0x00400000, 0) == ShadowFill::Filled);
    v.arch.ctl.cr3 = a.pd;
    shadow_flush(v, true);
    CHECK(shadow_space(v).ctx == 0);
    // ... a reload of the same one keeps it.
    v.arch.ctl.cr3 = b.pd;
    CHECK_FALSE(shadow_switch(v, 2, 6, 0));
    shadow_flush(v, true);
    CHECK(shadow_space(v).ctx == 2);

    // ctx 0 names no space: never kept.
    v.arch.ctl.cr3 = a.pd;
    CHECK_FALSE(shadow_switch(v, 0, 1, 6));
    CHECK_FALSE(shadow_switch(v, 0, 1, 1));
    shadow_release(v);
    CHECK(shadow_pages_in_use() == start);
}

TEST_CASE("shadow_switch: more spaces than roots reuse the least recently used one") {
    Machine m;
    const usize start = shadow_pages_in_use();
    Vcpu& v = m.vcpu();
    GuestPaging g(m);
    g.map(0x00400000, 0x200000);
    g.enable(v);
    // kShadowRoots + 1 spaces (same directory, different ids: only the ids matter here).
    for (u64 ctx = 1; ctx <= kShadowRoots + 1; ++ctx) {
        CHECK_FALSE(shadow_switch(v, ctx, 1, 1));
        REQUIRE(fill(v, 0x00400000, 0) == ShadowFill::Filled);
    }
    // Space 1 was the least recently used: gone. Spaces 3..kShadowRoots+1 are kept.
    for (u64 ctx = 3; ctx <= kShadowRoots + 1; ++ctx) {
        CHECK(shadow_switch(v, ctx, 1, 1));
        CHECK(entry_of(v, 0x00400000) != 0);
    }
    CHECK_FALSE(shadow_switch(v, 1, 1, 1));
    CHECK(entry_of(v, 0x00400000) == 0);
    CHECK(shadow_pages_in_use() <= start + 2 * kShadowRoots);
    shadow_release(v);
    CHECK(shadow_pages_in_use() == start);
}

// Two address spaces that map va 0x00400000 to different pages (a: 0x200000, b: 0x300000),
// a's tables loaded with paging on; no space switched to yet.
struct TwoSpaces {
    Machine m;
    usize start = shadow_pages_in_use();
    Vcpu& v = m.vcpu();
    GuestPaging a{m, 0x100000, 0x101000};
    GuestPaging b{m, 0x110000, 0x111000};
    TwoSpaces() {
        a.map(0x00400000, 0x200000);
        b.map(0x00400000, 0x300000);
        a.enable(v);
    }
};

TEST_CASE_FIXTURE(
    TwoSpaces,
    "shadow_fast_rows: one row per tagged space with a directory, its switcher slot set") {
    const u64 ctx_b = 0x1'0000'0008ull, gen_b = 0x2'0000'0003ull; // both halves matter
    CHECK_FALSE(shadow_switch(v, 7, 1, 0));
    const u32 root_a = shadow_root(v);
    v.arch.ctl.cr3 = b.pd;
    CHECK_FALSE(shadow_switch(v, ctx_b, gen_b, 1));
    const u32 root_b = shadow_root(v);
    u32* dir_a = fake::shadow_page_at(root_a);
    REQUIRE(dir_a != nullptr);
    dir_a[1023] = 0; // as if another CPU's switcher were there: the row sets this CPU's

    FastSpace rows[kShadowRoots];
    shadow_fast_rows(v, rows);
    std::vector<FastSpace> listed;
    for (const FastSpace& r : rows)
        if (r.root != 0) listed.push_back(r);
    REQUIRE(listed.size() == 2);
    const FastSpace want_a{a.pd, 7, 0, 1, 0, root_a};
    const FastSpace want_b{b.pd, 8, 1, 3, 2, root_b};
    CHECK(((listed[0] == want_a && listed[1] == want_b) ||
           (listed[0] == want_b && listed[1] == want_a)));
    CHECK(dir_a[1023] == fake::kSwitcherPde);
    for (const FastSpace& r : rows)
        if (r.root == 0) CHECK(r == FastSpace{}); // an empty row matches nothing loadable

    // A space whose tag was forgotten (a plain cr3 load to another directory) is not listed.
    v.arch.ctl.cr3 = 0x120000;
    shadow_flush(v, false);
    shadow_fast_rows(v, rows);
    usize n = 0;
    for (const FastSpace& r : rows) n += r.root != 0 ? 1 : 0;
    CHECK(n == 1);
    // Paging off: no row.
    v.arch.ctl.cr0 &= ~kCr0Pg;
    shadow_fast_rows(v, rows);
    for (const FastSpace& r : rows) CHECK(r.root == 0);
    shadow_release(v);
    CHECK(shadow_pages_in_use() == start);
}

TEST_CASE_FIXTURE(TwoSpaces,
                  "fast_seq: new whenever the switcher's rows would change, never reused") {
    std::vector<u64> seen{v.arch.fast_seq};
    // Each step must give a number not seen before; `same` steps must keep it.
    auto fresh = [&](const char* what) {
        INFO(what);
        CHECK(v.arch.fast_seq != 0);
        for (u64 old : seen) CHECK(v.arch.fast_seq != old);
        seen.push_back(v.arch.fast_seq);
    };
    auto same = [&](const char* what) {
        INFO(what);
        CHECK(v.arch.fast_seq == seen.back());
    };
    CHECK_FALSE(shadow_switch(v, 7, 1, 0));
    fresh("a new space");
    const u32 root_a = shadow_root(v);
    fresh("its directory");
    v.arch.ctl.cr3 = b.pd;
    CHECK_FALSE(shadow_switch(v, 8, 1, 1));
    fresh("another new space");
    const u32 root_b = shadow_root(v);
    fresh("its directory");
    v.arch.ctl.cr3 = a.pd;
    CHECK(shadow_switch(v, 7, 1, 1));
    same("back to a kept space, the left one at its generation");
    CHECK(shadow_resync(v, root_b));
    same("the switcher's own switch");
    v.arch.ctl.cr3 = a.pd;
    CHECK(shadow_switch(v, 7, 1, 2));
    fresh("the left space's generation moved");
    shadow_flush(v, false);
    same("a cr3 reload of the same directory");
    v.arch.ctl.cr3 = 0x120000;
    shadow_flush(v, false);
    fresh("a cr3 load of another directory forgets the space's tag");
    shadow_flush_all(v);
    fresh("a paging-mode change");
    (void)root_a;
    shadow_release(v);
    fresh("released");
}

TEST_CASE_FIXTURE(TwoSpaces,
                  "shadow_resync: the space the switcher loaded becomes the current one") {
    const u32 in_a = Machine::real_of(0x200000) | kPteP | kPteU;
    const u32 in_b = Machine::real_of(0x300000) | kPteP | kPteU;
    CHECK_FALSE(shadow_switch(v, 7, 1, 0));
    REQUIRE(fill(v, 0x00400000, 0) == ShadowFill::Filled);
    const u32 root_a = shadow_root(v);
    v.arch.ctl.cr3 = b.pd;
    CHECK_FALSE(shadow_switch(v, 8, 1, 1));
    const u32 root_b = shadow_root(v);

    // The directory loaded at the trap is the current one's: nothing changes.
    CHECK(shadow_resync(v, root_b));
    CHECK(v.arch.ctl.cr3 == b.pd);
    // The switcher moved the vcpu to a: a is current, with its guest cr3 and its entries, and
    // the next fill goes into a.
    CHECK(shadow_resync(v, root_a));
    CHECK(v.arch.ctl.cr3 == a.pd);
    CHECK(shadow_root(v) == root_a);
    CHECK(entry_of(v, 0x00400000) == in_a);
    // b was stamped before a: the LRU order follows the switches the switcher made.
    unsigned ia = kShadowRoots, ib = kShadowRoots;
    for (unsigned i = 0; i < kShadowRoots; ++i) {
        if (v.arch.shadows[i].ctx == 7) ia = i;
        if (v.arch.shadows[i].ctx == 8) ib = i;
    }
    REQUIRE((ia < kShadowRoots && ib < kShadowRoots));
    CHECK(v.arch.shadows[ia].used > v.arch.shadows[ib].used);
    // And back to b by the switcher: b's entries are b's.
    CHECK(shadow_resync(v, root_b));
    REQUIRE(fill(v, 0x00400000, 0) == ShadowFill::Filled);
    CHECK(entry_of(v, 0x00400000) == in_b);
    // A directory that is none of the vcpu's: refused, nothing changed.
    CHECK_FALSE(shadow_resync(v, 0x00abc000));
    CHECK(v.arch.ctl.cr3 == b.pd);
    CHECK(shadow_root(v) == root_b);

    // Pinned: every space of the vcpu (its CPU may load any of them), then none.
    shadow_pin(v, true);
    for (const ShadowSpace& s : v.arch.shadows) CHECK(s.pinned);
    shadow_pin(v, false);
    for (const ShadowSpace& s : v.arch.shadows) CHECK_FALSE(s.pinned);
    shadow_release(v);
    CHECK(shadow_pages_in_use() == start);
}

TEST_CASE("shadow_fill prefills the group's accessed guest entries (user ones marked accessed "
          "first), writable only if dirty") {
    Machine m;
    const usize start = shadow_pages_in_use();
    Vcpu& v = m.vcpu();
    GuestPaging g(m);
    g.enable(v);
    const u32 base = 0x00400000;
    g.map(base + 0x0000, 0x200000, kRw);                  // the one that faults
    g.map(base + 0x1000, 0x201000, kRw | kPteA);          // accessed: read-only shadow
    g.map(base + 0x2000, 0x202000, kRw | kPteA | kPteD);  // accessed and dirty: writable
    g.map(base + 0x3000, 0x203000, kRw);                  // user, never accessed: A set now
    g.map(base + 0x4000, kLparSize, kRw | kPteA | kPteD); // past the LPAR: left alone
    g.map(base + 0x5000, 0x205000, kPteP | kPteA);        // supervisor read-only
    g.map(base + 0x6000, 0x206000, kPteP | kPteW);        // supervisor, never accessed: left alone
    g.map(base + 0x7000, kLparSize, kRw);                 // past the LPAR, not accessed
    g.map(base + 0x10000, 0x210000, kRw);                 // the next group: left alone
    const u32 pte4 = g.pte(base + 0x4000), pte6 = g.pte(base + 0x6000), pte7 = g.pte(base + 0x7000);
    const u32 pte16 = g.pte(base + 0x10000);
    REQUIRE(fill(v, base + 0x0123, 0) == ShadowFill::Filled);
    CHECK(entry_of(v, base) == (Machine::real_of(0x200000) | kPteP | kPteU));
    CHECK(entry_of(v, base + 0x1000) == (Machine::real_of(0x201000) | kPteP | kPteU));
    CHECK(entry_of(v, base + 0x2000) == (Machine::real_of(0x202000) | kRw));
    CHECK(entry_of(v, base + 0x3000) == (Machine::real_of(0x203000) | kPteP | kPteU));
    CHECK(g.pte(base + 0x3000) == (0x203000 | kRw | kPteA)); // Accessed, not Dirty
    CHECK(entry_of(v, base + 0x4000) == 0);
    CHECK(g.pte(base + 0x4000) == pte4);
    CHECK(entry_of(v, base + 0x5000) == (Machine::real_of(0x205000) | kPteP));
    CHECK(entry_of(v, base + 0x6000) == 0);
    CHECK(g.pte(base + 0x6000) == pte6); // the guest's supervisor entries are not touched
    CHECK(entry_of(v, base + 0x7000) == 0);
    CHECK(g.pte(base + 0x7000) == pte7); // no A for a page not filled
    CHECK(entry_of(v, base + 0x10000) == 0);
    CHECK(g.pte(base + 0x10000) == pte16);
    CHECK(shadow_space(v).nonglobal[1] == 5);
    // A prefilled entry the guest then writes: faults once (not writable), the fill sets D.
    u32 ge = 0;
    CHECK(fill(v, base + 0x1000, kPfP | kPfW, &ge) == ShadowFill::Filled);
    CHECK(entry_of(v, base + 0x1000) == (Machine::real_of(0x201000) | kRw));
    CHECK((g.pte(base + 0x1000) & kPteD) != 0);
    shadow_release(v);
    CHECK(shadow_pages_in_use() == start);
}

TEST_CASE("shadow_fill's prefill gives W to read-only entries whose guest entry now lets write, "
          "and only that") {
    Machine m;
    const usize start = shadow_pages_in_use();
    Vcpu& v = m.vcpu();
    GuestPaging g(m);
    g.enable(v);
    const u32 base = 0x00400000;
    constexpr u32 kCow = kPteP | kPteU | kPteA | kPteD; // written before the fork, then shared
    for (u32 i = 0; i < 6; ++i) g.map(base + i * 0x1000, 0x200000 + i * 0x1000, kCow);
    REQUIRE(fill(v, base, 0) == ShadowFill::Filled); // read: the group's read-only entries
    for (u32 i = 0; i < 6; ++i)
        REQUIRE(entry_of(v, base + i * 0x1000) ==
                (Machine::real_of(0x200000 + i * 0x1000) | kPteP | kPteU));
    // The CPU marks the entries it uses in the shadow's tables: Accessed, Dirty where it wrote
    // through them before they lost W (H_IA32_PROTECT keeps those bits).
    set_entry_bits(v, base + 0x1000, kPteA | kPteD);
    set_entry_bits(v, base + 0x2000, kPteA);
    // The guest makes pages writable again (their child has gone), as Linux's write fault
    // reuses a page: the faulting one and, ahead of their own faults, neighbours.
    g.map(base + 0x0000, 0x200000, kCow | kPteW);
    g.map(base + 0x1000, 0x201000, kCow | kPteW);                  // writable and dirty: upgraded
    g.map(base + 0x2000, 0x202000, kPteP | kPteU | kPteA | kPteW); // clean: stays read-only
    g.map(base + 0x3000, 0x300000, kCow | kPteW);                  // another frame: left as it is
    g.map(base + 0x4000, 0x204000, kPteP | kPteW | kPteA | kPteD); // supervisor now: left
    // base + 0x5000 stays read-only in the guest's entry too.
    u32 ge = 0;
    REQUIRE(fill(v, base, kPfP | kPfW | kPfU, &ge) == ShadowFill::Filled);
    CHECK(entry_of(v, base) == (Machine::real_of(0x200000) | kRw));
    CHECK(entry_of(v, base + 0x1000) == (Machine::real_of(0x201000) | kRw));
    CHECK(entry_of(v, base + 0x2000) == (Machine::real_of(0x202000) | kPteP | kPteU | kPteA));
    CHECK(entry_of(v, base + 0x3000) == (Machine::real_of(0x203000) | kPteP | kPteU));
    CHECK(entry_of(v, base + 0x4000) == (Machine::real_of(0x204000) | kPteP | kPteU));
    CHECK(entry_of(v, base + 0x5000) == (Machine::real_of(0x205000) | kPteP | kPteU));
    CHECK(shadow_space(v).nonglobal[1] == 6);
    shadow_release(v);
    CHECK(shadow_pages_in_use() == start);
}

TEST_CASE("H_IA32_SET_VIRQ's alias: one vcpu sees its flags' page where the tables map another") {
    Machine m;
    Vcpu& v0 = m.vcpu();
    Vcpu& v1 = m.vcpu(1);
    GuestPaging g(m);
    g.enable(v0);
    g.enable(v1);
    constexpr u32 kVa = 0x00c05000, kShared = 0x00205000, kOwn = 0x00207000;
    g.map(kVa, kShared, kRw | kPteD);
    g.map(kVa + 0x1000, kShared + 0x1000, kRw | kPteD | kPteA); // accessed: prefilled
    // vcpu 1's flags live at kOwn + 0x10; it sees that page wherever kShared is mapped.
    v1.arch.virq_on = true;
    v1.arch.virq_area = kOwn + 0x10;
    v1.arch.virq_alias_on = true;
    v1.arch.virq_alias = kShared;
    CHECK(vcpu_logical(v1, kShared + 0x10) == kOwn + 0x10);
    CHECK(vcpu_logical(v1, kShared + 0x1000) == kShared + 0x1000); // only that page
    CHECK(vcpu_logical(v0, kShared + 0x10) == kShared + 0x10);     // vcpu 0 has no alias

    CHECK(fill(v0, kVa, 0) == ShadowFill::Filled);
    CHECK(fill(v1, kVa, 0) == ShadowFill::Filled);
    CHECK((entry_of(v0, kVa) & kPteFrame) == Machine::real_of(kShared));
    CHECK((entry_of(v1, kVa) & kPteFrame) == Machine::real_of(kOwn));
    // The prefilled neighbour is the guest's own page for both.
    CHECK((entry_of(v1, kVa + 0x1000) & kPteFrame) == Machine::real_of(kShared + 0x1000));

    // The hypervisor's own walks agree with the vcpu.
    const u32 mine = 0x1234, theirs = 0x5678;
    __builtin_memcpy(m.host(kOwn + 0x10), &mine, 4);
    __builtin_memcpy(m.host(kShared + 0x10), &theirs, 4);
    u32 seen = 0;
    CHECK(guest_read(v1, kVa + 0x10, &seen, 4));
    CHECK(seen == mine);
    CHECK(guest_read(v0, kVa + 0x10, &seen, 4));
    CHECK(seen == theirs);
    shadow_release(v0);
    shadow_release(v1);
}

TEST_CASE("guest_read and guest_write go through the shadow entry as the CPU would, else walk") {
    Machine m;
    Vcpu& v = m.vcpu();
    GuestPaging g(m);
    g.enable(v);
    g.map(0x00801000, 0x01003000); // user, writable, clean
    m.poke(0x01003010, 0x11111111);
    m.poke(0x01004010, 0x22222222);
    REQUIRE(fill(v, 0x00801010, kPfU) == ShadowFill::Filled); // read-only shadow entry (clean)
    u32 word = 0;
    REQUIRE(guest_read(v, 0x00801010, &word, 4));
    CHECK(word == 0x11111111);
    // The guest remaps the page without invlpg: like the CPU's TLB, the shadow entry still
    // names the old frame, and so do the hypervisor's reads through it.
    m.poke(g.pte_la(0x00801000), 0x01004000 | kRw | kPteA);
    REQUIRE(guest_read(v, 0x00801010, &word, 4));
    CHECK(word == 0x11111111);
    // A write needs a writable entry: this one is read-only, so the write walks the guest's
    // tables (the new frame) and marks the entry dirty, as the CPU's write fault would.
    const u32 value = 0x33333333;
    REQUIRE(guest_write(v, 0x00801010, &value, 4));
    CHECK(m.peek(0x01004010) == 0x33333333);
    CHECK(m.peek(0x01003010) == 0x11111111);
    CHECK((g.pte(0x00801000) & kPteD) != 0);
    // After invlpg both see the new frame.
    shadow_invlpg(v, 0x00801000);
    REQUIRE(guest_read(v, 0x00801010, &word, 4));
    CHECK(word == 0x33333333);
    // A supervisor page's shadow entry is not for ring 3's accesses: those walk and fault.
    g.map(0x00802000, 0x00200000, kPteP | kPteW | kPteD);
    REQUIRE(fill(v, 0x00802000, kPfW) == ShadowFill::Filled);
    REQUIRE(guest_read(v, 0x00802000, &word, 4));
    GuestFault f;
    CHECK_FALSE(guest_read(v, 0x00802000, &word, 4, &f, true));
    CHECK(f.error == (kPfP | kPfU));
    shadow_release(v);
}
