#include <doctest/doctest.h>

#include <memory>

#include "common/lpar.hpp"
#include "common/xics.hpp"
#include "hcall/dispatch.hpp"
#include "hcall/xics.hpp"

using namespace tessera;
using namespace tessera::hcall;

namespace {

constexpr u64 kSrc = xics::kFirstSource;
constexpr u64 kIpi = xics::kIpiSource;

constexpr u64 xirr_of(u64 cppr, u64 xisr) {
    return cppr << 24 | xisr;
}

// An LPAR with `vcpus` logical CPUs; the guest has opened every CPPR (H_CPPR 0xff).
struct Guest {
    std::unique_ptr<Lpar> lpar = std::make_unique<Lpar>();

    explicit Guest(u32 vcpus = 2) {
        lpar->vcpu_count = vcpus;
        for (u32 i = 0; i < vcpus; ++i) {
            lpar->vcpus[i].index = i;
            lpar->vcpus[i].lpar = lpar.get();
        }
        lpar->xics.reset(vcpus);
        for (u32 i = 0; i < vcpus; ++i) REQUIRE(cppr(i, 0xff) == H_SUCCESS);
        lpar->xics.take_presented();
    }

    // Runs `h` as vcpu `cpu` with the given args; the rets are pre-filled with garbage.
    Ret call(u32 cpu, Handler h, u64 a0 = 0, u64 a1 = 0) {
        Env env{*lpar, lpar->vcpus[cpu]};
        last = Frame{};
        last.args[0] = a0;
        last.args[1] = a1;
        for (u64& r : last.rets) r = 0xdead'beef;
        Ret r = h(env, last);
        CHECK(env.after == After::Resume);
        return r;
    }
    Ret xirr(u32 cpu) { return call(cpu, &h_xirr); }
    Ret xirr_x(u32 cpu) { return call(cpu, &h_xirr_x); }
    Ret ipoll(u32 cpu, u64 server) { return call(cpu, &h_ipoll, server); }
    Ret eoi(u32 cpu, u64 x) { return call(cpu, &h_eoi, x); }
    Ret cppr(u32 cpu, u64 c) { return call(cpu, &h_cppr, c); }
    Ret ipi(u32 cpu, u64 server, u64 mfrr) { return call(cpu, &h_ipi, server, mfrr); }

    xics::IcpRegisters regs(u32 server) const { return lpar->xics.registers(server); }

    Frame last;
};

} // namespace

TEST_CASE("hcall xics: H_XIRR with nothing pending returns the CPPR and XISR 0") {
    Guest g;
    REQUIRE(g.cppr(0, 0x40) == H_SUCCESS);
    CHECK(g.xirr(0) == H_SUCCESS);
    CHECK(g.last.rets[0] == xirr_of(0x40, 0));
    CHECK(g.regs(0).cppr == 0x40);
}

TEST_CASE("hcall xics: device interrupt accepted with H_XIRR, ended with H_EOI") {
    Guest g;
    REQUIRE(g.lpar->xics.set_xive(kSrc, 1, 5) == xics::Error::None);
    REQUIRE(g.lpar->xics.raise(kSrc) == xics::Error::None);
    CHECK(g.lpar->xics.take_presented() == 0b10);

    CHECK(g.ipoll(0, 1) == H_SUCCESS);
    CHECK(g.last.rets[0] == xirr_of(0xff, kSrc));
    CHECK(g.last.rets[1] == 0xff);
    CHECK(g.lpar->xics.has_pending(1));

    CHECK(g.xirr(1) == H_SUCCESS);
    CHECK(g.last.rets[0] == xirr_of(0xff, kSrc));
    CHECK(g.regs(1).cppr == 5);
    CHECK_FALSE(g.lpar->xics.has_pending(1));

    CHECK(g.eoi(1, xirr_of(0xff, kSrc)) == H_SUCCESS);
    CHECK(g.regs(1).cppr == 0xff);
    CHECK(g.lpar->xics.source_state(kSrc) == xics::SourceState::Idle);
    // already ended
    CHECK(g.eoi(1, xirr_of(0xff, kSrc)) == H_PARAMETER);
}

TEST_CASE("hcall xics: H_XIRR_X also accepts and reports timebase 0") {
    Guest g;
    REQUIRE(g.ipi(0, 0, 3) == H_SUCCESS);
    CHECK(g.xirr_x(0) == H_SUCCESS);
    CHECK(g.last.rets[0] == xirr_of(0xff, kIpi));
    CHECK(g.last.rets[1] == 0);
    CHECK(g.regs(0).cppr == 3);
}

TEST_CASE("hcall xics: H_IPI to another vcpu, handled as Linux does") {
    Guest g;
    CHECK(g.ipi(0, 1, 4) == H_SUCCESS);
    CHECK(g.lpar->xics.take_presented() == 0b10); // the run loop wakes vcpu 1
    CHECK_FALSE(g.lpar->xics.has_pending(0));
    CHECK(g.lpar->xics.has_pending(1));

    CHECK(g.ipoll(0, 1) == H_SUCCESS);
    CHECK(g.last.rets[0] == xirr_of(0xff, kIpi));
    CHECK(g.last.rets[1] == 4);

    CHECK(g.xirr(1) == H_SUCCESS);
    CHECK(g.last.rets[0] == xirr_of(0xff, kIpi));
    CHECK(g.ipi(1, 1, 0xff) == H_SUCCESS); // clear its own MFRR
    CHECK(g.eoi(1, xirr_of(0xff, kIpi)) == H_SUCCESS);
    CHECK_FALSE(g.lpar->xics.has_pending(1));
    CHECK(g.regs(1).mfrr == 0xff);
    CHECK(g.regs(1).cppr == 0xff);
}

TEST_CASE("hcall xics: H_CPPR masks and rejects, lowering it re-presents") {
    Guest g;
    REQUIRE(g.ipi(0, 0, 5) == H_SUCCESS);
    REQUIRE(g.lpar->xics.has_pending(0));
    CHECK(g.cppr(0, 5) == H_SUCCESS);
    CHECK_FALSE(g.lpar->xics.has_pending(0));
    CHECK(g.xirr(0) == H_SUCCESS);
    CHECK(g.last.rets[0] == xirr_of(5, 0));
    CHECK(g.cppr(0, 6) == H_SUCCESS);
    CHECK(g.lpar->xics.has_pending(0));
}

TEST_CASE("hcall xics: H_CEDE-style check sees what H_IPI presented") {
    Guest g;
    CHECK_FALSE(g.lpar->xics.has_pending(g.lpar->vcpus[1].index));
    REQUIRE(g.ipi(0, 1, 0) == H_SUCCESS);
    CHECK(g.lpar->xics.has_pending(g.lpar->vcpus[1].index));
}

TEST_CASE("hcall xics: bad server numbers get H_PARAMETER") {
    Guest g(2);
    CHECK(g.ipi(0, 2, 0) == H_PARAMETER); // a vcpu the LPAR does not have
    CHECK(g.ipi(0, xics::kMaxServers, 0) == H_PARAMETER);
    CHECK(g.ipi(0, u64{1} << 32, 0) == H_PARAMETER); // would truncate to server 0
    CHECK(g.ipi(0, ~u64{0}, 0) == H_PARAMETER);
    CHECK(g.ipoll(0, 2) == H_PARAMETER);
    CHECK(g.ipoll(0, u64{1} << 32) == H_PARAMETER);
    CHECK(g.lpar->xics.take_presented() == 0);
    for (u32 s = 0; s < xics::kMaxServers; ++s) CHECK(g.regs(s).mfrr == 0xff);
}

TEST_CASE("hcall xics: a controller server the LPAR has no vcpu for is refused") {
    Guest g(2);
    g.lpar->xics.reset(xics::kMaxServers); // controller wider than the LPAR
    CHECK(g.ipi(0, 5, 0) == H_PARAMETER);
    CHECK(g.regs(5).mfrr == 0xff);
}

TEST_CASE("hcall xics: out-of-range CPPR and MFRR get H_PARAMETER and change nothing") {
    Guest g;
    REQUIRE(g.cppr(0, 0x30) == H_SUCCESS);
    CHECK(g.cppr(0, 0x100) == H_PARAMETER);
    CHECK(g.cppr(0, (u64{1} << 32) | 0x10) == H_PARAMETER);
    CHECK(g.cppr(0, ~u64{0}) == H_PARAMETER);
    CHECK(g.regs(0).cppr == 0x30);
    CHECK(g.ipi(0, 1, 0x100) == H_PARAMETER);
    CHECK(g.ipi(0, 1, (u64{1} << 32) | 0x01) == H_PARAMETER);
    CHECK(g.regs(1).mfrr == 0xff);
    CHECK_FALSE(g.lpar->xics.has_pending(1));
}

TEST_CASE("hcall xics: H_EOI of an unknown or unaccepted source gets H_PARAMETER") {
    Guest g;
    REQUIRE(g.cppr(0, 0x30) == H_SUCCESS);
    CHECK(g.eoi(0, xirr_of(0xff, 0)) == H_PARAMETER);
    CHECK(g.eoi(0, xirr_of(0xff, 1)) == H_PARAMETER);
    CHECK(g.eoi(0, xirr_of(0xff, kSrc + xics::kSourceCount)) == H_PARAMETER);
    CHECK(g.eoi(0, xirr_of(0xff, 0xff'ffff)) == H_PARAMETER);
    CHECK(g.eoi(0, xirr_of(0xff, kSrc)) == H_PARAMETER);                  // never raised
    CHECK(g.eoi(0, (u64{1} << 32) | xirr_of(0xff, kIpi)) == H_PARAMETER); // above 32 bits
    CHECK(g.regs(0).cppr == 0x30);

    // presented to vcpu 0 but not accepted yet
    REQUIRE(g.lpar->xics.set_xive(kSrc, 0, 5) == xics::Error::None);
    REQUIRE(g.lpar->xics.raise(kSrc) == xics::Error::None);
    CHECK(g.eoi(0, xirr_of(0xff, kSrc)) == H_PARAMETER);
    CHECK(g.regs(0).cppr == 0x30);
    CHECK(g.lpar->xics.has_pending(0));

    // the IPI can always be EOI'd: it only sets CPPR
    CHECK(g.eoi(0, xirr_of(0x20, kIpi)) == H_SUCCESS);
    CHECK(g.regs(0).cppr == 0x20);
}

TEST_CASE("hcall xics: handlers reach the table through dispatch") {
    Guest g;
    Env env{*g.lpar, g.lpar->vcpus[0]};
    Frame f;
    f.opcode = H_IPI;
    f.args[0] = 0;
    f.args[1] = 2;
    CHECK(dispatch(env, f) == H_SUCCESS);
    f = Frame{};
    f.opcode = H_XIRR;
    CHECK(dispatch(env, f) == H_SUCCESS);
    CHECK(f.rets[0] == xirr_of(0xff, kIpi));
    f = Frame{};
    f.opcode = H_EOI;
    f.args[0] = xirr_of(0xff, kIpi);
    CHECK(dispatch(env, f) == H_SUCCESS);
    CHECK(g.lpar->xics.has_pending(0)); // MFRR 2 still set: presented again
}
