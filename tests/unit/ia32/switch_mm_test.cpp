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

// H_IA32_MOVE(start, end, new_start, gen).
hcall::Ret move_call(Machine& m, u64 start, u64 end, u64 new_start, u64 gen) {
    return call_with(m, H_IA32_MOVE, h_ia32_move, {start, end, new_start, gen});
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

// What the CPU does to the shadow's entries it uses: Accessed set in every present one.
void used_all(const ShadowSpace& s) {
    for (unsigned slot = 0; slot < kShadowSlots; ++slot) {
        if (s.pt[slot] == 0) continue;
        u32* t = shadow_pool_page(s.pt[slot] - 1u);
        for (unsigned i = 0; i < 1024; ++i)
            if (t[i] & kPteP) t[i] |= kPteA;
    }
}

// A machine with vcpu 0 and two guest address spaces' tables, a and b; `start` is the shadow
// pool's use before any of them.
struct TwoSpaces {
    Machine m;
    const usize start = shadow_pages_in_use();
    Vcpu& v = m.vcpu();
    GuestPaging a{m, 0x100000, 0x101000};
    GuestPaging b{m, 0x110000, 0x111000};
};

u64 counted(Machine& m, Exit e) {
    return m.lpar->arch.exits.count[static_cast<usize>(e)];
}

} // namespace

TEST_CASE_FIXTURE(
    TwoSpaces, "H_IA32_SWITCH_MM loads cr3, keeps an unchanged space's shadow, counts both kinds") {
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

TEST_CASE_FIXTURE(
    TwoSpaces,
    "H_IA32_FORK_MM: the parent loses W, the child's space is made from its own tables and "
    "kept at its first switch") {
    GuestPaging& parent = a;
    GuestPaging& child = b;
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
    u32* ptable = shadow_pool_page(ps.pt[1] - 1u);
    REQUIRE((ptable[0] & kPteW) != 0);
    // The CPU used them all (Accessed in the shadow's entries, as it sets it).
    used_all(ps);

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

    // dup_mmap write-protected the parent's private pages.
    for (u32 va : {0x00400000u, 0x00401000u, 0x00402000u, 0x00403000u, 0x00800000u})
        parent.map(va, parent.pte(va) & kPteFrame, kRw & ~kPteW);
    CHECK(fork(0xc0000000, child.pd, 20, 0) == hcall::H_SUCCESS);
    CHECK((ptable[0] & (kPteP | kPteW | kPteA)) == kPteP); // the parent's entries lost W and A
    CHECK((ptable[1] & (kPteP | kPteW | kPteA)) == kPteP);
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

TEST_CASE_FIXTURE(TwoSpaces,
                  "H_IA32_FORK_MM makes at most kForkCopyMax entries (the rest fault in)") {
    GuestPaging& parent = a;
    GuestPaging& child = b;
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
    used_all(shadow_space(v));
    CHECK(fork_call(m, 0xc0000000, child.pd, 20, 0) == hcall::H_SUCCESS);
    CHECK(counted(m, Exit::ForkCopied) == kForkCopyMax);
    CHECK((child.pte(0x00400000 + (kForkCopyMax - 1) * 4096) & kPteA) != 0);
    CHECK((child.pte(0x00400000 + kForkCopyMax * 4096) & kPteA) == 0); // not walked
    shadow_release(v);
    CHECK(shadow_pages_in_use() == start);
}

TEST_CASE_FIXTURE(TwoSpaces,
                  "H_IA32_FORK_MM copies what the parent used since its last fork and what a child "
                  "filled; shared pages keep W") {
    GuestPaging& parent = a;
    GuestPaging& child = b;
    GuestPaging child2(m, 0x120000, 0x121000);
    constexpr u32 kRw = kPteP | kPteW | kPteU | kPteA | kPteD;
    constexpr u32 kCow = kPteP | kPteU | kPteA | kPteD; // write-protected by the fork
    constexpr u32 kPages[] = {0x00400000, 0x00401000, 0x00402000, 0x00403000};
    for (u32 i = 0; i < 4; ++i) parent.map(kPages[i], 0x200000 + i * 4096, kRw);
    parent.enable(v);
    REQUIRE(call(m, parent.pd, 10, 5, 0) == hcall::H_SUCCESS);
    u32 ge = 0;
    for (u32 va : kPages) REQUIRE(shadow_fill(v, va, kPfW | kPfU, ge) == ShadowFill::Filled);
    const ShadowSpace& ps = shadow_space(v);
    u32* ptable = shadow_pool_page(ps.pt[1] - 1u);
    for (u32 i = 0; i < 4; ++i) REQUIRE((ptable[i] & kPteW) != 0);
    // The CPU used pages 0 and 2 since (A in their shadow entries). Page 2 is shared memory:
    // the fork leaves it writable in both; the others are the parent's private pages, which
    // dup_mmap write-protected.
    ptable[0] |= kPteA;
    ptable[2] |= kPteA;
    for (u32 i : {0u, 1u, 3u}) parent.map(kPages[i], 0x200000 + i * 4096, kCow);
    for (u32 i = 0; i < 4; ++i) {
        const u32 flags = i == 2 ? kPteP | kPteW | kPteU | kPteD : kPteP | kPteU | kPteD;
        child.map(kPages[i], 0x200000 + i * 4096, flags);
        child2.map(kPages[i], 0x200000 + i * 4096, flags);
    }
    const Optional<RealAddr> f202 = m.lpar->memory.translate(LogicalAddr(0x202000), 4096);
    REQUIRE(f202);

    CHECK(fork_call(m, 0xc0000000, child.pd, 20, 0) == hcall::H_SUCCESS);
    CHECK(counted(m, Exit::ForkCopied) == 2); // the two pages used since
    // The parent: A gone from every entry, W from the write-protected ones only.
    CHECK((ptable[0] & (kPteP | kPteW | kPteA)) == kPteP);
    CHECK((ptable[1] & (kPteP | kPteW | kPteA)) == kPteP);
    CHECK(ptable[2] == (static_cast<u32>(f202->value()) | kPteP | kPteW | kPteU));
    CHECK((ptable[3] & (kPteP | kPteW | kPteA)) == kPteP);
    // The child's space has pages 0 and 2 (2 writable: its own entry is, and dirty).
    REQUIRE(call(m, child.pd, 20, 0, 6) == hcall::H_SUCCESS);
    CHECK(counted(m, Exit::MmKept) == 1);
    const ShadowSpace& cs = shadow_space(v);
    const u32* ctable = shadow_pool_page(cs.pt[1] - 1u);
    CHECK((ctable[0] & (kPteP | kPteW)) == kPteP);
    CHECK(ctable[1] == 0);
    CHECK(ctable[2] == (static_cast<u32>(f202->value()) | kPteP | kPteW | kPteU));
    CHECK(ctable[3] == 0);
    // The child reads page 1: a fill, which marks the parent's entry.
    REQUIRE(shadow_fill(v, kPages[1], kPfU, ge) == ShadowFill::Filled);
    CHECK((ptable[1] & kPteP) != 0);

    // Back in the parent, which used nothing since its fork: the next child gets page 1 only.
    REQUIRE(call(m, parent.pd, 10, 6, 0) == hcall::H_SUCCESS);
    REQUIRE(&shadow_space(v) == &ps);
    CHECK(fork_call(m, 0xc0000000, child2.pd, 30, 0) == hcall::H_SUCCESS);
    CHECK(counted(m, Exit::ForkCopied) == 3);
    REQUIRE(call(m, child2.pd, 30, 0, 6) == hcall::H_SUCCESS);
    const ShadowSpace& c2 = shadow_space(v);
    REQUIRE(&c2 != &cs);
    REQUIRE(c2.pt[1] != 0);
    const u32* c2table = shadow_pool_page(c2.pt[1] - 1u);
    CHECK(c2table[0] == 0);
    CHECK((c2table[1] & (kPteP | kPteW)) == kPteP);
    CHECK(c2table[2] == 0);

    // A space given to another address space is no one's child: a fill there marks nothing.
    REQUIRE(call(m, child.pd, 50, 0, 6) == hcall::H_SUCCESS); // not tagged: a fresh space
    CHECK(shadow_space(v).parent_ctx == 0);
    REQUIRE(shadow_fill(v, kPages[3], kPfU, ge) == ShadowFill::Filled);
    REQUIRE(call(m, parent.pd, 10, 6, 0) == hcall::H_SUCCESS);
    REQUIRE(&shadow_space(v) == &ps);
    CHECK(fork_call(m, 0xc0000000, child2.pd, 60, 0) == hcall::H_SUCCESS);
    CHECK(counted(m, Exit::ForkCopied) == 4); // page 1 again (still marked), not page 3
    shadow_release(v);
    CHECK(shadow_pages_in_use() == start);
}

TEST_CASE_FIXTURE(
    TwoSpaces,
    "H_IA32_REFILL: a copy-on-write break's invlpg and the new page's fill in one hcall") {
    constexpr u32 kCow = kPteP | kPteU | kPteA; // read-only, shared with a child
    a.map(0x00400000, 0x200000, kCow);
    a.map(0x00401000, 0x201000, kPteP | kPteA); // supervisor only
    b.map(0x00400000, 0x200000, kCow);
    b.map(0x00401000, 0x201000, kPteP | kPteA); // the kernel's half, shadowed in both spaces
    a.enable(v);
    auto refill = [&](u64 va, u64 gen) { return call2(m, H_IA32_REFILL, h_ia32_refill, va, gen); };
    u32 ge = 0;
    // Both spaces hold 0x00400000 -> the old frame, read-only.
    REQUIRE(call(m, b.pd, 11, 1, 0) == hcall::H_SUCCESS);
    REQUIRE(shadow_fill(v, 0x00400000, kPfU, ge) == ShadowFill::Filled);
    REQUIRE(shadow_fill(v, 0x00401000, 0, ge) == ShadowFill::Filled);
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
    // drops the old entry and fills the new one in the loaded space.
    const u32 b_user = bt[0];
    a.map(0x00400000, 0x300000, kPteP | kPteW | kPteU | kPteD);
    CHECK(refill(0x00400123, 6) == hcall::H_SUCCESS);
    CHECK(at[0] == (static_cast<u32>(f300->value()) | kPteP | kPteW | kPteU));
    CHECK((a.pte(0x00400000) & kPteA) != 0); // as a fill sets it
    // The other space shadows another address space, whose tables still map the old frame
    // (the parent of a child that broke copy-on-write): its user entry stays.
    CHECK(bt[0] == b_user);
    CHECK(as.gen == 6); // recorded as flushed up to gen
    CHECK(std::string(kExitNames[static_cast<usize>(Exit::HcRefill)]) == "hc-refill");

    // What a ring-3 read may not have: dropped, not filled. gen 0 records nothing.
    REQUIRE(shadow_fill(v, 0x00401000, 0, ge) == ShadowFill::Filled); // the kernel's access
    REQUIRE(at[1] != 0);
    REQUIRE(bt[1] != 0);
    CHECK(refill(0x00401000, 0) == hcall::H_SUCCESS);
    CHECK(at[1] == 0);
    CHECK(bt[1] == 0); // a supervisor entry goes from every space, as invlpg's
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

TEST_CASE_FIXTURE(
    TwoSpaces, "H_IA32_MOVE: mremap's flush, and the moved pages' entries at their new addresses") {
    constexpr u32 kOld = 0x00400000, kNew = 0x00bff000; // the new range crosses a 4 MiB slot
    constexpr u32 kDirty = kPteP | kPteW | kPteU | kPteA | kPteD;
    a.map(kOld, 0x200000, kDirty);
    a.map(kOld + 0x1000, 0x201000, kPteP | kPteU | kPteA); // read-only
    a.map(kOld + 0x2000, 0x202000, kDirty);                // never filled
    a.map(kOld + 0x3000, 0x203000, kPteP | kPteW | kPteA); // the kernel's
    a.map(kOld + 0x4000, 0x204000, kDirty);                // filled; the guest unmaps it below
    b.map(kOld, 0x200000, kDirty);
    a.enable(v);
    u32 ge = 0;
    REQUIRE(call(m, b.pd, 11, 1, 0) == hcall::H_SUCCESS);
    REQUIRE(shadow_fill(v, kOld, kPfU, ge) == ShadowFill::Filled);
    const ShadowSpace& bs = shadow_space(v);
    REQUIRE(call(m, a.pd, 10, 5, 1) == hcall::H_SUCCESS);
    const ShadowSpace& as = shadow_space(v);
    REQUIRE(&as != &bs);
    // A fill prefills its 16-page block: fill the pages one at a time, then drop page 2.
    REQUIRE(shadow_fill(v, kOld, kPfU | kPfW, ge) == ShadowFill::Filled);
    REQUIRE(shadow_fill(v, kOld + 0x1000, kPfU, ge) == ShadowFill::Filled);
    REQUIRE(shadow_fill(v, kOld + 0x3000, 0, ge) == ShadowFill::Filled);
    REQUIRE(shadow_fill(v, kOld + 0x4000, kPfU, ge) == ShadowFill::Filled);
    shadow_invlpg(v, kOld + 0x2000);
    const u32* old_t = shadow_pool_page(as.pt[1] - 1u);
    const u32* b_t = shadow_pool_page(bs.pt[1] - 1u);
    REQUIRE((old_t[0] & kPteW) != 0);
    REQUIRE((old_t[1] != 0 && old_t[2] == 0 && old_t[3] != 0 && old_t[4] != 0 && b_t[0] != 0));
    auto real = [&](u32 la) {
        const Optional<RealAddr> r = m.lpar->memory.translate(LogicalAddr(la), 4096);
        REQUIRE(r);
        return static_cast<u32>(r->value());
    };

    // Refused, nothing changed: unaligned, reversed, above 4 MiB, past 4 GiB.
    CHECK(move_call(m, kOld + 1, kOld + 0x5000, kNew, 6) == hcall::H_PARAMETER);
    CHECK(move_call(m, kOld, kOld + 0x5000, kNew + 0x800, 6) == hcall::H_PARAMETER);
    CHECK(move_call(m, kOld + 0x5000, kOld, kNew, 6) == hcall::H_PARAMETER);
    CHECK(move_call(m, kOld, kOld + kMoveMax + 0x1000, kNew, 6) == hcall::H_PARAMETER);
    CHECK(move_call(m, kOld, kOld + 0x5000, 0xffffe000ull, 6) == hcall::H_PARAMETER);
    CHECK(move_call(m, 0xfffff000ull, 0x1'0000'1000ull, kNew, 6) == hcall::H_PARAMETER);
    CHECK(old_t[0] != 0);
    CHECK(as.gen == 5);

    // The guest moved the five pages to kNew (page 1 to another frame: the new entries are
    // made from its tables, not copied), then unmapped page 4's new address again.
    for (u32 i = 0; i < 5; ++i) {
        const u32 pte = a.pte(kOld + i * 0x1000);
        a.map(kNew + i * 0x1000, i == 1 ? 0x301000 : pte & kPteFrame, pte & 0xfff);
        m.poke(a.pte_la(kOld + i * 0x1000), 0);
    }
    m.poke(a.pte_la(kNew + 0x4000), 0);
    CHECK(move_call(m, kOld, kOld + 0x5000, kNew, 6) == hcall::H_SUCCESS);
    for (u32 i = 0; i < 5; ++i) CHECK(old_t[i] == 0);              // gone from the loaded space
    CHECK(b_t[0] == 0);                                            // and from the other
    REQUIRE((as.pt[2] != 0 && as.pt[3] != 0));                     // page + 1: 0 is none
    const u32* new2 = shadow_pool_page(as.pt[2] - 1u);             // kNew's slot
    const u32* new3 = shadow_pool_page(as.pt[3] - 1u);             // the rest
    CHECK(new2[1023] == (real(0x200000) | kPteP | kPteW | kPteU)); // dirty: writable
    CHECK(new3[0] == (real(0x301000) | kPteP | kPteU));            // its new frame
    CHECK(new3[1] == 0); // not in the shadow before the move
    CHECK(new3[2] == 0); // the kernel's: not a ring-3 read's
    CHECK(new3[3] == 0); // the guest's tables have nothing there now
    CHECK(as.gen == 6);  // recorded as flushed up to gen
    CHECK(counted(m, Exit::Moved) == 2);
    CHECK(std::string(kExitNames[static_cast<usize>(Exit::HcMove)]) == "hc-move");
    CHECK(std::string(kExitNames[static_cast<usize>(Exit::Moved)]) == "moved");

    // gen 0 records nothing; an empty range does nothing.
    CHECK(move_call(m, kNew, kNew + 0x1000, kOld, 0) == hcall::H_SUCCESS);
    CHECK(new2[1023] == 0);
    CHECK(as.gen == 6);
    CHECK(move_call(m, kOld, kOld, kNew, 7) == hcall::H_SUCCESS);

    // Paging off: no shadow to move.
    v.arch.ctl.cr0 &= ~kCr0Pg;
    CHECK(move_call(m, kOld, kOld + 0x1000, kNew, 8) == hcall::H_FUNCTION);
    shadow_release(v);
    CHECK(shadow_pages_in_use() == start);
}
