#include <doctest/doctest.h>

#include <memory>

#include "common/lpar.hpp"
#include "common/sched.hpp"
#include "hcall/cede.hpp"
#include "hcall/dispatch.hpp"

using namespace tessera;
using namespace tessera::hcall;

namespace {

// A two-vcpu LPAR whose vcpus accept every interrupt priority (CPPR 0xff).
struct Guest {
    std::unique_ptr<Lpar> lpar = std::make_unique<Lpar>();
    Guest() {
        lpar->vcpu_count = 2;
        lpar->xics.reset(2);
        for (u32 i = 0; i < 2; ++i) {
            lpar->vcpus[i].lpar = lpar.get();
            lpar->vcpus[i].index = i;
            lpar->vcpus[i].state = VcpuState::Running;
            REQUIRE(lpar->xics.set_cppr(i, 0xff) == xics::Error::None);
        }
    }
    Ret cede(u32 vcpu, After& after) {
        Env env{*lpar, lpar->vcpus[vcpu]};
        Frame f;
        f.opcode = H_CEDE;
        Ret r = dispatch(env, f);
        after = env.after;
        return r;
    }
};

} // namespace

TEST_CASE("cede: nothing pending blocks the caller, state left to the scheduler") {
    Guest g;
    After after = After::Resume;
    CHECK(g.cede(0, after) == H_SUCCESS);
    CHECK(after == After::Block);
    CHECK(g.lpar->vcpus[0].state == VcpuState::Running); // still on its CPU until put_back
}

TEST_CASE("cede: a pending IPI for the caller resumes it at once") {
    Guest g;
    REQUIRE(g.lpar->xics.set_mfrr(0, 5) == xics::Error::None);
    REQUIRE(g.lpar->xics.has_pending(0));
    After after = After::Block;
    CHECK(g.cede(0, after) == H_SUCCESS);
    CHECK(after == After::Resume);
    CHECK(g.lpar->xics.has_pending(0)); // cede does not accept the interrupt
}

TEST_CASE("cede: a pending source interrupt for the caller resumes it") {
    Guest g;
    constexpr u32 irq = xics::kFirstSource + 3;
    REQUIRE(g.lpar->xics.set_xive(irq, 1, 4) == xics::Error::None);
    REQUIRE(g.lpar->xics.raise(irq) == xics::Error::None);
    After after = After::Block;
    CHECK(g.cede(1, after) == H_SUCCESS);
    CHECK(after == After::Resume);
}

TEST_CASE("cede: an interrupt pending for another vcpu does not keep the caller awake") {
    Guest g;
    REQUIRE(g.lpar->xics.set_mfrr(1, 5) == xics::Error::None);
    After after = After::Resume;
    CHECK(g.cede(0, after) == H_SUCCESS);
    CHECK(after == After::Block);
    CHECK(g.cede(1, after) == H_SUCCESS);
    CHECK(after == After::Resume);
}

TEST_CASE("cede: an interrupt masked by the caller's CPPR is not pending") {
    Guest g;
    REQUIRE(g.lpar->xics.set_cppr(0, 3) == xics::Error::None);
    REQUIRE(g.lpar->xics.set_mfrr(0, 5) == xics::Error::None); // less favoured than CPPR 3
    After after = After::Resume;
    CHECK(g.cede(0, after) == H_SUCCESS);
    CHECK(after == After::Block);
}

TEST_CASE("cede: a vcpu index beyond the controller's servers blocks, no crash") {
    Guest g;
    g.lpar->vcpus[5].lpar = g.lpar.get();
    g.lpar->vcpus[5].index = 5; // the controller has 2 servers
    After after = After::Resume;
    CHECK(g.cede(5, after) == H_SUCCESS);
    CHECK(after == After::Block);
}

TEST_CASE("cede: Block, then a wake before put_back, keeps the vcpu runnable") {
    // The reason the handler does not mark the vcpu Ceded itself: the scheduler must see it as
    // Running until put_back, so a wake in between is remembered instead of lost.
    auto table = std::make_unique<LparTable>();
    Lpar* l = table->create("c", 1);
    REQUIRE(l != nullptr);
    REQUIRE(l->mark_loaded());
    REQUIRE(l->start());
    Scheduler s;
    REQUIRE(s.init(1, 1000));
    REQUIRE(s.add_lpar(*l) == 1);
    Vcpu* v = s.pick(0);
    REQUIRE(v == &l->vcpus[0]);
    REQUIRE(l->xics.set_cppr(0, 0xff) == xics::Error::None);

    Env env{*l, *v};
    Frame f;
    f.opcode = H_CEDE;
    CHECK(dispatch(env, f) == H_SUCCESS);
    REQUIRE(env.after == After::Block);
    REQUIRE(l->xics.set_mfrr(0, 1) == xics::Error::None); // an IPI arrives meanwhile
    CHECK(s.wake(*v));
    s.put_back(*v, Scheduler::Outcome::Ceded);
    CHECK(v->state == VcpuState::Runnable);
    CHECK(s.pick(0) == v);
    s.put_back(*v, Scheduler::Outcome::Preempted);

    // The guest takes the IPI; without a wake the next cede sleeps until one comes.
    v = s.pick(0);
    REQUIRE(v == &l->vcpus[0]);
    u32 xirr = 0;
    REQUIRE(l->xics.accept(0, xirr) == xics::Error::None);
    REQUIRE((xirr & xics::kXisrMask) == xics::kIpiSource);
    REQUIRE(l->xics.set_mfrr(0, 0xff) == xics::Error::None);
    REQUIRE(l->xics.eoi(0, xirr) == xics::Error::None);
    REQUIRE_FALSE(l->xics.has_pending(0));
    Env env2{*l, *v};
    CHECK(dispatch(env2, f) == H_SUCCESS);
    REQUIRE(env2.after == After::Block);
    s.put_back(*v, Scheduler::Outcome::Ceded);
    CHECK(v->state == VcpuState::Ceded);
    CHECK(s.pick(0) == nullptr);
    CHECK(s.wake(*v));
    CHECK(s.pick(0) == v);
    s.put_back(*v, Scheduler::Outcome::Preempted);
}
