// A process's own faults reflected by the switcher: which #PF and #GP gates it may use, when
// its block is on, and which of the guest's page tables it is given (isa/ia32/fast_reflect.hpp).
// The switcher's own walk and reflection run only on the CPU (tests/integration/direct-traps.sh).
#include "isa/ia32/cpu.hpp"
#include "isa/ia32/direct_gate.hpp"
#include "isa/ia32/fast_reflect.hpp"

#include "tests/unit/ia32/machine.hpp"

#include <doctest/doctest.h>

using namespace tessera;
using namespace tessera::arch;
using tessera::arch::test::GuestPaging;
using tessera::arch::test::Kernel;
using tessera::arch::test::kLparSize;
using tessera::arch::test::Machine;

namespace {

constexpr u32 kHandler = 0xc1802000, kGpHandler = 0xc1803000, kSyscall = 0xc1801000;
constexpr u8 kTrap = 0xf, kInterrupt = 0xe;
constexpr u64 kRing1Code = 0x00cfba000000ffffull; // as lgdt installs Linux's __KERNEL_CS
constexpr u32 kRoot = 0x00abc000;                 // a shadow directory's real address
constexpr u32 kFlags = 0x7010;                    // the interrupt-flag area (logical)

u64 gate(u8 type, unsigned dpl = 0, u32 sel = Kernel::kKernelCs, bool present = true) {
    return Kernel::gate_value(kHandler, sel, type, dpl, present);
}

// A PV kernel as Linux is under Tessera: paging on, a direct int $0x80 (so the ring-1 stack is
// the TSS's), an interrupt gate for #PF, and its interrupt flag with the cr2 word registered.
struct Guest {
    Machine m;
    Kernel k{m};
    GuestPaging p{m};
    Vcpu& v = k.v;

    Guest() {
        // The IDT and TSS where the kernel's tables map them (1:1 here).
        p.map(Kernel::kIdt, Kernel::kIdt, kPteP | kPteW);
        p.map(Kernel::kTss, Kernel::kTss, kPteP | kPteW);
        p.enable(v);
        k.gate(0x80, kSyscall, kTrap, 3);
        k.gate(14, kHandler, kInterrupt, 0);
        k.gate(13, kGpHandler, kTrap, 0);
        v.arch.virq_on = true;
        v.arch.virq_cr2 = true;
        v.arch.virq_area = kFlags;
        v.arch.virq_host = reinterpret_cast<u32*>(m.host(kFlags));
    }
    FastReflectImage image(bool step = false) {
        direct_gates_for(v);
        return fast_reflect_image(v, kRoot, step);
    }
};

} // namespace

TEST_CASE("fast reflect: the #PF gate may be an interrupt or trap gate to ring-1 32-bit code") {
    CHECK(reflect_gate_allowed(gate(kInterrupt), kRing1Code));
    CHECK(reflect_gate_allowed(gate(kTrap), kRing1Code));
    CHECK(reflect_gate_allowed(gate(kInterrupt, 3), kRing1Code)); // an exception ignores the DPL
    CHECK_FALSE(reflect_gate_allowed(gate(kInterrupt, 0, Kernel::kKernelCs, false), kRing1Code));
    CHECK_FALSE(reflect_gate_allowed(gate(0x6), kRing1Code));                 // a 16-bit gate
    CHECK_FALSE(reflect_gate_allowed(gate(0x5), kRing1Code));                 // a task gate
    CHECK_FALSE(reflect_gate_allowed(gate(kInterrupt, 0, 0), kRing1Code));    // null selector
    CHECK_FALSE(reflect_gate_allowed(gate(kInterrupt, 0, 0x64), kRing1Code)); // an LDT selector
    // TLS entries 6..8 (the switcher's GDT rows change them while the vcpu runs); 5 and 9 not.
    for (const u32 tls : {0x30u, 0x39u, 0x41u})
        CHECK_FALSE(reflect_gate_allowed(gate(kInterrupt, 0, tls), kRing1Code));
    CHECK(reflect_gate_allowed(gate(kInterrupt, 0, 0x29), kRing1Code));
    CHECK(reflect_gate_allowed(gate(kInterrupt, 0, 0x49), kRing1Code));
    CHECK_FALSE(reflect_gate_allowed(gate(kInterrupt), 0x00cf9b000000ffffull)); // ring-0 code
    CHECK_FALSE(reflect_gate_allowed(gate(kInterrupt), 0x00cffb000000ffffull)); // ring-3 code
    CHECK_FALSE(reflect_gate_allowed(gate(kInterrupt), 0x00cfb3000000ffffull)); // data
    CHECK_FALSE(reflect_gate_allowed(gate(kInterrupt), 0x008fba000000ffffull)); // 16-bit code
}

TEST_CASE("fast reflect: on with the guest's gate, ring-1 stack, directory and flag page") {
    Guest g;
    const FastReflectImage img = g.image();
    const FastReflect& b = img.block;
    CHECK(b.on == 1);
    CHECK(b.root == kRoot);
    CHECK(b.gates[0] == FastReflect::Gate{kHandler, Kernel::kKernelCs | 1, 1});   // #PF
    CHECK(b.gates[1] == FastReflect::Gate{kGpHandler, Kernel::kKernelCs | 1, 0}); // #GP
    CHECK(b.ss == (Kernel::kKernelDs | 1));
    CHECK(b.frame == Kernel::kEsp0 - 24);
    // The directory read-only at slot 0, the flag page read-write at the last slot, no tables.
    CHECK(img.slots[0] == (Machine::real_of(g.p.pd) | kPteP));
    for (usize i = 1; i <= X86_FR_TABLES; ++i) CHECK(img.slots[i] == 0);
    const u32 flag_slot = img.slots[1 + X86_FR_TABLES];
    CHECK((flag_slot & 0xfff) == (kPteP | kPteW));
    CHECK(b.virq == X86_FR_VA(1 + X86_FR_TABLES) + (kFlags & 0xfff));
    for (const FastReflect::Row& r : b.rows) CHECK(r.index == ~0u);

    SUBCASE("a trap gate leaves the virtual IF, an interrupt gate clears it") {
        g.k.gate(14, kHandler, kTrap, 0);
        g.k.gate(13, kGpHandler, kInterrupt, 0);
        const FastReflect b2 = g.image().block;
        CHECK(b2.gates[0].clear_if == 0);
        CHECK(b2.gates[1].clear_if == 1);
    }
    SUBCASE("one gate not allowed: that one off, the other on") {
        g.k.gate(13, kGpHandler, kTrap, 0, Kernel::kUserCs);
        const FastReflect b2 = g.image().block;
        CHECK(b2.on == 1);
        CHECK(b2.gates[0].handler == kHandler);
        CHECK(b2.gates[1] == FastReflect::Gate{});
    }
}

TEST_CASE("fast reflect: off, every slot empty, whenever something is missing") {
    Guest g;
    auto off = [&](const FastReflectImage& img) {
        CHECK(img.block == FastReflect{});
        for (const u32 s : img.slots) CHECK(s == 0);
    };
    SUBCASE("the hypervisor single-steps") {
        off(g.image(true));
    }
    SUBCASE("paging off") {
        g.v.arch.ctl.cr0 &= ~kCr0Pg;
        off(g.image());
    }
    SUBCASE("no shadow directory") {
        direct_gates_for(g.v);
        off(fast_reflect_image(g.v, 0, false));
    }
    SUBCASE("the guest's breakpoints armed") {
        g.v.arch.debug.dr[0] = 0x08048000;
        g.v.arch.debug.dr7 = 0x1 | kDr7Fixed;
        off(g.image());
    }
    SUBCASE("no cr2 word in the flag area") {
        g.v.arch.virq_cr2 = false;
        off(g.image());
    }
    SUBCASE("the flag area across a page boundary") {
        g.v.arch.virq_area = 0x7ff8;
        off(g.image());
    }
    SUBCASE("neither gate to ring-1 code") {
        g.k.gate(14, kHandler, kInterrupt, 0, Kernel::kUserCs);
        g.k.gate(13, kGpHandler, kInterrupt, 0, X86_HV_CODE);
        off(g.image());
    }
    SUBCASE("no ring-1 stack (no direct gate validated one)") {
        g.k.gate(0x80, kSyscall, kInterrupt, 3);
        off(g.image());
    }
    SUBCASE("a ring-1 stack segment that does not start at 0") {
        g.v.arch.gdt[Kernel::kKernelDs >> 3] = desc::install(0x01cf92000000ffffull);
        descriptor_tables_changed(g.v);
        off(g.image());
    }
    SUBCASE("a directory outside the LPAR") {
        g.v.arch.ctl.cr3 = kLparSize;
        off(g.image());
    }
}

TEST_CASE("fast reflect: the tables of reflected faults, by directory entry, the least recent "
          "space's oldest replaced") {
    Guest g;
    const u32 ro = 0x08048000;
    g.p.map(ro, 0x200000, kPteP | kPteU); // a read-only user page
    fast_reflect_note(g.v, ro);
    FastReflectImage img = g.image();
    const u32 pde = g.p.pde(ro);
    CHECK(img.block.rows[0].index == (ro >> 22));
    CHECK(img.block.rows[0].pde == (pde & ~kPteA));
    CHECK(img.slots[1] == (Machine::real_of(pde & kPteFrame) | kPteP));

    SUBCASE("the same entry again: the same row") {
        g.m.poke(g.p.pde_la(ro), pde | kPteA);
        fast_reflect_note(g.v, ro + 0x1000);
        img = g.image();
        CHECK(img.block.rows[0].index == (ro >> 22));
        CHECK(img.block.rows[1].index == ~0u);
    }
    SUBCASE("not present, or a 4 MiB page: nothing remembered") {
        fast_reflect_note(g.v, 0x40000000);
        g.p.map_large(0x80000000, 0x400000);
        fast_reflect_note(g.v, 0x80001000);
        img = g.image();
        CHECK(img.block.rows[1].index == ~0u);
        CHECK(img.slots[2] == 0);
    }
    SUBCASE("more tables than rows: the oldest goes") {
        for (u32 i = 1; i <= X86_FR_TABLES; ++i) {
            g.p.map(ro + i * 0x400000, 0x200000, kPteP | kPteU);
            fast_reflect_note(g.v, ro + i * 0x400000);
        }
        img = g.image();
        for (const FastReflect::Row& r : img.block.rows) CHECK(r.index != (ro >> 22));
        CHECK(img.block.rows[0].index == ((ro + X86_FR_TABLES * 0x400000) >> 22));
    }
    SUBCASE("another table at the same index (another process's): a row of its own") {
        const u32 other = (pde & ~kPteFrame & ~kPteA) | 0x300000;
        g.m.poke(g.p.pde_la(ro), other);
        fast_reflect_note(g.v, ro);
        img = g.image();
        CHECK(img.block.rows[0].pde == (pde & ~kPteA));
        CHECK(img.block.rows[1].index == (ro >> 22));
        CHECK(img.block.rows[1].pde == other);
        CHECK(img.slots[2] == (Machine::real_of(0x300000) | kPteP));
    }
    SUBCASE("full: the oldest row of the space that ran least recently goes") {
        // ro's row is space 0's; the other rows are space 1's, which ran after it. Then space 0
        // runs again (a parent after its child) and faults on a new table: a row of space 1's
        // goes, the oldest, not the parent's.
        arch::VcpuState& a = g.v.arch;
        a.shadows[0].used = 1;
        a.shadows[1].used = 2;
        a.shadow_cur = 1;
        for (u32 i = 1; i < X86_FR_TABLES; ++i) {
            g.p.map(ro + i * 0x400000, 0x200000, kPteP | kPteU);
            fast_reflect_note(g.v, ro + i * 0x400000);
        }
        a.shadows[0].used = 3;
        a.shadow_cur = 0;
        const u32 next = ro + X86_FR_TABLES * 0x400000;
        g.p.map(next, 0x200000, kPteP | kPteU);
        fast_reflect_note(g.v, next);
        img = g.image();
        CHECK(img.block.rows[0].index == (ro >> 22));
        CHECK(img.block.rows[1].index == (next >> 22));
        CHECK(img.block.rows[2].index == ((ro + 2 * 0x400000) >> 22));
    }
    SUBCASE("a table the guest moved outside the LPAR: not mapped") {
        g.m.poke(g.p.pde_la(ro), kLparSize | kPteP | kPteW | kPteU);
        fast_reflect_note(g.v, ro);
        img = g.image();
        CHECK(img.block.rows[1].index == ~0u); // its row, noted, gives no slot
        CHECK(img.slots[2] == 0);
        CHECK(img.block.rows[0].index == (ro >> 22)); // the LPAR's table of before stays
    }
    SUBCASE("forgotten when the vcpu starts again") {
        fast_reflect_forget(g.v.arch);
        img = g.image();
        CHECK(img.block.rows[0].index == ~0u);
        CHECK(img.slots[1] == 0);
    }
}

TEST_CASE("fast reflect: a fork gives the child rows for its own tables at the parent's most "
          "recent rows' indexes") {
    Guest g;
    arch::VcpuState& a = g.v.arch;
    GuestPaging child(g.m, 0x180000, 0x181000);
    // The parent (space 0, ctx 10) has rows for five tables, noted in this order; the child
    // (space 1, ctx 20) has its own tables at four of those indexes.
    a.shadow_cur = 0;
    a.shadows[0].ctx = 10;
    a.shadows[0].used = 1;
    a.shadows[1].ctx = 20;
    a.shadows[1].cr3 = child.pd;
    a.shadows[1].used = 2;
    constexpr u32 kVa[] = {0x08048000, 0x0a000000, 0x0c000000, 0x0e000000, 0xbf800000};
    for (u32 va : kVa) {
        g.p.map(va, 0x200000, kPteP | kPteU);
        fast_reflect_note(g.v, va);
    }
    for (u32 va : {kVa[0], kVa[2], kVa[3], kVa[4]}) child.map(va, 0x200000, kPteP | kPteU);
    fast_reflect_fork(g.v, child.pd, 20);
    // The four most recent of the parent's rows are kVa[1..4]; the child has no table at kVa[1]'s
    // index, so three rows are made, and every row of the parent's is still there.
    unsigned parents = 0, childs = 0;
    for (const auto& r : a.pf_rows) {
        if (r.index == ~0u) continue;
        if (r.space == 0) {
            ++parents;
            continue;
        }
        ++childs;
        CHECK(r.space == 1);
        CHECK(r.index != (kVa[0] >> 22));
        CHECK(r.index != (kVa[1] >> 22));
        CHECK(r.pde == (child.m.peek(child.pde_la(r.index << 22)) & ~kPteA));
        CHECK(r.pde != (g.p.pde(r.index << 22) & ~kPteA));
    }
    CHECK(parents == 5);
    CHECK(childs == 3);
    // A child's space the vcpu does not have: nothing.
    fast_reflect_forget(a);
    fast_reflect_note(g.v, kVa[0]);
    fast_reflect_fork(g.v, child.pd, 30);
    CHECK(a.pf_rows[1].index == ~0u);
}

TEST_CASE(
    "fast reflect: the switcher's counts are taken once, and bounded (ring 1 can write them)") {
    u32 words[3] = {0, 0x1234, 0};
    FastReflected r = fast_reflected_take(words);
    CHECK(r.page_faults == 0);
    CHECK(r.gp_faults == 0);
    CHECK(r.last_va == 0); // nothing reflected: no address either

    words[0] = 7, words[1] = 0x0804a000, words[2] = 3;
    r = fast_reflected_take(words);
    CHECK(r.page_faults == 7);
    CHECK(r.last_va == 0x0804a000);
    CHECK(r.gp_faults == 3);
    CHECK(words[0] == 0);
    CHECK(words[2] == 0);
    r = fast_reflected_take(words);
    CHECK(r.page_faults == 0);
    CHECK(r.gp_faults == 0);

    // What a guest's stores to the stack page could leave: counted as one entry's most.
    words[0] = 0xffffffff, words[2] = kFastReflectedMax + 1;
    r = fast_reflected_take(words);
    CHECK(r.page_faults == kFastReflectedMax);
    CHECK(r.gp_faults == kFastReflectedMax);
    CHECK(words[0] == 0);
    CHECK(words[2] == 0);
}
