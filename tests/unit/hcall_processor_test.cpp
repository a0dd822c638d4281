// H_REGISTER_VPA, H_PROD, H_CONFER and their effect on H_CEDE, against a real Lpar over fake
// real memory.
#include "common/chunks.hpp"
#include "common/lpar.hpp"
#include "hcall/cede.hpp"
#include "hcall/processor.hpp"
#include "tests/fake/memory_lpar.hpp"

#include <doctest/doctest.h>
#include <memory>
#include <vector>

using namespace tessera;
using namespace tessera::hcall;

namespace {

constexpr u64 kFunc = 45; // H_REGISTER_VPA subfunction shift

struct Guest : test::MemoryLpar {
    After after = After::Resume;

    Guest() : MemoryLpar(2) {}
    // An area whose size field (offset 4) says `size` (u16 for a VPA, u32 otherwise).
    void area(u64 at, u32 size, bool vpa) {
        u8 b[4] = {static_cast<u8>(size >> 24), static_cast<u8>(size >> 16),
                   static_cast<u8>(size >> 8), static_cast<u8>(size)};
        REQUIRE(lpar->memory.copy_in(LogicalAddr(at + 4), vpa ? b + 2 : b, vpa ? 2 : 4));
    }
    Ret call(Ret (*fn)(Env&, Frame&), u32 cpu, u64 a0 = 0, u64 a1 = 0, u64 a2 = 0) {
        Frame f;
        f.args[0] = a0;
        f.args[1] = a1;
        f.args[2] = a2;
        Env env{*lpar, lpar->vcpus[cpu]};
        Ret r = fn(env, f);
        after = env.after;
        return r;
    }
    Ret vpa(u64 func, u64 proc, u64 addr) {
        return call(&h_register_vpa, 0, func << kFunc, proc, addr);
    }
};

} // namespace

TEST_CASE("H_REGISTER_VPA: the VPA, then DTL and SLB shadow, validated like PAPR") {
    Guest g;
    g.area(0x1000, 640, true);
    CHECK(g.vpa(3, 1, 0x3000) == H_PARAMETER); // SLB shadow: its size field is 0
    g.area(0x3000, 0x100, false);
    CHECK(g.vpa(3, 1, 0x3000) == H_RESOURCE); // needs the VPA first
    CHECK(g.vpa(1, 1, 0x1000) == H_SUCCESS);
    CHECK(g.lpar->vcpus[1].vpa == 0x1000);
    CHECK(g.vpa(3, 1, 0x3000) == H_SUCCESS);
    CHECK(g.lpar->vcpus[1].slb_shadow == 0x3000);
    CHECK(g.vpa(5, 1, 0) == H_RESOURCE); // the VPA cannot go while the shadow is there
    CHECK(g.vpa(7, 1, 0) == H_SUCCESS);
    CHECK(g.vpa(5, 1, 0) == H_SUCCESS);
    CHECK(g.lpar->vcpus[1].vpa == 0);
}

TEST_CASE("H_REGISTER_VPA: bad processors, addresses, sizes and subfunctions") {
    Guest g;
    g.area(0x1000, 640, true);
    CHECK(g.vpa(1, 2, 0x1000) == H_PARAMETER);       // no vcpu 2
    CHECK(g.vpa(1, ~u64{0}, 0x1000) == H_PARAMETER); // nor anything huge
    CHECK(g.vpa(1, 0, 0x1040) == H_PARAMETER);       // not cache-line aligned
    CHECK(g.vpa(1, 0, 0) == H_PARAMETER);            // no address
    CHECK(g.vpa(1, 0, kChunkSize) == H_PARAMETER);   // outside the LPAR
    CHECK(g.vpa(1, 0, ~u64{0} & ~u64{127}) == H_PARAMETER);
    g.area(0x2000, 639, true);
    CHECK(g.vpa(1, 0, 0x2000) == H_PARAMETER); // too small
    g.area(0x2f80, 640, true);
    CHECK(g.vpa(1, 0, 0x2f80) == H_PARAMETER); // crosses a 4K page
    CHECK(g.vpa(0, 0, 0x1000) == H_PARAMETER); // subfunction 0
    CHECK(g.vpa(4, 0, 0x1000) == H_PARAMETER); // subfunction 4
    CHECK(g.lpar->vcpus[0].vpa == 0);          // nothing was registered
}

TEST_CASE("H_PROD makes the next H_CEDE return at once; H_CONFER yields") {
    Guest g;
    CHECK(g.call(&h_cede, 1) == H_SUCCESS);
    CHECK(g.after == After::Block); // nothing pending: it sleeps
    CHECK(g.call(&h_prod, 0, 1) == H_SUCCESS);
    CHECK(g.lpar->vcpus[1].prodded);
    CHECK(g.call(&h_cede, 1) == H_SUCCESS);
    CHECK(g.after == After::Resume);
    CHECK_FALSE(g.lpar->vcpus[1].prodded); // consumed
    CHECK(g.call(&h_prod, 0, 2) == H_PARAMETER);
    CHECK(g.call(&h_confer, 0, 1, 0) == H_SUCCESS);
    CHECK(g.after == After::Yield);
}
