// Direct sysenter: the target the switcher's trampoline irets to, taken from the guest's
// SYSENTER MSRs as a CPU would (ring 1 for ring 0), and refused whenever that iret could fault
// in ring 0 or land anywhere but the guest's ring 1.
#include "isa/ia32/cpu.hpp"
#include "isa/ia32/descriptor.hpp"
#include "isa/ia32/sysenter.hpp"

#include "tests/unit/ia32/machine.hpp"

#include <doctest/doctest.h>

using namespace tessera;
using namespace tessera::arch;
using tessera::arch::test::Kernel;
using tessera::arch::test::Machine;

namespace {

constexpr u32 kEntry = 0xc1001000, kEntryStack = 0xff7fe000;

SysenterTarget linux_target(Vcpu& v) {
    v.arch.sysenter_cs = Kernel::kKernelCs; // enable_sep_cpu: __KERNEL_CS
    v.arch.sysenter_esp = kEntryStack;
    v.arch.sysenter_eip = kEntry;
    return sysenter_for(v);
}

} // namespace

TEST_CASE("sysenter: Linux's MSRs give its entry, stack and segments in ring 1") {
    Machine m;
    Kernel k(m);
    const SysenterTarget t = linux_target(k.v);
    CHECK(t.eip == kEntry);
    CHECK(t.cs == (Kernel::kKernelCs | 1));
    CHECK(t.esp == kEntryStack);
    CHECK(t.ss == (Kernel::kKernelDs | 1));
}

TEST_CASE("sysenter: refused unless cs and cs + 8 are ring-1 code and a ring-1 stack") {
    Machine m;
    Kernel k(m);
    Vcpu& v = k.v;
    REQUIRE(linux_target(v).cs != 0);

    SUBCASE("SYSENTER_CS 0 (the CPU's #GP(0)), with or without an RPL") {
        v.arch.sysenter_cs = 0;
        CHECK(sysenter_for(v).cs == 0);
        v.arch.sysenter_cs = 3;
        CHECK(sysenter_for(v).cs == 0);
    }
    SUBCASE("an LDT selector") {
        v.arch.sysenter_cs = Kernel::kKernelCs | 4;
        CHECK(sysenter_for(v).cs == 0);
    }
    SUBCASE("the hypervisor's code and data (DPL 0)") {
        v.arch.sysenter_cs = X86_HV_CODE;
        CHECK(sysenter_for(v).cs == 0);
    }
    SUBCASE("ring-3 code (the user's segments)") {
        v.arch.sysenter_cs = Kernel::kUserCs & ~3u;
        CHECK(sysenter_for(v).cs == 0);
    }
    SUBCASE("a data segment as cs") {
        v.arch.sysenter_cs = Kernel::kKernelDs;
        CHECK(sysenter_for(v).cs == 0);
    }
    SUBCASE("cs + 8 not a writable ring-1 data segment") {
        v.arch.gdt[(Kernel::kKernelDs >> 3)] = desc::install(0x00cf90000000ffffull); // read-only
        CHECK(sysenter_for(v).cs == 0);
        v.arch.gdt[(Kernel::kKernelDs >> 3)] = desc::install(0x00cf9a000000ffffull); // code
        CHECK(sysenter_for(v).cs == 0);
        v.arch.gdt[(Kernel::kKernelDs >> 3)] = 0; // nothing
        CHECK(sysenter_for(v).cs == 0);
    }
    SUBCASE("conforming, 16-bit or absent code") {
        v.arch.gdt[(Kernel::kKernelCs >> 3)] = desc::install(0x00cf9e000000ffffull);
        CHECK(sysenter_for(v).cs == 0);
        v.arch.gdt[(Kernel::kKernelCs >> 3)] = desc::install(0x008f9a000000ffffull);
        CHECK(sysenter_for(v).cs == 0);
        v.arch.gdt[(Kernel::kKernelCs >> 3)] = desc::install(0x00cf1a000000ffffull);
        CHECK(sysenter_for(v).cs == 0);
    }
    SUBCASE("an entry beyond the code segment's limit") {
        v.arch.gdt[(Kernel::kKernelCs >> 3)] = desc::install(0x00409a000000ffffull); // 64 KiB
        CHECK(sysenter_for(v).cs == 0);
        v.arch.sysenter_eip = 0xfff0;
        CHECK(sysenter_for(v).cs == (Kernel::kKernelCs | 1));
    }
}

TEST_CASE("sysenter: refused when cs or cs + 8 is a TLS entry (the switcher's rows change them)") {
    const SysenterSegments seg{desc::install(0x00cf9a000000ffffull),
                               desc::install(0x00cf92000000ffffull), 0x00cffa000000ffffull,
                               0x00cff2000000ffffull};
    CHECK(sysenter_target(0x60, kEntry, kEntryStack, seg).cs == 0x61);
    CHECK(sysenter_target(0x28, kEntry, kEntryStack, seg).cs == 0); // entries 5, 6
    CHECK(sysenter_target(0x30, kEntry, kEntryStack, seg).cs == 0); // 6, 7
    CHECK(sysenter_target(0x40, kEntry, kEntryStack, seg).cs == 0); // 8, 9
    CHECK(sysenter_target(0x48, kEntry, kEntryStack, seg).cs == 0x49);
    CHECK(sysenter_target(0x20, kEntry, kEntryStack, seg).cs == 0x21); // 4, 5 (sysexit's 6, 7)
}

TEST_CASE("sysenter: the user segments sysexit derives must be ring-3 code and data") {
    Machine m;
    Kernel k(m);
    Vcpu& v = k.v;
    REQUIRE(linux_target(v).cs != 0);
    const SysenterTarget t = sysenter_for(v);
    CHECK(sysexit_cs(t) == Kernel::kUserCs);
    CHECK(sysexit_ss(t) == Kernel::kUserDs);
    SUBCASE("ring-1 code at + 16") {
        v.arch.gdt[Kernel::kUserCs >> 3] = desc::install(0x00cf9a000000ffffull);
        CHECK(sysenter_for(v).cs == 0);
    }
    SUBCASE("read-only data at + 24") {
        v.arch.gdt[Kernel::kUserDs >> 3] = desc::install(0x00cff0000000ffffull);
        CHECK(sysenter_for(v).cs == 0);
    }
}

TEST_CASE("sysexit window: the hypervisor does the return to ring 3 there, and only there") {
    Machine m;
    Kernel k(m);
    Vcpu& v = k.v;
    REQUIRE(linux_target(v).cs != 0);
    GuestFrame& r = v.arch.regs;
    Machine::ring1(v);
    v.arch.sysexit_start = 0x2000;
    v.arch.sysexit_end = 0x2010; // the sysenter at 0x200e, `popl %ecx` at 0x200d
    r.esp = 0x8000;
    m.poke(0x8000, 0xbff000); // the process's esp, until popl %ecx
    r.edx = 0x401000;         // the landing pad
    r.ecx = 0x1234;           // not yet the esp
    r.eflags = 0x8d7;         // the process's flags, restored before the window
    set_vif(v, false);

    SUBCASE("outside the window") {
        r.eip = 0x1fff;
        CHECK_FALSE(complete_window_sysexit(v));
        r.eip = 0x2010;
        CHECK_FALSE(complete_window_sysexit(v));
        CHECK(r.cs == X86_GUEST_KCODE); // untouched
    }
    SUBCASE("before the popl: the esp from the stack") {
        r.eip = 0x200d;
        REQUIRE(complete_window_sysexit(v));
        CHECK(r.eip == 0x401000);
        CHECK(r.esp == 0xbff000);
        CHECK(r.cs == Kernel::kUserCs);
        CHECK(r.ss == Kernel::kUserDs);
        CHECK(r.eflags == 0x8d7);
        CHECK(vif(v));
        // Now in ring 3: not in the window whatever eip says.
        r.eip = 0x2004;
        CHECK_FALSE(complete_window_sysexit(v));
    }
    SUBCASE("at the sysenter: the esp already in ecx") {
        r.eip = 0x200e;
        r.ecx = 0xbfe000;
        REQUIRE(complete_window_sysexit(v));
        CHECK(r.esp == 0xbfe000);
        CHECK(r.eip == 0x401000);
    }
    SUBCASE("a stack it cannot read, or no sysenter target: nothing done") {
        r.eip = 0x2004;
        r.esp = tessera::arch::test::kLparSize + 0x100;
        CHECK_FALSE(complete_window_sysexit(v));
        CHECK(r.eip == 0x2004);
        r.esp = 0x8000;
        v.arch.sysenter_cs = 0;
        CHECK_FALSE(complete_window_sysexit(v));
        CHECK(r.eip == 0x2004);
        CHECK_FALSE(vif(v));
    }
}

TEST_CASE("sysenter: validated again when the MSRs or the descriptor tables change") {
    Machine m;
    Kernel k(m);
    Vcpu& v = k.v;
    descriptor_tables_changed(v); // as after the guest's lgdt
    REQUIRE(linux_target(v).cs == (Kernel::kKernelCs | 1));
    CHECK(sysenter_for(v).eip == kEntry);
    v.arch.sysenter_eip = kEntry + 0x40;
    CHECK(sysenter_for(v).eip == kEntry + 0x40);
    v.arch.sysenter_esp = kEntryStack - 0x1000;
    CHECK(sysenter_for(v).esp == kEntryStack - 0x1000);
    v.arch.sysenter_cs = 0;
    CHECK(sysenter_for(v).cs == 0);
    v.arch.sysenter_cs = Kernel::kKernelCs;
    CHECK(sysenter_for(v).cs == (Kernel::kKernelCs | 1));
    // New tables whose cs + 8 is no stack: refused from then on.
    v.arch.gdt[(Kernel::kKernelDs >> 3)] = desc::install(0x00cf90000000ffffull); // read-only
    descriptor_tables_changed(v);
    CHECK(sysenter_for(v).cs == 0);
}
