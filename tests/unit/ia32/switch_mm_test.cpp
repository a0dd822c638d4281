// H_IA32_SWITCH_MM: a cr3 load naming the address space; the shadow of a space switched back to
// at the same generation is kept, and every switch is counted (mmkept / mmnew).
#include "isa/ia32/exit_reason.hpp"
#include "isa/ia32/shadow.hpp"

#include "tests/unit/ia32/machine.hpp"

#include <arch/hcalls.hpp>
#include <doctest/doctest.h>

#include <string>

using namespace tessera;
using namespace tessera::arch;
using tessera::arch::test::GuestPaging;
using tessera::arch::test::Machine;

namespace {

hcall::Ret call(Machine& m, u64 cr3, u64 ctx, u64 gen, u64 prev_gen) {
    hcall::Env env{*m.lpar, m.vcpu()};
    hcall::Frame f;
    f.opcode = H_IA32_SWITCH_MM;
    f.args[0] = cr3;
    f.args[1] = ctx;
    f.args[2] = gen;
    f.args[3] = prev_gen;
    return h_ia32_switch_mm(env, f);
}

// H_IA32_INVALIDATE or H_IA32_PROTECT from vcpu 0 for [first, end).
hcall::Ret range_call(Machine& m, u64 opcode, hcall::Ret (*handler)(hcall::Env&, hcall::Frame&),
                      u64 first, u64 end) {
    hcall::Env env{*m.lpar, m.vcpu()};
    hcall::Frame f;
    f.opcode = opcode;
    f.args[0] = first;
    f.args[1] = end;
    return handler(env, f);
}

u64 counted(Machine& m, Exit e) {
    return m.lpar->arch.exits.count[static_cast<usize>(e)];
}

} // namespace

TEST_CASE("H_IA32_SWITCH_MM loads cr3, keeps an unchanged space's shadow, counts both kinds") {
    Machine m;
    const usize start = shadow_pages_in_use();
    Vcpu& v = m.vcpu();
    GuestPaging a(m, 0x100000, 0x101000);
    GuestPaging b(m, 0x110000, 0x111000);
    a.map(0x00400000, 0x200000);
    b.map(0x00400000, 0x300000);
    a.enable(v);

    CHECK(call(m, a.pd, 10, 3, 0) == hcall::H_SUCCESS);
    CHECK(v.arch.ctl.cr3 == a.pd);
    u32 ge = 0;
    REQUIRE(shadow_fill(v, 0x00400000, 0, ge) == ShadowFill::Filled);
    CHECK(call(m, b.pd, 11, 1, 3) == hcall::H_SUCCESS);
    CHECK(v.arch.ctl.cr3 == b.pd);
    CHECK(call(m, a.pd, 10, 3, 1) == hcall::H_SUCCESS);
    CHECK(v.arch.ctl.cr3 == a.pd);
    CHECK(counted(m, Exit::MmNew) == 2);
    CHECK(counted(m, Exit::MmKept) == 1);
    CHECK(std::string(kExitNames[static_cast<usize>(Exit::MmKept)]) == "mmkept");

    // A cr3 beyond 32 bits: refused, nothing changed.
    CHECK(call(m, 0x100000000ull | b.pd, 11, 1, 3) == hcall::H_PARAMETER);
    CHECK(v.arch.ctl.cr3 == a.pd);
    CHECK(counted(m, Exit::MmNew) + counted(m, Exit::MmKept) == 3);
    shadow_release(v);
    CHECK(shadow_pages_in_use() == start);
}

TEST_CASE("H_IA32_INVALIDATE drops a range's shadow entries, H_IA32_PROTECT takes their W; bad "
          "ranges refused") {
    Machine m;
    const usize start = shadow_pages_in_use();
    Vcpu& v = m.vcpu();
    GuestPaging a(m, 0x100000, 0x101000);
    a.map(0x00400000, 0x200000);
    a.map(0x00401000, 0x201000);
    a.enable(v);
    u32 ge = 0;
    REQUIRE(shadow_fill(v, 0x00400000, 0, ge) == ShadowFill::Filled);
    REQUIRE(shadow_fill(v, 0x00401000, 0, ge) == ShadowFill::Filled);
    auto invalidate = [&](u64 first, u64 end) {
        return range_call(m, H_IA32_INVALIDATE, h_ia32_invalidate, first, end);
    };
    const u32 pt = shadow_space(v).pt[1];
    REQUIRE(pt != 0);
    const u32* table = shadow_pool_page(pt - 1u);
    CHECK(invalidate(0x00402000, 0x00401000) == hcall::H_PARAMETER);
    CHECK(invalidate(0, 0x1'0000'1000ull) == hcall::H_PARAMETER);
    CHECK(table[0] != 0);
    CHECK(table[1] != 0);
    CHECK(invalidate(0x00401000, 0x00402000) == hcall::H_SUCCESS);
    CHECK(table[0] != 0);
    CHECK(table[1] == 0);
    CHECK(invalidate(0x00400000, 0x00400000) == hcall::H_SUCCESS);
    CHECK(table[0] != 0);
    CHECK(std::string(kExitNames[static_cast<usize>(Exit::HcInvalidate)]) == "hc-inval");

    // H_IA32_PROTECT: the same ranges; the entry stays, without W.
    a.map(0x00400000, 0x200000, kPteP | kPteW | kPteU | kPteD);
    REQUIRE(shadow_fill(v, 0x00400000, kPfW, ge) == ShadowFill::Filled);
    REQUIRE((table[0] & kPteW) != 0);
    auto protect = [&](u64 first, u64 end) {
        return range_call(m, H_IA32_PROTECT, h_ia32_protect, first, end);
    };
    CHECK(protect(0x00401000, 0x00400000) == hcall::H_PARAMETER);
    CHECK(protect(0x00400000, 0x1'0000'0001ull) == hcall::H_PARAMETER);
    CHECK((table[0] & kPteW) != 0);
    CHECK(protect(0, 0xc0000000) == hcall::H_SUCCESS);
    CHECK((table[0] & (kPteP | kPteW)) == kPteP);
    CHECK(std::string(kExitNames[static_cast<usize>(Exit::HcProtect)]) == "hc-protect");
    shadow_release(v);
    CHECK(shadow_pages_in_use() == start);
}
