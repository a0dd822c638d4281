// H_IA32_SWITCH_MM: a cr3 load naming the address space; the shadow of a space switched back to
// at the same generation is kept, and every switch is counted (mmkept / mmnew).
#include "isa/ia32/exit_reason.hpp"
#include "isa/ia32/shadow.hpp"

#include "tests/unit/ia32/machine.hpp"

#include <arch/hcalls.hpp>
#include <doctest/doctest.h>

#include <initializer_list>
#include <string>

using namespace tessera;
using namespace tessera::arch;
using tessera::arch::test::GuestPaging;
using tessera::arch::test::Machine;

namespace {

using Handler = hcall::Ret (*)(hcall::Env&, hcall::Frame&);

// An hcall from vcpu 0 with these arguments.
hcall::Ret call_with(Machine& m, u64 opcode, Handler handler, std::initializer_list<u64> args) {
    hcall::Env env{*m.lpar, m.vcpu()};
    hcall::Frame f;
    f.opcode = opcode;
    usize i = 0;
    for (u64 a : args) f.args[i++] = a;
    return handler(env, f);
}

hcall::Ret call(Machine& m, u64 cr3, u64 ctx, u64 gen, u64 prev_gen) {
    return call_with(m, H_IA32_SWITCH_MM, h_ia32_switch_mm, {cr3, ctx, gen, prev_gen});
}

// An hcall of two arguments: H_IA32_INVALIDATE or H_IA32_PROTECT (first, end), H_IA32_REFILL
// (va, gen).
hcall::Ret call2(Machine& m, u64 opcode, Handler handler, u64 arg0, u64 arg1) {
    return call_with(m, opcode, handler, {arg0, arg1});
}

// H_IA32_FORK_MM; the parent's generation after its flush is 6.
hcall::Ret fork_call(Machine& m, u64 end, u64 cr3, u64 ctx, u64 gen) {
    return call_with(m, H_IA32_FORK_MM, h_ia32_fork_mm, {end, cr3, ctx, gen, 6});
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
        return call2(m, H_IA32_INVALIDATE, h_ia32_invalidate, first, end);
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
        return call2(m, H_IA32_PROTECT, h_ia32_protect, first, end);
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

TEST_CASE("H_IA32_FORK_MM: the parent loses W, the child's space is made from its own tables and "
          "kept at its first switch") {
    Machine m;
    const usize start = shadow_pages_in_use();
    Vcpu& v = m.vcpu();
    GuestPaging parent(m, 0x100000, 0x101000);
    GuestPaging child(m, 0x110000, 0x111000);
    constexpr u32 kRw = kPteP | kPteW | kPteU | kPteA | kPteD;
    constexpr u32 kCow = kPteP | kPteU; // what fork leaves in the child: read-only, old
    parent.map(0x00400000, 0x200000, kRw);
    parent.map(0x00401000, 0x201000, kRw);
    parent.map(0x00402000, 0x202000, kRw);
    parent.map(0x00403000, 0x203000, kRw);
    parent.map(0x00800000, 0x208000, kRw);
    parent.map(0x00c00000, 0x209000, kRw); // never filled in the parent
    child.map(0x00400000, 0x200000, kCow);
    child.map(0x00401000, 0x300000, kCow);                          // another frame: the child's
    child.map(0x00402000, 0x202000, kPteP);                         // supervisor only: none
    child.map(0x00800000, 0x208000, kPteP | kPteW | kPteU | kPteD); // writable and dirty
    child.map(0x00c00000, 0x209000, kCow);
    // 0x00403000: not mapped in the child at all.
    parent.enable(v);
    REQUIRE(call(m, parent.pd, 10, 5, 0) == hcall::H_SUCCESS);
    u32 ge = 0;
    for (u32 va : {0x00400000u, 0x00401000u, 0x00402000u, 0x00403000u, 0x00800000u})
        REQUIRE(shadow_fill(v, va, kPfW | kPfU, ge) == ShadowFill::Filled);
    const ShadowSpace& ps = shadow_space(v);
    const u32* ptable = shadow_pool_page(ps.pt[1] - 1u);
    REQUIRE((ptable[0] & kPteW) != 0);

    auto fork = [&](u64 end, u64 cr3, u64 ctx, u64 gen) {
        return fork_call(m, end, cr3, ctx, gen);
    };
    // Refused: no ctx, the loaded space's own, an end or cr3 past 4 GiB. Nothing changes.
    CHECK(fork(0xc0000000, child.pd, 0, 0) == hcall::H_PARAMETER);
    CHECK(fork(0xc0000000, child.pd, 10, 0) == hcall::H_PARAMETER);
    CHECK(fork(0x1'0000'0001ull, child.pd, 20, 0) == hcall::H_PARAMETER);
    CHECK(fork(0xc0000000, 0x1'0000'0000ull | child.pd, 20, 0) == hcall::H_PARAMETER);
    CHECK((ptable[0] & kPteW) != 0);
    CHECK((child.pte(0x00400000) & kPteA) == 0);

    CHECK(fork(0xc0000000, child.pd, 20, 0) == hcall::H_SUCCESS);
    CHECK((ptable[0] & (kPteP | kPteW)) == kPteP); // the parent's entries lost W only
    CHECK((ptable[1] & (kPteP | kPteW)) == kPteP);
    CHECK(shadow_space(v).ctx == 10); // the parent's space is still the loaded one,
    CHECK(shadow_space(v).gen == 6);  // recorded as flushed up to the generation passed
    CHECK(counted(m, Exit::ForkCopied) == 3);
    CHECK(std::string(kExitNames[static_cast<usize>(Exit::HcFork)]) == "hc-fork");
    // The child's entries carry A now, as after a fill; its unrelated pages stay old.
    CHECK((child.pte(0x00400000) & kPteA) != 0);
    CHECK((child.pde(0x00400000) & kPteA) != 0);
    CHECK((child.pte(0x00c00000) & kPteA) == 0);

    // The child's first switch keeps that space: its entries are the child's translations.
    CHECK(call(m, child.pd, 20, 0, 6) == hcall::H_SUCCESS);
    CHECK(counted(m, Exit::MmKept) == 1);
    const ShadowSpace& cs = shadow_space(v);
    CHECK(cs.ctx == 20);
    const u32* ctable = shadow_pool_page(cs.pt[1] - 1u);
    const u32* ctable2 = shadow_pool_page(cs.pt[2] - 1u);
    const Optional<RealAddr> f200 = m.lpar->memory.translate(LogicalAddr(0x200000), 4096);
    const Optional<RealAddr> f300 = m.lpar->memory.translate(LogicalAddr(0x300000), 4096);
    const Optional<RealAddr> f208 = m.lpar->memory.translate(LogicalAddr(0x208000), 4096);
    REQUIRE((f200 && f300 && f208));
    CHECK(ctable[0] == (static_cast<u32>(f200->value()) | kPteP | kPteU)); // read-only
    CHECK(ctable[1] == (static_cast<u32>(f300->value()) | kPteP | kPteU));
    CHECK(ctable[2] == 0); // supervisor-only in the child
    CHECK(ctable[3] == 0); // not mapped in the child
    CHECK(ctable2[0] == (static_cast<u32>(f208->value()) | kPteP | kPteW | kPteU));
    CHECK(cs.pt[3] == 0); // 0x00c00000: the parent had no entry there

    // Paging off: nothing to fork.
    v.arch.ctl.cr0 &= ~kCr0Pg;
    CHECK(fork(0xc0000000, parent.pd, 30, 0) == hcall::H_FUNCTION);
    shadow_release(v);
    CHECK(shadow_pages_in_use() == start);
}

TEST_CASE("H_IA32_FORK_MM makes at most kForkCopyMax entries (the rest fault in)") {
    Machine m;
    const usize start = shadow_pages_in_use();
    Vcpu& v = m.vcpu();
    GuestPaging parent(m, 0x100000, 0x101000);
    GuestPaging child(m, 0x110000, 0x111000);
    constexpr u32 kPages = kForkCopyMax + 100;
    for (u32 i = 0; i < kPages; ++i) {
        parent.map(0x00400000 + i * 4096, 0x200000 + (i % 64) * 4096, kPteP | kPteU | kPteA);
        child.map(0x00400000 + i * 4096, 0x200000 + (i % 64) * 4096, kPteP | kPteU);
    }
    parent.enable(v);
    REQUIRE(call(m, parent.pd, 10, 1, 0) == hcall::H_SUCCESS);
    u32 ge = 0;
    for (u32 i = 0; i < kPages; ++i)
        REQUIRE(shadow_fill(v, 0x00400000 + i * 4096, kPfU, ge) == ShadowFill::Filled);
    CHECK(fork_call(m, 0xc0000000, child.pd, 20, 0) == hcall::H_SUCCESS);
    CHECK(counted(m, Exit::ForkCopied) == kForkCopyMax);
    CHECK((child.pte(0x00400000 + (kForkCopyMax - 1) * 4096) & kPteA) != 0);
    CHECK((child.pte(0x00400000 + kForkCopyMax * 4096) & kPteA) == 0); // not walked
    shadow_release(v);
    CHECK(shadow_pages_in_use() == start);
}

TEST_CASE("H_IA32_REFILL: a copy-on-write break's invlpg and the new page's fill in one hcall") {
    Machine m;
    const usize start = shadow_pages_in_use();
    Vcpu& v = m.vcpu();
    GuestPaging a(m, 0x100000, 0x101000);
    GuestPaging b(m, 0x110000, 0x111000);
    constexpr u32 kCow = kPteP | kPteU | kPteA; // read-only, shared with a child
    a.map(0x00400000, 0x200000, kCow);
    a.map(0x00401000, 0x201000, kPteP | kPteA); // supervisor only
    b.map(0x00400000, 0x200000, kCow);
    a.enable(v);
    auto refill = [&](u64 va, u64 gen) { return call2(m, H_IA32_REFILL, h_ia32_refill, va, gen); };
    u32 ge = 0;
    // Both spaces hold 0x00400000 -> the old frame, read-only.
    REQUIRE(call(m, b.pd, 11, 1, 0) == hcall::H_SUCCESS);
    REQUIRE(shadow_fill(v, 0x00400000, kPfU, ge) == ShadowFill::Filled);
    const ShadowSpace& bs = shadow_space(v);
    REQUIRE(call(m, a.pd, 10, 5, 1) == hcall::H_SUCCESS);
    REQUIRE(shadow_fill(v, 0x00400000, kPfU, ge) == ShadowFill::Filled);
    const ShadowSpace& as = shadow_space(v);
    REQUIRE(&as != &bs);
    const u32* at = shadow_pool_page(as.pt[1] - 1u);
    const u32* bt = shadow_pool_page(bs.pt[1] - 1u);
    const Optional<RealAddr> f200 = m.lpar->memory.translate(LogicalAddr(0x200000), 4096);
    const Optional<RealAddr> f300 = m.lpar->memory.translate(LogicalAddr(0x300000), 4096);
    REQUIRE((f200 && f300));
    REQUIRE(at[0] == (static_cast<u32>(f200->value()) | kPteP | kPteU));
    REQUIRE(bt[0] != 0);

    // Refused: va past 4 GiB. Nothing changes.
    CHECK(refill(0x1'0040'0000ull, 6) == hcall::H_PARAMETER);
    CHECK(at[0] == (static_cast<u32>(f200->value()) | kPteP | kPteU));
    CHECK(as.gen == 5);

    // The guest copied the page: its PTE now maps a new frame, writable and dirty. One hcall
    // drops the old entry everywhere and fills the new one in the loaded space.
    a.map(0x00400000, 0x300000, kPteP | kPteW | kPteU | kPteD);
    CHECK(refill(0x00400123, 6) == hcall::H_SUCCESS);
    CHECK(at[0] == (static_cast<u32>(f300->value()) | kPteP | kPteW | kPteU));
    CHECK((a.pte(0x00400000) & kPteA) != 0); // as a fill sets it
    CHECK(bt[0] == 0);                       // the other space's old entry went too
    CHECK(as.gen == 6);                      // recorded as flushed up to gen
    CHECK(std::string(kExitNames[static_cast<usize>(Exit::HcRefill)]) == "hc-refill");

    // What a ring-3 read may not have: dropped, not filled. gen 0 records nothing.
    REQUIRE(shadow_fill(v, 0x00401000, 0, ge) == ShadowFill::Filled); // the kernel's access
    REQUIRE(at[1] != 0);
    CHECK(refill(0x00401000, 0) == hcall::H_SUCCESS);
    CHECK(at[1] == 0);
    CHECK(as.gen == 6);
    CHECK(refill(0x00402000, 7) == hcall::H_SUCCESS); // not mapped at all
    CHECK(at[2] == 0);
    // The switcher's slot is never the guest's.
    const u32 pd1023 = shadow_pool_page(as.pd - 1u)[1023];
    CHECK(refill(X86_SWITCHER_VA, 8) == hcall::H_SUCCESS);
    CHECK(shadow_pool_page(as.pd - 1u)[1023] == pd1023);

    // Paging off: no shadow to refill.
    v.arch.ctl.cr0 &= ~kCr0Pg;
    CHECK(refill(0x00400000, 9) == hcall::H_FUNCTION);
    shadow_release(v);
    CHECK(shadow_pages_in_use() == start);
}
