// H_SET_MODE and H_GET_CPU_CHARACTERISTICS through the dispatch table, on a real Lpar.
#include "common/lpar.hpp"
#include "hcall/dispatch.hpp"
#include "isa/ppc64/cpu_char.hpp"
#include "isa/ppc64/cpu_hcalls.hpp"
#include "isa/ppc64/spr.hpp"

#include <doctest/doctest.h>
#include <initializer_list>
#include <memory>

using namespace tessera;
using namespace tessera::hcall;

namespace {

struct Call {
    std::unique_ptr<Lpar> lpar = std::make_unique<Lpar>();
    Frame f;
    Ret operator()(u64 opcode, u64 a0 = 0, u64 a1 = 0, u64 a2 = 0, u64 a3 = 0) {
        f = Frame{};
        f.opcode = opcode;
        f.args[0] = a0;
        f.args[1] = a1;
        f.args[2] = a2;
        f.args[3] = a3;
        Env env{*lpar, lpar->vcpus[0]};
        return dispatch(env, f);
    }
};

} // namespace

TEST_CASE("H_SET_MODE: interrupt endianness and AIL follow the guest") {
    Call c;
    c.lpar->arch.lpcr = arch::lpcr::VPM0;
    CHECK(c(H_SET_MODE, 1, arch::kSetModeLe) == H_SUCCESS);
    CHECK((c.lpar->arch.lpcr & arch::lpcr::ILE) != 0);
    CHECK((c.lpar->arch.lpcr & arch::lpcr::VPM0) != 0); // the rest of the LPCR is kept
    CHECK(c(H_SET_MODE, 0, arch::kSetModeLe) == H_SUCCESS);
    CHECK((c.lpar->arch.lpcr & arch::lpcr::ILE) == 0);
    CHECK(c(H_SET_MODE, 2, arch::kSetModeLe) == H_UNSUPPORTED_FLAG);
    CHECK(c(H_SET_MODE, 3, arch::kSetModeAddrTransMode) == H_SUCCESS); // Linux asks for 3
    CHECK((c.lpar->arch.lpcr & arch::lpcr::AIL) == arch::lpcr::AIL_3);
    CHECK((c.lpar->arch.lpcr & arch::lpcr::VPM0) != 0);
    for (u64 bad : {u64{1}, u64{2}, u64{4}, ~u64{0}}) {
        CAPTURE(bad);
        CHECK(c(H_SET_MODE, bad, arch::kSetModeAddrTransMode) == H_UNSUPPORTED_FLAG);
        CHECK((c.lpar->arch.lpcr & arch::lpcr::AIL) == arch::lpcr::AIL_3); // unchanged
    }
    CHECK(c(H_SET_MODE, 3, arch::kSetModeAddrTransMode, 1) == H_P3);
    CHECK(c(H_SET_MODE, 0, arch::kSetModeAddrTransMode) == H_SUCCESS);
    CHECK((c.lpar->arch.lpcr & arch::lpcr::AIL) == 0);
    CHECK(c(H_SET_MODE, 1, arch::kSetModeLe, 5) == H_P3);
    CHECK(c(H_SET_MODE, 1, arch::kSetModeLe, 0, 5) == H_P4);
    CHECK(c(H_SET_MODE, 0, arch::kSetModeDawr) == H_P2);
    CHECK(c(H_SET_MODE, 0, ~u64{0}) == H_P2);
    CHECK((c.lpar->arch.lpcr & arch::lpcr::ILE) == 0); // none of the refused calls changed it
}

TEST_CASE("H_GET_CPU_CHARACTERISTICS answers what the platform set") {
    Call c;
    const arch::CpuCharacteristics before = arch::current_cpu_characteristics();
    // Until the platform says otherwise: the defaults a pseries kernel assumes.
    CHECK(c(H_GET_CPU_CHARACTERISTICS) == H_SUCCESS);
    CHECK(c.f.rets[0] == before.character);
    CHECK(c.f.rets[1] == before.behaviour);
    arch::set_cpu_characteristics({arch::cpu_char::kL1dFlushOri30, arch::cpu_behav::kL1dFlushPr});
    CHECK(c(H_GET_CPU_CHARACTERISTICS) == H_SUCCESS);
    CHECK(c.f.rets[0] == arch::cpu_char::kL1dFlushOri30);
    CHECK(c.f.rets[1] == arch::cpu_behav::kL1dFlushPr);
    arch::set_cpu_characteristics(before);
}

TEST_CASE("H_SET_SPRG0: the caller's SPRG0 takes the value, whatever it is") {
    Call c;
    c.lpar->vcpu_count = 2;
    c.lpar->vcpus[1].arch.sprg[0] = 7;
    for (u64 v : {u64{0x1234'5678'9abc'def0}, u64{0}, ~u64{0}}) {
        CHECK(c(H_SET_SPRG0, v) == H_SUCCESS);
        CHECK(c.lpar->vcpus[0].arch.sprg[0] == v);
    }
    CHECK(c.lpar->vcpus[1].arch.sprg[0] == 7); // only the caller's
}
