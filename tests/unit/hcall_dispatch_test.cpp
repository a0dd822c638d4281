#include <doctest/doctest.h>

#include <arch/hcalls.hpp>
#include <memory>

#include "common/lpar.hpp"
#include "hcall/dispatch.hpp"

using namespace tessera;
using namespace tessera::hcall;

namespace {

struct Guest {
    std::unique_ptr<Lpar> lpar = std::make_unique<Lpar>();
    Env env{*lpar, lpar->vcpus[0]};

    Ret call(u64 opcode, Frame& f) {
        f.opcode = opcode;
        return dispatch(env, f);
    }
    Ret call(u64 opcode) {
        Frame f;
        return call(opcode, f);
    }
};

Ret ok_handler(Env&, Frame&) {
    return H_SUCCESS;
}
Ret other_handler(Env&, Frame&) {
    return H_BUSY;
}

} // namespace

TEST_CASE("dispatch: unknown, misaligned and out-of-range numbers are H_FUNCTION") {
    Guest g;
    for (u64 n : {u64{0},
                  u64{1},
                  u64{2},
                  u64{3},
                  u64{H_PUT_TERM_CHAR + 1},
                  u64{H_PUT_TERM_CHAR + 2},
                  u64{H_VTERM_PARTNER_INFO},
                  u64{0x44C},
                  u64{0x450},
                  u64{0x451},
                  u64{0x454},
                  u64{0x1000},
                  u64{0xEFFF},
                  u64{0xF001},
                  u64{0xF00F},
                  u64{0xF010},
                  u64{0xF0000},
                  u64{0x1'0000'0058},
                  u64{0x8000'0000'0000'0058},
                  u64{0xFFFF'FFFF'FFFF'FFFC},
                  u64{0xFFFF'FFFF'FFFF'FFFF}}) {
        CAPTURE(n);
        Frame f;
        f.args[0] = vty::kDefaultTermno;
        CHECK(g.call(n, f) == H_FUNCTION);
        CHECK(g.env.after == After::Resume);
        CHECK(f.rets[0] == 0); // nothing ran
    }
}

TEST_CASE("dispatch: the ISA's own entries are dispatched") {
    Guest g;
    u64 before = arch::fake::h_enter_calls;
    Frame f;
    f.args[0] = 41;
    CHECK(g.call(H_ENTER, f) == H_SUCCESS);
    CHECK(f.rets[0] == 42);
    CHECK(arch::fake::h_enter_calls == before + 1);
    // numbers the fake ISA does not register stay unknown
    CHECK(g.call(H_REMOVE) == H_FUNCTION);
    CHECK(g.call(H_ENTER + 1) == H_FUNCTION);
    CHECK(arch::fake::h_enter_calls == before + 1);
}

TEST_CASE("dispatch: the vty hcalls reach the caller's terminal") {
    Guest g;
    Frame f;
    f.args[0] = vty::kDefaultTermno;
    f.args[1] = 2;
    f.args[2] = 0x6869ull << 48; // "hi"
    CHECK(g.call(H_PUT_TERM_CHAR, f) == H_SUCCESS);
    u8 out[4];
    CHECK(g.lpar->vty.take_output(out, sizeof(out)) == 2);
    CHECK(out[0] == 'h');
    CHECK(out[1] == 'i');

    f = Frame{};
    f.args[0] = vty::kDefaultTermno;
    f.args[1] = 17;
    CHECK(g.call(H_PUT_TERM_CHAR, f) == H_PARAMETER);

    const u8 in[1] = {'k'};
    g.lpar->vty.feed(in, 1);
    f = Frame{};
    f.args[0] = vty::kDefaultTermno;
    CHECK(g.call(H_GET_TERM_CHAR, f) == H_SUCCESS);
    CHECK(f.rets[0] == 1);
    CHECK(f.rets[1] == u64{'k'} << 56);
}

TEST_CASE("dispatch: the XICS and cede hcalls are registered") {
    Guest g;
    g.lpar->vcpu_count = 1;
    for (u64 n : {H_XIRR, H_XIRR_X, H_IPOLL, H_EOI, H_CPPR, H_IPI, H_CEDE}) {
        CAPTURE(n);
        Frame f;
        CHECK(g.call(n, f) != H_FUNCTION);
    }
}

TEST_CASE("dispatch table: lookup covers the architected and implementation ranges") {
    Table t;
    CHECK(t.add({0x0, &ok_handler}) == Table::Added::Ok); // slot 0 exists (unused by PAPR)
    CHECK(t.add({H_MAX_ARCHITECTED, &ok_handler}) == Table::Added::Ok);
    CHECK(t.add({H_IMPL_FIRST, &ok_handler}) == Table::Added::Ok);
    CHECK(t.add({H_IMPL_FIRST + 1, &other_handler}) == Table::Added::Ok); // not a multiple of 4
    CHECK(t.add({H_IMPL_LAST, &ok_handler}) == Table::Added::Ok);
    CHECK((t.lookup(0) == &ok_handler));
    CHECK((t.lookup(H_MAX_ARCHITECTED) == &ok_handler));
    CHECK((t.lookup(H_IMPL_FIRST + 1) == &other_handler));
    CHECK((t.lookup(H_IMPL_LAST) == &ok_handler));
    CHECK((t.lookup(H_IMPL_FIRST + 2) == nullptr));
    CHECK((t.lookup(H_MAX_ARCHITECTED + 4) == nullptr));
    CHECK((t.lookup(H_IMPL_LAST + 1) == nullptr));
    CHECK((t.lookup(H_IMPL_FIRST - 1) == nullptr));
    CHECK((t.lookup(~u64{0}) == nullptr));
    CHECK((t.lookup(u64{1} << 63) == nullptr));
    CHECK((t.lookup(0x1'0000'0000 | H_IMPL_FIRST) == nullptr));
}

TEST_CASE("dispatch table: duplicates and bad numbers are refused") {
    Table t;
    CHECK(t.add({H_CEDE, &ok_handler}) == Table::Added::Ok);
    CHECK(t.add({H_CEDE, &other_handler}) == Table::Added::Duplicate);
    CHECK((t.lookup(H_CEDE) == &ok_handler)); // the first registration stays
    CHECK(t.add({H_CEDE + 2, &ok_handler}) == Table::Added::OutOfRange);
    CHECK(t.add({0x454, &ok_handler}) == Table::Added::OutOfRange);
    CHECK(t.add({0xF010, &ok_handler}) == Table::Added::OutOfRange);
    CHECK(t.add({~u64{0}, &ok_handler}) == Table::Added::OutOfRange);
    CHECK(t.add({H_PROD, nullptr}) == Table::Added::Ok); // a hole: still unknown to guests
    CHECK((t.lookup(H_PROD) == nullptr));
}

TEST_CASE("dispatch table: a list stops at its first bad entry") {
    constexpr Entry list[] = {
        {H_EOI, &ok_handler}, {H_CPPR, &ok_handler}, {H_EOI, &other_handler}, {H_IPI, &ok_handler}};
    Table t;
    CHECK(t.add(list) == Table::Added::Duplicate);
    CHECK((t.lookup(H_EOI) == &ok_handler));
    CHECK((t.lookup(H_CPPR) == &ok_handler));
    CHECK((t.lookup(H_IPI) == nullptr));
}

namespace {
constexpr Entry kDup[] = {{H_EOI, &ok_handler}, {H_EOI, &ok_handler}};
constexpr Entry kGood[] = {{H_EOI, &ok_handler}, {H_RTAS, &ok_handler}};
constexpr Table::Added build(const Entry (&a)[2], const Entry (&b)[2]) {
    Table t;
    if (auto r = t.add(a); r != Table::Added::Ok) return r;
    return t.add(b);
}
// What hcall/dispatch.cpp's static_asserts rely on: the checks run at compile time.
static_assert(build(kGood, kDup) == Table::Added::Duplicate);
static_assert(build(kGood, kGood) == Table::Added::Duplicate);
static_assert(build(kDup, kGood) == Table::Added::Duplicate);
static_assert(Table{}.lookup(~u64{0}) == nullptr);
} // namespace

TEST_CASE("dispatch table: compile-time checks") {
    CHECK(build(kGood, kDup) == Table::Added::Duplicate);
}

TEST_CASE("dispatch: continues_after maps an hcall's After to the vcpu's exit") {
    auto lpar = std::make_unique<tessera::Lpar>();
    tessera::Vcpu& v = lpar->vcpus[0];
    v.lpar = lpar.get();
    tessera::hcall::Env env{*lpar, v};
    tessera::VcpuExit exit = tessera::VcpuExit::Fault;
    using tessera::hcall::After;
    env.after = After::Resume;
    CHECK(tessera::hcall::continues_after(env, exit));
    env.after = After::Block;
    CHECK_FALSE(tessera::hcall::continues_after(env, exit));
    CHECK(exit == tessera::VcpuExit::Ceded);
    v.arch.timer = true; // its own timer already fired: the cede returns at once
    CHECK(tessera::hcall::continues_after(env, exit));
    env.after = After::Yield;
    CHECK_FALSE(tessera::hcall::continues_after(env, exit));
    CHECK(exit == tessera::VcpuExit::Yielded);
    env.after = After::StopLpar;
    CHECK_FALSE(tessera::hcall::continues_after(env, exit));
    CHECK(exit == tessera::VcpuExit::Stopped);
    env.after = After::Offline;
    CHECK_FALSE(tessera::hcall::continues_after(env, exit));
    CHECK(exit == tessera::VcpuExit::Offline);
}
