// Direct system calls and traps: which guest gates may become the CPU's (only a trap gate to
// ring-1 32-bit code, with the guest's DPL), the gates and ring-1 stack the vcpu's entry
// installs, and the return window's iret done by the hypervisor.
#include "isa/ia32/cpu.hpp"
#include "isa/ia32/direct_gate.hpp"

#include "tests/unit/ia32/machine.hpp"

#include <doctest/doctest.h>

using namespace tessera;
using namespace tessera::arch;
using tessera::arch::test::Kernel;
using tessera::arch::test::Machine;

namespace {

constexpr u32 kHandler = 0xc1801234;
constexpr u8 kTrap = 0xf, kInterrupt = 0xe;
constexpr u64 kRing1Code = 0x00cfba000000ffffull; // as lgdt installs Linux's __KERNEL_CS

u64 gate(u8 type, unsigned dpl, u32 sel = Kernel::kKernelCs, bool present = true) {
    return Kernel::gate_value(kHandler, sel, type, dpl, present);
}

// The index of `vector` in kDirectVectors.
usize slot(u32 vector) {
    for (usize i = 0; i < kDirectCount; ++i)
        if (kDirectVectors[i] == vector) return i;
    FAIL("not a direct vector");
    return 0;
}

} // namespace

TEST_CASE("direct gate: only a present trap gate to ring-1 32-bit code is allowed") {
    CHECK(direct_gate_allowed(gate(kTrap, 3), kRing1Code));
    // Any DPL: the CPU's gate keeps it, and an int n it refuses is emulated with the same rule.
    CHECK(direct_gate_allowed(gate(kTrap, 0), kRing1Code));
    CHECK(direct_gate_allowed(gate(kTrap, 1), kRing1Code));
    // The interrupt gate must clear IF: the CPU's IF must stay 1 in ring 1, so never direct.
    CHECK_FALSE(direct_gate_allowed(gate(kInterrupt, 3), kRing1Code));
    CHECK_FALSE(direct_gate_allowed(gate(kInterrupt, 0), kRing1Code));
    CHECK_FALSE(direct_gate_allowed(gate(kTrap, 3, Kernel::kKernelCs, false), kRing1Code));
    CHECK_FALSE(direct_gate_allowed(gate(0x7, 3), kRing1Code));         // a 16-bit trap gate
    CHECK_FALSE(direct_gate_allowed(gate(0x5, 3), kRing1Code));         // a task gate
    CHECK_FALSE(direct_gate_allowed(gate(kTrap, 3, 0), kRing1Code));    // null selector
    CHECK_FALSE(direct_gate_allowed(gate(kTrap, 3, 0x64), kRing1Code)); // an LDT selector
    // What the selector names: ring-0 code (the hypervisor's), ring-3 code, data, conforming,
    // 16-bit, not present, nothing.
    CHECK_FALSE(direct_gate_allowed(gate(kTrap, 3, X86_HV_CODE), 0x00cf9b000000ffffull));
    CHECK_FALSE(direct_gate_allowed(gate(kTrap, 3), 0x00cffb000000ffffull));
    CHECK_FALSE(direct_gate_allowed(gate(kTrap, 3), 0x00cfb3000000ffffull));
    CHECK_FALSE(direct_gate_allowed(gate(kTrap, 3), 0x00cfbe000000ffffull));
    CHECK_FALSE(direct_gate_allowed(gate(kTrap, 3), 0x008fba000000ffffull));
    CHECK_FALSE(direct_gate_allowed(gate(kTrap, 3), 0x00cf3a000000ffffull));
    CHECK_FALSE(direct_gate_allowed(gate(kTrap, 3), 0));
}

TEST_CASE("direct gate: the CPU's entry keeps the handler and DPL, names the selector with RPL 1") {
    u64 e = direct_gate_entry(gate(kTrap, 3, Kernel::kKernelCs));
    CHECK(gate_offset(e) == kHandler);
    CHECK(((e >> 16) & 0xffff) == (Kernel::kKernelCs | 1));
    CHECK(((e >> 40) & 0xff) == 0xef); // present, DPL 3, 32-bit trap gate
    e = direct_gate_entry(gate(kTrap, 0, Kernel::kKernelCs));
    CHECK(((e >> 40) & 0xff) == 0x8f); // present, DPL 0: ring 3's int n still faults
}

TEST_CASE("direct gates: installed from the vcpu's IDT and TSS, refused when anything is off") {
    Machine m;
    Kernel k(m);
    Vcpu& v = k.v;
    k.gate(0x80, kHandler, kTrap, 3);
    DirectGates g = direct_gates_for(v);
    CHECK(g.installed());
    CHECK(g.handler[slot(0x80)] == kHandler);
    CHECK(g.esp1 == Kernel::kEsp0);
    CHECK(g.ss1 == (Kernel::kKernelDs | 1));
    CHECK(g.entry[slot(0x80)] == direct_gate_entry(gate(kTrap, 3)));
    // The exception vectors are interrupt gates (Linux's native ones): the hypervisor's.
    CHECK(g.entry[slot(0)] == 0);
    CHECK(g.handler[slot(6)] == 0);

    SUBCASE("exception trap gates: direct with their DPL; #PF and #GP never") {
        k.gate(0, kHandler + 0x10, kTrap, 0);
        k.gate(3, kHandler + 0x20, kTrap, 3);
        k.gate(19, kHandler + 0x30, kTrap, 0);
        k.gate(14, kHandler + 0x40, kTrap, 0);
        k.gate(13, kHandler + 0x50, kTrap, 0);
        k.gate(1, kHandler + 0x60, kTrap, 0);
        g = direct_gates_for(v);
        CHECK(g.installed());
        CHECK(g.handler[slot(0)] == kHandler + 0x10);
        CHECK(((g.entry[slot(0)] >> 40) & 0xff) == 0x8f);
        CHECK(g.handler[slot(3)] == kHandler + 0x20);
        CHECK(((g.entry[slot(3)] >> 40) & 0xff) == 0xef);
        CHECK(g.handler[slot(19)] == kHandler + 0x30);
        for (const u32 h : g.handler) CHECK((h == 0 || h < kHandler + 0x40)); // not 14, 13, 1
    }
    SUBCASE("an IDT that ends after vector 5: 0..5 may be direct, nothing beyond") {
        k.gate(3, kHandler + 0x20, kTrap, 3);
        k.gate(6, kHandler + 0x30, kTrap, 0);
        v.arch.tables.idt_limit = 6 * 8 - 1;
        g = direct_gates_for(v);
        CHECK(g.installed());
        CHECK(g.handler[slot(3)] == kHandler + 0x20);
        CHECK(g.handler[slot(6)] == 0);
        CHECK(g.handler[slot(0x80)] == 0);
    }
    SUBCASE("Linux's native interrupt gate: reflected as before") {
        k.gate(0x80, kHandler, kInterrupt, 3);
        g = direct_gates_for(v);
        CHECK_FALSE(g.installed());
        CHECK(g.handler[slot(0x80)] == 0);
        CHECK(g.entry[slot(0x80)] == 0);
    }
    SUBCASE("a gate naming the hypervisor's code") {
        k.gate(0x80, kHandler, kTrap, 3, X86_HV_CODE);
        CHECK_FALSE(direct_gates_for(v).installed());
    }
    SUBCASE("a gate naming ring-3 code") {
        k.gate(0x80, kHandler, kTrap, 3, Kernel::kUserCs);
        CHECK_FALSE(direct_gates_for(v).installed());
    }
    SUBCASE("an IDT too short for vector 0x80") {
        v.arch.tables.idt_limit = 0x80 * 8 - 1;
        CHECK_FALSE(direct_gates_for(v).installed());
    }
    SUBCASE("no TSS: the gates' handlers are known, nothing installed") {
        k.gate(0, kHandler + 0x10, kTrap, 0);
        v.arch.tables.tr = 0;
        g = direct_gates_for(v);
        CHECK_FALSE(g.installed());
        CHECK(g.handler[slot(0x80)] == kHandler);
        CHECK(g.handler[slot(0)] == kHandler + 0x10);
        for (const u64 e : g.entry) CHECK(e == 0);
    }
    SUBCASE("a TSS ss0 that is not a ring-1 stack") {
        m.poke(Kernel::kTss + 8, Kernel::kUserDs);
        CHECK_FALSE(direct_gates_for(v).installed());
        m.poke(Kernel::kTss + 8, Kernel::kKernelCs);
        CHECK_FALSE(direct_gates_for(v).installed());
        m.poke(Kernel::kTss + 8, X86_HV_DATA);
        CHECK_FALSE(direct_gates_for(v).installed());
    }
    SUBCASE("a gate or TSS ss0 naming a TLS entry (the switcher's GDT rows change those)") {
        // Valid descriptors there: refused all the same, since another row may hold anything.
        v.arch.gdt[6] = desc::install(0x00cf9a000000ffffull); // ring-0 code, raised to 1
        v.arch.gdt[7] = desc::install(0x00cf92000000ffffull); // ring-0 data, raised to 1
        k.gate(0x80, kHandler, kTrap, 3, 6 << 3);
        CHECK_FALSE(direct_gates_for(v).installed());
        k.gate(0x80, kHandler, kTrap, 3);
        REQUIRE(direct_gates_for(v).installed());
        m.poke(Kernel::kTss + 8, 7 << 3);
        CHECK_FALSE(direct_gates_for(v).installed());
        CHECK(direct_gates_for(v).ss1 == 0);
    }
    SUBCASE("an IDT beyond the LPAR's memory") {
        v.arch.tables.idt_base = tessera::arch::test::kLparSize - 0x100;
        CHECK_FALSE(direct_gates_for(v).installed());
    }
}

TEST_CASE("direct gates: validated again when the gates, the TSS words or the tables change") {
    Machine m;
    Kernel k(m);
    Vcpu& v = k.v;
    descriptor_tables_changed(v); // as after the guest's lgdt
    k.gate(0x80, kHandler, kTrap, 3);
    REQUIRE(direct_gates_for(v).installed());
    CHECK(direct_gates_for(v).handler[slot(0x80)] == kHandler);

    SUBCASE("a gate rewritten in the guest's IDT: its new handler at the next entry") {
        k.gate(0x80, kHandler + 4, kTrap, 3);
        CHECK(direct_gates_for(v).handler[slot(0x80)] == kHandler + 4);
        k.gate(0x80, kHandler, kInterrupt, 3);
        CHECK_FALSE(direct_gates_for(v).installed());
    }
    SUBCASE("the TSS's esp0 moved: the new ring-1 stack") {
        m.poke(Kernel::kTss + 4, Kernel::kEsp0 - 0x1000);
        CHECK(direct_gates_for(v).esp1 == Kernel::kEsp0 - 0x1000);
    }
    SUBCASE("new descriptor tables: the selector is checked against them") {
        v.arch.gdt[Kernel::kKernelCs >> 3] = desc::install(0x00cffa000000ffffull); // ring-3 code
        descriptor_tables_changed(v);
        CHECK_FALSE(direct_gates_for(v).installed());
        CHECK(direct_gates_for(v).handler[slot(0x80)] == 0);
    }
}

TEST_CASE("exit window: the hypervisor does the iret there, and only there") {
    Machine m;
    Kernel k(m);
    Vcpu& v = k.v;
    GuestFrame& r = v.arch.regs;
    v.arch.window_start = 0x2000;
    v.arch.window_end = 0x2010;
    // An iret frame back to ring 3 with IF set at esp.
    r.esp = 0x8000;
    m.poke(0x8000, 0x401000);
    m.poke(0x8004, Kernel::kUserCs);
    m.poke(0x8008, 0x202);
    m.poke(0x800c, 0xbff000);
    m.poke(0x8010, Kernel::kUserDs);
    set_vif(v, false);

    r.eip = 0x1fff;
    CHECK_FALSE(complete_window_iret(v));
    r.eip = 0x2010;
    CHECK_FALSE(complete_window_iret(v));
    r.eip = 0x200f;
    REQUIRE(complete_window_iret(v));
    CHECK(r.eip == 0x401000);
    CHECK(r.cs == Kernel::kUserCs);
    CHECK(r.esp == 0xbff000);
    CHECK(r.ss == Kernel::kUserDs);
    CHECK(vif(v));
    // Now in ring 3: not in the window whatever eip says.
    r.eip = 0x2004;
    CHECK_FALSE(complete_window_iret(v));

    SUBCASE("a frame iret would refuse: nothing done (the guest's own iret faults)") {
        Machine::ring1(v);
        r.eip = 0x2004;
        r.esp = 0x8000;
        m.poke(0x8010, Kernel::kKernelDs); // a ring-1 ss for ring 3
        const GuestFrame before = r;
        CHECK_FALSE(complete_window_iret(v));
        CHECK(r.eip == before.eip);
        CHECK(r.esp == before.esp);
        CHECK(r.cs == before.cs);
    }
}
