// Direct sysenter: the target the switcher's trampoline irets to, taken from the guest's
// SYSENTER MSRs as a CPU would (ring 1 for ring 0), and refused whenever that iret could fault
// in ring 0 or land anywhere but the guest's ring 1.
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
