// Trap reflection through the guest's IDT (frames on its ring-1 stack, gates, the escalation to
// double and triple faults), the iret gate, virtual interrupt delivery and the selector checks,
// on a vcpu whose memory is fake.
#include "isa/ia32/cpu.hpp"

#include "tests/unit/ia32/machine.hpp"

#include <arch/hcalls.hpp>
#include <doctest/doctest.h>

#include <string>
#include <vector>

using namespace tessera;
using namespace tessera::arch;
using tessera::arch::test::GuestPaging;
using tessera::arch::test::Kernel;
using tessera::arch::test::Machine;
using tessera::arch::test::Tsc;

namespace {

using Words = std::vector<u32>;
constexpr u32 kCf = 1, kHandler = 0xc0101234;

std::string reason(const Machine& m) {
    return m.lpar->stop_reason;
}

} // namespace

TEST_CASE("reflect: an interrupt gate pushes eflags/cs/eip/error and clears the virtual IF") {
    Machine m;
    Kernel k(m);
    Vcpu& v = k.v;
    GuestFrame& r = v.arch.regs;
    k.gate(14, kHandler);
    r.eip = 0x1000;
    r.eflags = 0x202 | kCf | kEflagsTf | kEflagsRf;
    set_vif(v, true);
    const GuestFrame before = r;

    REQUIRE(reflect(v, 14, Event::Exception, true, 0x6));
    CHECK(r.esp == 0x9000 - 16);
    // A fault's frame keeps RF as the CPU pushed it (an iret to it skips its breakpoint).
    CHECK(k.stack(0x9000 - 16, 4) ==
          Words{0x6, 0x1000, X86_GUEST_KCODE, 0x202 | kCf | kEflagsTf | kEflagsRf});
    CHECK(r.ss == before.ss);
    CHECK(r.cs == (Kernel::kKernelCs | 1));
    CHECK(r.eip == kHandler);
    CHECK(r.eflags == (0x202 | kCf)); // TF and RF cleared for the handler
    CHECK_FALSE(vif(v));
    CHECK(r.eax == before.eax);
    CHECK(r.ds == before.ds);
    CHECK(m.lpar->is_live());

    // With the virtual IF off, the pushed eflags say so.
    r.eip = 0x2000;
    REQUIRE(reflect(v, 14, Event::Exception, true, 0x2));
    CHECK(r.esp == 0x9000 - 32);
    CHECK(k.stack(0x9000 - 32, 4) == Words{0x2, 0x2000, Kernel::kKernelCs | 1, 0x002 | kCf});
}

TEST_CASE("reflect: a trap gate keeps the virtual IF; no error code, no slot for it") {
    Machine m;
    Kernel k(m);
    Vcpu& v = k.v;
    GuestFrame& r = v.arch.regs;
    k.gate(3, 0x00401000, 0xf, 3);
    r.eip = 0x1235; // int3 is past
    set_vif(v, true);
    REQUIRE(reflect(v, 3, Event::Software, false, 0));
    CHECK(r.esp == 0x9000 - 12);
    CHECK(k.stack(0x9000 - 12, 3) == Words{0x1235, X86_GUEST_KCODE, 0x202});
    CHECK(k.stack(0x9000 - 16, 1) == Words{0}); // nothing below
    CHECK(r.eip == 0x00401000);
    CHECK(vif(v));
}

TEST_CASE("reflect: from ring 3 onto the TSS's esp0/ss0 with ss:esp pushed") {
    Machine m;
    Kernel k(m);
    Vcpu& v = k.v;
    GuestFrame& r = v.arch.regs;
    k.gate(14, kHandler);
    k.gate(0x80, 0xc0200000, 0xf, 3);
    r.cs = X86_GUEST_UCODE;
    r.ss = r.ds = r.es = X86_GUEST_UDATA;
    r.esp = 0x7000;
    r.eip = 0x08048000;
    set_vif(v, true);
    REQUIRE(reflect(v, 14, Event::Exception, true, 0x7));
    const u32 top = Kernel::kEsp0 - 24;
    CHECK(r.esp == top);
    CHECK(r.ss == (Kernel::kKernelDs | 1));
    CHECK(r.cs == (Kernel::kKernelCs | 1));
    CHECK(k.stack(top, 6) ==
          Words{0x7, 0x08048000, X86_GUEST_UCODE, 0x202, 0x7000, X86_GUEST_UDATA});
    CHECK(m.peek(0x7000 - 4) == 0); // the user stack is not touched
    CHECK(r.ds == X86_GUEST_UDATA); // data segments stay for the handler to save

    // int $0x80 through a DPL-3 trap gate.
    r.cs = Kernel::kUserCs;
    r.ss = Kernel::kUserDs;
    r.esp = 0x7000;
    r.eip = 0x08048010;
    REQUIRE(reflect(v, 0x80, Event::Software, false, 0));
    CHECK(r.esp == Kernel::kEsp0 - 20);
    CHECK(k.stack(Kernel::kEsp0 - 20, 5) ==
          Words{0x08048010, Kernel::kUserCs, 0x202 - 0x200, 0x7000, Kernel::kUserDs});
    CHECK(r.eip == 0xc0200000);
}

TEST_CASE("reflect: faults while delivering become #GP/#NP/#TS, then #DF") {
    Machine m;
    Kernel k(m);
    Vcpu& v = k.v;
    GuestFrame& r = v.arch.regs;
    k.gate(13, 0x1300);
    k.gate(11, 0x1100);
    k.gate(8, 0x0800);

    SUBCASE("int from ring 3 through a DPL-0 gate: #GP(vector * 8 + 2)") {
        k.gate(0x80, 0x8000);
        r.cs = X86_GUEST_UCODE;
        r.ss = X86_GUEST_UDATA;
        r.esp = 0x7000;
        r.eip = 0x08048002;
        REQUIRE(reflect(v, 0x80, Event::Software, false, 0));
        CHECK(r.eip == 0x1300);
        CHECK(r.esp == Kernel::kEsp0 - 24);
        CHECK(k.stack(r.esp, 6) ==
              Words{0x80 * 8 + 2, 0x08048002, X86_GUEST_UCODE, 0x002, 0x7000, X86_GUEST_UDATA});
    }
    SUBCASE("ring 3's int $8 through the #DF task gate (Linux's): #GP(0x42), not a triple fault") {
        k.gate(8, 0, 0x5); // a task gate, DPL 0
        r.cs = X86_GUEST_UCODE;
        r.ss = X86_GUEST_UDATA;
        r.esp = 0x7000;
        r.eip = 0x08048002;
        REQUIRE(reflect(v, 8, Event::Software, false, 0));
        CHECK(m.lpar->is_live());
        CHECK(r.eip == 0x1300);
        CHECK(k.stack(r.esp, 6) ==
              Words{8 * 8 + 2, 0x08048002, X86_GUEST_UCODE, 0x002, 0x7000, X86_GUEST_UDATA});
    }
    SUBCASE("ring 3's int n through a not-present DPL-0 gate: the DPL first, #GP") {
        k.gate(0x40, 0x4000, 0xe, 0, Kernel::kKernelCs, false);
        r.cs = X86_GUEST_UCODE;
        r.ss = X86_GUEST_UDATA;
        r.esp = 0x7000;
        REQUIRE(reflect(v, 0x40, Event::Software, false, 0));
        CHECK(r.eip == 0x1300);
        CHECK(k.stack(r.esp, 1) == Words{0x40 * 8 + 2});
    }
    SUBCASE("a not-present task gate: #NP") {
        k.gate(0x40, 0, 0x5, 0, Kernel::kKernelCs, false);
        REQUIRE(reflect(v, 0x40, Event::External, false, 0));
        CHECK(r.eip == 0x1100);
    }
    SUBCASE("gate not present: #NP with the IDT and EXT bits") {
        k.gate(0x21, 0x2100, 0xe, 0, Kernel::kKernelCs, false);
        REQUIRE(reflect(v, 0x21, Event::External, false, 0));
        CHECK(r.eip == 0x1100);
        CHECK(k.stack(r.esp, 2) == Words{0x21 * 8 + 2 + 1, 0});
    }
    SUBCASE("beyond the IDT limit: #GP") {
        v.arch.tables.idt_limit = 32 * 8 - 1;
        REQUIRE(reflect(v, 0x20, Event::Exception, false, 0));
        CHECK(r.eip == 0x1300);
        CHECK(k.stack(r.esp, 1) == Words{0x20 * 8 + 2});
        // A gate only partly inside the limit is beyond it too.
        k.gate(0x20, 0x2000);
        v.arch.tables.idt_limit = 0x20 * 8 + 3;
        REQUIRE(reflect(v, 0x20, Event::Exception, false, 0));
        CHECK(r.eip == 0x1300);
        CHECK(k.stack(r.esp, 1) == Words{0x20 * 8 + 2});
        // The last gate inside the limit is fine.
        v.arch.tables.idt_limit = 32 * 8 + 7;
        REQUIRE(reflect(v, 0x20, Event::External, false, 0));
        CHECK(r.eip == 0x2000);
    }
    SUBCASE("a task gate, a 16-bit gate, a call gate: #GP") {
        for (u8 type : {0x5, 0x6, 0x7, 0xc}) {
            r.eip = 0x4444;
            k.gate(0x30, 0x3000, type);
            REQUIRE(reflect(v, 0x30, Event::Exception, false, 0));
            CHECK(r.eip == 0x1300);
            CHECK(k.stack(r.esp, 2) == Words{0x30 * 8 + 2, 0x4444});
        }
    }
    SUBCASE("a gate whose selector is not ring-1 code: #GP(selector)") {
        k.gate(0x30, 0x3000, 0xe, 0, Kernel::kKernelDs);
        REQUIRE(reflect(v, 0x30, Event::External, false, 0));
        CHECK(r.eip == 0x1300);
        CHECK(k.stack(r.esp, 1) == Words{Kernel::kKernelDs | 1});
        k.gate(0x30, 0x3000, 0xe, 0, Kernel::kUserCs); // ring-3 code
        REQUIRE(reflect(v, 0x30, Event::Exception, false, 0));
        CHECK(k.stack(r.esp, 1) == Words{Kernel::kUserCs & ~3u});
        // The real GDT's flat guest code selector is ring-1 code too.
        k.gate(0x30, 0x3000, 0xe, 0, X86_GUEST_KCODE);
        REQUIRE(reflect(v, 0x30, Event::Exception, false, 0));
        CHECK(r.eip == 0x3000);
        CHECK(r.cs == X86_GUEST_KCODE);
    }
    SUBCASE("an empty IDT entry (type 0): #GP, as on the CPU") {
        REQUIRE(reflect(v, 0x22, Event::External, false, 0));
        CHECK(r.eip == 0x1300);
        CHECK(k.stack(r.esp, 1) == Words{0x22 * 8 + 2 + 1});
    }
    SUBCASE("a segment descriptor in the IDT (S = 1): #GP") {
        m.poke64(Kernel::kIdt + 0x22 * 8, 0x00cf9e000000ffffull);
        REQUIRE(reflect(v, 0x22, Event::External, false, 0));
        CHECK(r.eip == 0x1300);
    }
    SUBCASE("delivering the #NP fails too: the double fault") {
        k.gate(14, 0x1400, 0xe, 0, Kernel::kKernelCs, false);
        k.gate(11, 0x1100, 0xe, 0, Kernel::kKernelCs, false);
        r.eip = 0x5555;
        REQUIRE(reflect(v, 14, Event::Exception, true, 2));
        CHECK(r.eip == 0x0800);
        CHECK(k.stack(r.esp, 3) == Words{0, 0x5555, X86_GUEST_KCODE});
        CHECK(m.lpar->is_live());
    }
}

TEST_CASE("reflect: the triple fault crashes the LPAR with the reason") {
    Machine m;
    Vcpu& v = m.vcpu();
    SUBCASE("no IDT") {
        v.arch.regs.eip = 0x1234;
        CHECK_FALSE(reflect(v, 6, Event::Exception, false, 0));
        CHECK(m.lpar->state == tessera::LparState::Crashed);
        CHECK(reason(m).find("triple fault") != std::string::npos);
        CHECK(reason(m).find("vector 6") != std::string::npos);
        CHECK(reason(m).find("no IDT") != std::string::npos);
        CHECK(reason(m).find("0x1234") != std::string::npos);
        CHECK(v.state == tessera::VcpuState::Stopped);
    }
    SUBCASE("the double fault itself cannot be delivered") {
        Kernel k(m);
        CHECK_FALSE(reflect(v, 8, Event::Exception, true, 0));
        CHECK(m.lpar->state == tessera::LparState::Crashed);
        CHECK(reason(m).find("vector 8: IDT gate is not an interrupt, trap or task gate") !=
              std::string::npos);
    }
    SUBCASE("the #DF is a task gate (Linux's): the LPAR stops and says why") {
        Kernel k(m);
        k.gate(8, 0, 0x5);
        k.gate(0x30, 0x3000, 0xe, 0, Kernel::kKernelCs, false);
        k.gate(11, 0x1100, 0xe, 0, Kernel::kKernelCs, false); // #NP cannot be delivered either
        v.arch.regs.eip = 0x4321;
        CHECK_FALSE(reflect(v, 0x30, Event::External, false, 0));
        CHECK(m.lpar->state == tessera::LparState::Crashed);
        CHECK(reason(m).find("vector 48: IDT gate not present") != std::string::npos);
        CHECK(reason(m).find("0x4321") != std::string::npos);
    }
    SUBCASE("ring 3 without a TSS") {
        Kernel k(m);
        for (u32 vec : {8u, 10u, 14u}) k.gate(vec, 0x100 * vec);
        v.arch.tables.tr = 0;
        v.arch.regs.cs = X86_GUEST_UCODE;
        CHECK_FALSE(reflect(v, 14, Event::Exception, true, 0));
        CHECK(reason(m).find("no TSS") != std::string::npos);
    }
    SUBCASE("the ring-1 stack is not mapped: cr2 says where") {
        Kernel k(m);
        for (u32 vec : {8u, 13u, 14u}) k.gate(vec, 0x100 * vec);
        GuestPaging g(m);
        g.enable(v);
        g.map(Kernel::kIdt, Kernel::kIdt); // the IDT is there, the stack (0x8000) is not
        v.arch.regs.esp = 0x9000;
        CHECK_FALSE(reflect(v, 13, Event::Exception, true, 0));
        CHECK(reason(m).find("ring-1 stack not writable") != std::string::npos);
        CHECK(v.arch.ctl.cr2 == 0x8ff0);
    }
}

TEST_CASE("reflect: page faults while delivering are reflected as #PF with cr2") {
    Machine m;
    Kernel k(m);
    Vcpu& v = k.v;
    GuestFrame& r = v.arch.regs;
    GuestPaging g(m);
    g.enable(v);
    g.map(Kernel::kIdt, Kernel::kIdt);
    g.map(0x8000, 0x8000);
    g.map(Kernel::kTss, Kernel::kTss);
    k.gate(13, 0x1300);
    k.gate(14, 0x1400);
    SUBCASE("a read-only kernel stack") {
        // From ring 3 onto esp0 = 0xa000, whose page is read-only: #GP's frame cannot be
        // pushed (#PF), nor #PF's, nor #DF's.
        g.map(0x9000, 0x9000, kPteP);
        k.gate(8, 0x0800);
        r.cs = X86_GUEST_UCODE;
        r.esp = 0x7000;
        CHECK_FALSE(reflect(v, 13, Event::Exception, true, 0));
        CHECK(v.arch.ctl.cr2 == 0x9fe8);
        CHECK(reason(m).find("ring-1 stack not writable") != std::string::npos);
    }
    SUBCASE("the TSS is not mapped") {
        g.unmap(Kernel::kTss);
        r.cs = X86_GUEST_UCODE;
        CHECK_FALSE(reflect(v, 13, Event::Exception, true, 0));
        CHECK(v.arch.ctl.cr2 == Kernel::kTss + 4);
        CHECK(reason(m).find("TSS not mapped") != std::string::npos);
    }
    SUBCASE("the gate's IDT page is not mapped, #PF's is") {
        // The IDT straddles a page: vectors from 0x80 on are on the unmapped page 0x4000.
        v.arch.tables.idt_base = 0x3c00;
        m.poke64(0x3c00 + 14 * 8, Kernel::gate_value(0x1400, Kernel::kKernelCs, 0xe));
        m.poke64(0x3c00 + 0x90 * 8, Kernel::gate_value(0x9000, Kernel::kKernelCs, 0xe));
        r.eip = 0x4242;
        REQUIRE(reflect(v, 0x90, Event::External, false, 0));
        CHECK(v.arch.ctl.cr2 == 0x3c00 + 0x90 * 8);
        CHECK(r.eip == 0x1400);
        CHECK(k.stack(r.esp, 2) == Words{0, 0x4242}); // not present, supervisor read
    }
    SUBCASE("reflect_page_fault sets cr2") {
        REQUIRE(reflect_page_fault(v, 0xdeadb000, kPfW | kPfU));
        CHECK(v.arch.ctl.cr2 == 0xdeadb000);
        CHECK(k.stack(r.esp, 1) == Words{kPfW | kPfU});
    }
}

TEST_CASE("handle_iret: pops eip/cs/eflags (and esp/ss for ring 3); IF -> the virtual IF") {
    Machine m;
    Kernel k(m);
    Vcpu& v = k.v;
    GuestFrame& r = v.arch.regs;
    r.esp = 0x8ff4;
    m.poke(0x8ff4, 0x1234);
    m.poke(0x8ff8, Kernel::kKernelCs | 1);
    m.poke(0x8ffc, 0x246);
    REQUIRE(handle_iret(v));
    CHECK(r.eip == 0x1234);
    CHECK(r.cs == (Kernel::kKernelCs | 1));
    CHECK(r.eflags == 0x246);
    CHECK(r.esp == 0x9000);
    CHECK(vif(v));

    r.esp = 0x8fec;
    m.poke(0x8fec, 0x08048000);
    m.poke(0x8ff0, Kernel::kUserCs);
    m.poke(0x8ff4, 0x046);
    m.poke(0x8ff8, 0xbffff000);
    m.poke(0x8ffc, Kernel::kUserDs);
    REQUIRE(handle_iret(v));
    CHECK(r.eip == 0x08048000);
    CHECK(r.cs == Kernel::kUserCs);
    CHECK(r.esp == 0xbffff000);
    CHECK(r.ss == Kernel::kUserDs);
    CHECK_FALSE(vif(v));

    // A frame that is not mapped: #PF to the guest.
    GuestPaging g(m);
    g.enable(v);
    g.map(Kernel::kIdt, Kernel::kIdt);
    g.map(0x8000, 0x8000);
    k.gate(14, 0x1400);
    r.cs = Kernel::kKernelCs | 1;
    r.ss = Kernel::kKernelDs | 1;
    r.esp = 0x8ff8; // eip and cs fit, eflags is on the unmapped page
    r.eip = 0x7777; // past the int $0x83: the fault is at the instruction, as iret's
    REQUIRE(handle_iret(v));
    CHECK(v.arch.ctl.cr2 == 0x9000);
    CHECK(r.eip == 0x1400);
    CHECK(k.stack(r.esp, 2) == Words{0, 0x7775});
}

TEST_CASE("handle_iret: a return cs or ss iret would refuse faults at the int $0x83") {
    Machine m;
    Kernel k(m);
    Vcpu& v = k.v;
    GuestFrame& r = v.arch.regs;
    for (u32 vector : {11u, 12u, 13u}) k.gate(vector, 0x1000 + vector * 0x100);
    v.arch.gdt[3] = desc::install(0x00cf1a000000ffffull); // code, not present
    v.arch.gdt[4] = desc::install(0x00cfde000000ffffull); // conforming code, DPL 2
    v.arch.gdt[5] = desc::install(0x00cf72000000ffffull); // data, DPL 3, not present
    v.arch.gdt[6] = desc::install(0x00cff0000000ffffull); // read-only data, DPL 3
    v.arch.gdt[7] = desc::install(0x00cfba000000ffffull); // code, DPL 1
    struct Case {
        u32 cs, ss;
        u32 vector, error;
    };
    const Case cases[] = {
        {0, 0, 13, 0},                                     // null cs
        {3, Kernel::kUserDs, 13, 0},                       // null cs, RPL 3
        {Kernel::kKernelDs | 1, 0, 13, Kernel::kKernelDs}, // data as cs
        {0x1234 | 4 | 1, 0, 13, 0x1234 | 4},               // an LDT selector
        {0x800 | 1, 0, 13, 0x800},                         // beyond every table
        {X86_HV_CODE, 0, 13, X86_HV_CODE},                 // the hypervisor's DPL-0 code
        {Kernel::kKernelCs | 2, 0, 13, Kernel::kKernelCs}, // ring 2
        {0x18 | 1, 0, 11, 0x18},                           // not present: #NP
        {0x20 | 1, 0, 13, 0x20},                           // conforming DPL 2 > RPL 1
        {0x38 | 3, Kernel::kUserDs, 13, 0x38},             // DPL-1 code with RPL 3
        {Kernel::kUserCs, Kernel::kKernelDs | 1, 13, Kernel::kKernelDs}, // ss RPL 1
        {Kernel::kUserCs, Kernel::kKernelDs | 3, 13, Kernel::kKernelDs}, // ss DPL 1
        {Kernel::kUserCs, 0, 13, 0},                                     // null ss
        {Kernel::kUserCs, 3, 13, 0},                                     // null ss, RPL 3
        {Kernel::kUserCs, Kernel::kUserCs, 13, Kernel::kUserCs & ~3u},   // code as ss
        {Kernel::kUserCs, 0x30 | 3, 13, 0x30},                           // read-only ss
        {Kernel::kUserCs, 0x28 | 3, 12, 0x28},                           // not present: #SS
        {Kernel::kUserCs, 0x0f, 13, 0x0c},                               // an LDT ss
    };
    for (const Case& c : cases) {
        CAPTURE(c.cs);
        CAPTURE(c.ss);
        Machine::ring1(v);
        r.cs = Kernel::kKernelCs | 1;
        r.ss = Kernel::kKernelDs | 1;
        r.esp = 0x8fec;
        r.eip = 0x4002; // past the int $0x83 at 0x4000
        m.poke(0x8fec, 0x5000);
        m.poke(0x8ff0, c.cs);
        m.poke(0x8ff4, 0x202);
        m.poke(0x8ff8, 0xbfff0000);
        m.poke(0x8ffc, c.ss);
        set_vif(v, false);
        REQUIRE(handle_iret(v));
        CHECK(r.eip == 0x1000 + c.vector * 0x100);
        CHECK(r.cs == (Kernel::kKernelCs | 1));
        CHECK(r.esp == 0x8fec - 16); // the fault's frame below the untouched iret frame
        CHECK(k.stack(r.esp, 4) == Words{c.error, 0x4000, Kernel::kKernelCs | 1, 0x002});
        CHECK_FALSE(vif(v)); // the frame's IF was not taken
    }
    // What iret accepts: RPL 0 for the guest's ring 0 (ring 1), conforming code of a lower DPL.
    for (u32 cs : {Kernel::kKernelCs, Kernel::kKernelCs | 1, u32{X86_GUEST_KCODE}, 0x20u | 3}) {
        CAPTURE(cs);
        Machine::ring1(v);
        r.esp = 0x8fec;
        m.poke(0x8fec, 0x5000);
        m.poke(0x8ff0, cs);
        m.poke(0x8ff4, 0x202);
        m.poke(0x8ff8, 0xbfff0000);
        m.poke(0x8ffc, Kernel::kUserDs);
        REQUIRE(handle_iret(v));
        CHECK(r.eip == 0x5000);
        CHECK(r.cs == cs);
    }
}

TEST_CASE("software_int_at_eip: the length of int n / int3 / into at cs:eip, prefixes and all") {
    Machine m;
    Kernel k(m);
    Vcpu& v = k.v;
    GuestFrame& r = v.arch.regs;
    m.poke_bytes(0x6000, {0x2e, 0x2e, 0xcc, 0x66, 0xcd, 0x80, 0xcd, 0x80, 0x90});
    r.eip = 0x6000;
    CHECK(software_int_at_eip(v, 3) == 3);
    CHECK(software_int_at_eip(v, 0x80) == 0);
    r.eip = 0x6003;
    CHECK(software_int_at_eip(v, 0x80) == 3);
    r.eip = 0x6006;
    CHECK(software_int_at_eip(v, 0x80) == 2);
    r.eip = 0x6008;
    CHECK(software_int_at_eip(v, 0x80) == 0);
    // An instruction at the end of the mapped memory: what is there is enough.
    GuestPaging g(m);
    g.enable(v);
    g.map(0x7000, 0x7000);
    m.poke_bytes(0x7ffe, {0x66, 0xcc});
    r.eip = 0x7ffe;
    CHECK(software_int_at_eip(v, 3) == 2);
    m.poke_bytes(0x7fff, {0xcd});
    r.eip = 0x7fff;
    CHECK(software_int_at_eip(v, 0x80) == 0); // its immediate is on the unmapped page
}

TEST_CASE("reflect: NT and DF stay in the frame's eflags; the handler runs with NT clear") {
    Machine m;
    Kernel k(m);
    Vcpu& v = k.v;
    GuestFrame& r = v.arch.regs;
    k.gate(0x80, 0xc0200000, 0xf, 3);
    r.cs = Kernel::kUserCs;
    r.ss = Kernel::kUserDs;
    r.esp = 0x7000;
    r.eip = 0x08048010;
    r.eflags = 0x202 | kEflagsNt | kEflagsDf;
    REQUIRE(reflect(v, 0x80, Event::Software, false, 0));
    CHECK(k.stack(r.esp, 3) == Words{0x08048010, Kernel::kUserCs, 0x002 | kEflagsNt | kEflagsDf});
    CHECK(r.eflags == (0x202 | kEflagsDf));
}

TEST_CASE("deliver_virq: the expired timer as vector 0x20 when the virtual IF allows it") {
    Machine m;
    Kernel k(m);
    Vcpu& v = k.v;
    GuestFrame& r = v.arch.regs;
    k.gate(kVirqTimer, 0x2020);
    r.eip = 0x1000;
    Tsc tsc(1000);
    v.arch.timer_deadline = 2000;

    SUBCASE("without a registered area") {
        set_vif(v, true);
        REQUIRE(deliver_virq(v)); // not expired yet
        CHECK(r.eip == 0x1000);
        tsc = 2000;
        set_vif(v, false);
        REQUIRE(deliver_virq(v)); // masked
        CHECK(r.eip == 0x1000);
        CHECK(v.arch.timer_deadline == 2000);
        set_vif(v, true);
        REQUIRE(deliver_virq(v));
        CHECK(r.eip == 0x2020);
        CHECK(k.stack(r.esp, 3) == Words{0x1000, X86_GUEST_KCODE, 0x202});
        CHECK(v.arch.timer_deadline == 0); // one-shot
        CHECK_FALSE(vif(v));
    }
    SUBCASE("with the shared flags: pending while masked, cleared once delivered") {
        constexpr u32 kArea = 0x6000;
        v.arch.virq_on = true;
        v.arch.virq_area = kArea;
        tsc = 2500;
        m.poke(kArea, 0);
        REQUIRE(deliver_virq(v));
        CHECK(m.peek(kArea + 4) == 1);
        CHECK(r.eip == 0x1000);
        m.poke(kArea, 1); // the guest's sti
        REQUIRE(deliver_virq(v));
        CHECK(r.eip == 0x2020);
        CHECK(m.peek(kArea) == 0); // interrupt gate: the virtual IF in memory is off
        CHECK(m.peek(kArea + 4) == 0);
        CHECK(k.stack(r.esp, 3) == Words{0x1000, X86_GUEST_KCODE, 0x202});
        // The area outside the LPAR crashes it.
        v.arch.virq_area = test::kLparSize - 4;
        CHECK_FALSE(deliver_virq(v));
        CHECK(m.lpar->state == tessera::LparState::Crashed);
    }
    SUBCASE("the flags registered by H_IA32_SET_VIRQ: the same, read and written in place") {
        constexpr u32 kArea = 0x6000;
        m.poke(kArea, 0);
        set_vif(v, true);
        hcall::Env env{*m.lpar, v};
        hcall::Frame f;
        f.opcode = H_IA32_SET_VIRQ;
        f.args[0] = kArea;
        f.args[3] = kVirqFlagCr2;
        REQUIRE(h_ia32_set_virq(env, f) == hcall::H_SUCCESS);
        CHECK(v.arch.virq_host != nullptr);
        CHECK(m.peek(kArea) == 1); // the virtual IF it had (on) moved into the area
        m.poke(kArea, 0);
        tsc = 2500;
        REQUIRE(deliver_virq(v));
        CHECK(m.peek(kArea + 4) == 1);
        CHECK(r.eip == 0x1000);
        m.poke(kArea, 1); // the guest's sti
        CHECK(vif(v));
        REQUIRE(deliver_virq(v));
        CHECK(r.eip == 0x2020);
        CHECK(m.peek(kArea) == 0);
        CHECK(m.peek(kArea + 4) == 0);
        k.gate(14, 0x2014);
        v.arch.ctl.cr2 = 0xbadc0de;
        r.eip = 0x1000;
        set_vif(v, true);
        REQUIRE(reflect_page_fault(v, 0xc0ffee, 2));
        CHECK(m.peek(kArea + 8) == 0xc0ffee);
        // Back to the flags in the hypervisor: no pointer kept.
        f.args[0] = 0;
        f.args[3] = 0;
        REQUIRE(h_ia32_set_virq(env, f) == hcall::H_SUCCESS);
        CHECK(v.arch.virq_host == nullptr);
    }
}

TEST_CASE("sanitize_selectors: cs/ss of the ring, data selectors the ring may load") {
    Machine m;
    Kernel k(m);
    Vcpu& v = k.v;
    GuestFrame& r = v.arch.regs;
    // Ring 1 with the guest's own selectors (RPL 0 as the guest wrote them).
    r.cs = Kernel::kKernelCs;
    r.ss = Kernel::kKernelDs;
    r.ds = Kernel::kUserDs;
    r.es = 0x0003; // null with an RPL
    r.fs = X86_HV_DATA;
    r.gs = 0xdead0000 | Kernel::kKernelDs;
    sanitize_selectors(v);
    CHECK(r.cs == (Kernel::kKernelCs | 1));
    CHECK(r.ss == (Kernel::kKernelDs | 1));
    CHECK(r.ds == Kernel::kUserDs);
    CHECK(r.es == 3);
    CHECK(r.fs == 0); // DPL 0: not for ring 1
    CHECK(r.gs == Kernel::kKernelDs);
    // Swapped code and stack: the flat ring-1 ones instead.
    r.cs = Kernel::kKernelDs | 1;
    r.ss = Kernel::kKernelCs | 1;
    r.ds = Kernel::kKernelCs; // readable code may be loaded into ds
    r.es = 0x1234 | 4;        // an LDT selector
    r.fs = X86_HV_CODE;
    r.gs = 0x200; // beyond every table
    sanitize_selectors(v);
    CHECK(r.cs == X86_GUEST_KCODE);
    CHECK(r.ss == X86_GUEST_KDATA);
    CHECK(r.ds == Kernel::kKernelCs);
    CHECK(r.es == 0);
    CHECK(r.fs == 0);
    CHECK(r.gs == 0);
    // Ring 3: DPL-1 data is not for it; a ring-1 ss with a ring-3 cs is replaced.
    r.cs = Kernel::kUserCs;
    r.ss = Kernel::kKernelDs | 1;
    r.ds = Kernel::kKernelDs | 3;
    r.es = Kernel::kUserDs;
    r.fs = X86_GUEST_UDATA;
    r.gs = X86_GUEST_KDATA;
    sanitize_selectors(v);
    CHECK(r.cs == Kernel::kUserCs);
    CHECK(r.ss == X86_GUEST_UDATA);
    CHECK(r.ds == 0);
    CHECK(r.es == Kernel::kUserDs);
    CHECK(r.fs == X86_GUEST_UDATA);
    CHECK(r.gs == 0);
    // Execute-only code cannot be loaded into a data segment register; conforming readable
    // code can, whatever its DPL.
    v.arch.gdt[3] = desc::install(0x00cf98000000ffffull); // execute-only, DPL 1 once raised
    v.arch.gdt[4] = desc::install(0x00cf9e000000ffffull); // conforming readable, DPL 1
    descriptor_tables_changed(v);
    r.cs = Kernel::kKernelCs | 1;
    r.ss = Kernel::kKernelDs | 1;
    r.ds = 0x18;
    r.es = 0x20;
    sanitize_selectors(v);
    CHECK(r.ds == 0);
    CHECK(r.es == 0x20);
    r.cs = Kernel::kUserCs;
    r.ss = Kernel::kUserDs;
    r.es = 0x23;
    sanitize_selectors(v);
    CHECK(r.es == 0x23); // conforming: even ring 3 may load it
    // A not-present guest code segment is not ring-1 code.
    v.arch.gdt[2] = desc::install(0x00cf1a000000ffffull);
    descriptor_tables_changed(v);
    r.cs = 0x11;
    r.ss = X86_GUEST_KDATA;
    sanitize_selectors(v);
    CHECK(r.cs == X86_GUEST_KCODE);
}

TEST_CASE("sanitize_selectors: a frame checked before is checked again after lgdt or lldt") {
    Machine m;
    Kernel k(m);
    Vcpu& v = k.v;
    GuestFrame& r = v.arch.regs;
    v.arch.gdt[3] = desc::install(0x00cff2000000ffffull); // data, DPL 3
    descriptor_tables_changed(v);
    r.cs = Kernel::kUserCs;
    r.ss = Kernel::kUserDs;
    r.ds = 0x1b;
    sanitize_selectors(v);
    CHECK(r.ds == 0x1b);
    sanitize_selectors(v); // nothing changed: the same result
    CHECK(r.ds == 0x1b);
    // The guest's next lgdt makes entry 3 a DPL-1 segment: the same frame loses it.
    v.arch.gdt[3] = desc::install(0x00cfb2000000ffffull);
    descriptor_tables_changed(v);
    sanitize_selectors(v);
    CHECK(r.ds == 0);
    // So does an lldt that drops the LDT an LDT selector named.
    v.arch.ldt.entries[0] = desc::install(0x00cff2000000ffffull);
    v.arch.ldt.limit = 7;
    v.arch.ldt.selector = 0x50;
    descriptor_tables_changed(v);
    r.ds = 0x07;
    sanitize_selectors(v);
    CHECK(r.ds == 0x07);
    v.arch.ldt = GuestLdt{};
    descriptor_tables_changed(v);
    sanitize_selectors(v);
    CHECK(r.ds == 0);
}

TEST_CASE("selectors with TI = 1 name the vcpu's validated LDT copy, within its limit") {
    Machine m;
    Kernel k(m);
    Vcpu& v = k.v;
    GuestFrame& r = v.arch.regs;
    GuestLdt& ldt = v.arch.ldt;
    ldt.entries[0] = desc::install(0x00cff2000000ffffull); // data, DPL 3
    ldt.entries[1] = desc::install(0xc0cf92a000000fffull); // data, DPL 0 -> 1, base 0xc0a00000
    ldt.entries[2] = desc::install(0x00cffa000000ffffull); // code, DPL 3
    ldt.entries[3] = desc::install(0x00cff2000000ffffull); // past the limit below
    ldt.limit = 0x17;
    // Without an LDT loaded, nothing.
    CHECK(segment_base(v, 0x0c) == 0);
    r.cs = Kernel::kUserCs;
    r.ss = Kernel::kUserDs;
    r.ds = 0x07;
    sanitize_selectors(v);
    CHECK(r.ds == 0);

    ldt.selector = 0x50;
    descriptor_tables_changed(v);
    CHECK(segment_base(v, 0x0c) == 0xc0a00000u);
    CHECK(segment_base(v, 0x1c) == 0); // index 3: past the limit
    r.ds = 0x07;                       // DPL 3 data: ring 3 keeps it
    r.es = 0x0f;                       // DPL 1: not for ring 3
    r.fs = 0x1f;                       // past the limit
    sanitize_selectors(v);
    CHECK(r.ds == 0x07);
    CHECK(r.es == 0);
    CHECK(r.fs == 0);
    // The iret gate takes an LDT code selector and stack as iret would.
    r.esp = 0x8fec;
    m.poke(0x8fec, 0x5000);
    m.poke(0x8ff0, 0x17);
    m.poke(0x8ff4, 0x202);
    m.poke(0x8ff8, 0xbfff0000);
    m.poke(0x8ffc, 0x07);
    REQUIRE(handle_iret(v));
    CHECK(r.eip == 0x5000);
    CHECK(r.cs == 0x17);
    CHECK(r.ss == 0x07);
    sanitize_selectors(v);
    CHECK(r.cs == 0x17);
    CHECK(r.ss == 0x07);
}

TEST_CASE("segment_base: the base of the guest's or the hypervisor's descriptor") {
    Machine m;
    Kernel k(m);
    Vcpu& v = k.v;
    v.arch.gdt[6] = desc::install(0xc0cf92a000000fffull); // base 0xc0a00000, percpu-like
    CHECK(segment_base(v, 0x30) == 0xc0a00000u);
    CHECK(segment_base(v, 0x33) == 0xc0a00000u); // RPL ignored
    CHECK(segment_base(v, 0x34) == 0);           // LDT
    CHECK(segment_base(v, 0) == 0);
    CHECK(segment_base(v, X86_GUEST_KCODE) == 0);
    v.arch.gdt[7] = desc::install(0xc0cf12a000000fffull); // not present
    CHECK(segment_base(v, 0x38) == 0);
}
