#include "common/sched.hpp"

#include "common/spinlock.hpp"

#include <doctest/doctest.h>

#include <algorithm>
#include <atomic>
#include <memory>
#include <string>
#include <thread>
#include <vector>

using namespace tessera;
using Outcome = Scheduler::Outcome;

namespace {

// Two running LPARs: "a" with 1 vcpu and "b" with 3, every vcpu started, all in one scheduler.
struct Machine {
    std::unique_ptr<LparTable> table = std::make_unique<LparTable>();
    Scheduler sched;
    Lpar* a = nullptr;
    Lpar* b = nullptr;

    explicit Machine(u32 pcpus) {
        REQUIRE(sched.init(pcpus, 1000));
        a = table->create("a", 1);
        b = table->create("b", 3);
        REQUIRE((a && b));
        for (Lpar* l : {a, b}) {
            REQUIRE(l->mark_loaded());
            REQUIRE(l->start());
            for (u32 i = 1; i < l->vcpu_count; ++i) REQUIRE(l->start_vcpu(i));
            REQUIRE(sched.add_lpar(*l) == l->vcpu_count);
        }
    }
};

std::string name(const Vcpu* v) {
    if (v == nullptr) return "idle";
    return std::string(v->lpar->name) + std::to_string(v->index);
}

// Runs `rounds` rounds of one slice on every pcpu in turn, each preempted at its end; returns who
// ran.
std::vector<std::string> run(Scheduler& s, u32 rounds) {
    std::vector<std::string> seen;
    for (u32 r = 0; r < rounds; ++r) {
        for (u32 p = 0; p < s.pcpus(); ++p) {
            Vcpu* v = s.pick(p);
            seen.push_back(name(v));
            if (v) s.put_back(*v, Outcome::Preempted);
        }
    }
    return seen;
}

} // namespace

TEST_CASE("init and slice validation") {
    Scheduler s;
    CHECK_FALSE(s.init(0, 100));
    CHECK_FALSE(s.init(kMaxPcpus + 1, 100));
    CHECK_FALSE(s.init(1, 0));
    CHECK(s.pick(0) == nullptr); // unusable after a failed init
    CHECK(s.init(2, 5000));
    CHECK(s.pcpus() == 2);
    CHECK(s.slice() == 5000);
    CHECK_FALSE(s.set_slice(0));
    CHECK(s.slice() == 5000);
    CHECK(s.set_slice(7));
    CHECK(s.slice() == 7);
    CHECK(s.pick(0) == nullptr); // nothing registered: the CPU idles
    CHECK(s.pick(2) == nullptr); // no such pcpu
    CHECK(s.current(2) == nullptr);
}

TEST_CASE("add refuses duplicates and vcpus without an LPAR") {
    Machine m(1);
    CHECK(m.sched.count() == 4);
    CHECK_FALSE(m.sched.add(m.a->vcpus[0]));
    CHECK(m.sched.add_lpar(*m.b) == 0);
    Vcpu orphan;
    CHECK_FALSE(m.sched.add(orphan));
    CHECK(m.sched.count() == 4);
}

TEST_CASE("round robin over the vcpus of two LPARs on one pcpu") {
    Machine m(1);
    const std::vector<std::string> expect = {"a0", "b0", "b1", "b2", "a0", "b0", "b1", "b2"};
    CHECK(run(m.sched, 8) == expect);
    // Plain round robin over vcpus: "b" with 3 vcpus got three times the slices of "a".
    CHECK(m.a->vcpus[0].slices == 2);
    CHECK(m.b->vcpus[2].slices == 2);
}

TEST_CASE("round robin on two pcpus, a vcpu never on two at once") {
    Machine m(2);
    Vcpu* p0 = m.sched.pick(0);
    Vcpu* p1 = m.sched.pick(1);
    CHECK(name(p0) == "a0");
    CHECK(name(p1) == "b0");
    CHECK(p0->state == VcpuState::Running);
    CHECK(p0->pcpu == 0);
    CHECK(p1->pcpu == 1);
    CHECK(m.sched.current(0) == p0);
    CHECK(m.sched.current(1) == p1);

    m.sched.put_back(*p0, Outcome::Preempted);
    CHECK(p0->state == VcpuState::Runnable);
    CHECK(p0->pcpu == kNoPcpu);
    CHECK(m.sched.current(0) == nullptr);
    CHECK(name(m.sched.pick(0)) == "b1");
    m.sched.put_back(*p1, Outcome::Preempted);
    CHECK(name(m.sched.pick(1)) == "b2");
    m.sched.put_back(*m.sched.current(0), Outcome::Preempted);
    CHECK(name(m.sched.pick(0)) == "a0");
    m.sched.put_back(*m.sched.current(1), Outcome::Preempted);
    CHECK(name(m.sched.pick(1)) == "b0");

    // Over many slices the two CPUs never hold the same vcpu and every vcpu keeps getting time.
    m.sched.put_back(*m.sched.current(0), Outcome::Preempted);
    m.sched.put_back(*m.sched.current(1), Outcome::Preempted);
    for (int i = 0; i < 50; ++i) {
        Vcpu* x = m.sched.pick(0);
        Vcpu* y = m.sched.pick(1);
        REQUIRE((x && y));
        CHECK(x != y);
        m.sched.put_back(*x, Outcome::Preempted);
        m.sched.put_back(*y, Outcome::Preempted);
    }
    for (u32 i = 0; i < 3; ++i) CHECK(m.b->vcpus[i].slices >= 25);
    CHECK(m.a->vcpus[0].slices >= 25);
}

TEST_CASE("more vcpus than pcpus: everyone runs in turn, extra CPUs idle when there is no work") {
    Machine m(2);
    const std::vector<std::string> expect = {"a0", "b0", "b1", "b2", "a0", "b0"};
    CHECK(run(m.sched, 3) == expect);

    // With 4 pcpus and only "a" runnable, the other CPUs idle.
    Scheduler s;
    REQUIRE(s.init(4, 10));
    REQUIRE(s.add_lpar(*m.a) == 1);
    CHECK(name(s.pick(0)) == "a0");
    CHECK(s.pick(1) == nullptr); // a0 is running on pcpu 0, never on two CPUs
    CHECK(s.pick(3) == nullptr);
}

TEST_CASE("a ceded vcpu sleeps until woken, then queues at the tail") {
    Machine m(1);
    Vcpu& a0 = m.a->vcpus[0];
    REQUIRE(m.sched.pick(0) == &a0);
    m.sched.put_back(a0, Outcome::Ceded);
    CHECK(a0.state == VcpuState::Ceded);
    CHECK(run(m.sched, 4) == std::vector<std::string>{"b0", "b1", "b2", "b0"});

    CHECK(m.sched.wake(a0));
    CHECK(a0.state == VcpuState::Runnable);
    CHECK(m.sched.wake(a0)); // already runnable: nothing changes
    CHECK(run(m.sched, 4) == std::vector<std::string>{"b1", "b2", "b0", "a0"});

    // Everyone ceded: the CPU idles.
    for (int i = 0; i < 4; ++i) m.sched.put_back(*m.sched.pick(0), Outcome::Ceded);
    CHECK(m.sched.pick(0) == nullptr);
    CHECK(m.sched.wake(m.b->vcpus[1]));
    CHECK(m.sched.pick(0) == &m.b->vcpus[1]);
}

TEST_CASE("a wake while running is not lost at the next cede") {
    Machine m(1);
    Vcpu* v = m.sched.pick(0);
    REQUIRE(v != nullptr);
    CHECK(m.sched.wake(*v)); // e.g. an IPI arrives while it runs
    CHECK(v->state == VcpuState::Running);
    m.sched.put_back(*v, Outcome::Ceded);
    CHECK(v->state == VcpuState::Runnable);
    CHECK_FALSE(v->wake_pending);

    // A wake consumed by a preemption does not carry over to a later cede.
    Vcpu* w = m.sched.pick(0);
    REQUIRE(w != nullptr);
    m.sched.wake(*w);
    m.sched.put_back(*w, Outcome::Preempted);
    while (m.sched.pick(0) != w) m.sched.put_back(*m.sched.current(0), Outcome::Preempted);
    m.sched.put_back(*w, Outcome::Ceded);
    CHECK(w->state == VcpuState::Ceded);
}

TEST_CASE("offline vcpus are not picked until the guest starts them again") {
    Machine m(1);
    Vcpu& b1 = m.b->vcpus[1];
    CHECK(m.sched.wake(b1)); // runnable: wake is a no-op success
    run(m.sched, 2);         // a0, b0
    REQUIRE(m.sched.pick(0) == &b1);
    m.sched.put_back(b1, Outcome::Offline);
    CHECK(b1.state == VcpuState::Offline);
    CHECK_FALSE(m.sched.wake(b1));
    CHECK(run(m.sched, 4) == std::vector<std::string>{"b2", "a0", "b0", "b2"});
    CHECK(m.b->start_vcpu(1));
    CHECK(name(m.sched.pick(0)) == "b1"); // a started CPU gets its first slice promptly
}

TEST_CASE("vcpus of a stopped or crashed LPAR are never picked") {
    Machine m(2);
    Vcpu* on0 = m.sched.pick(0); // a0
    Vcpu* on1 = m.sched.pick(1); // b0
    REQUIRE(name(on1) == "b0");
    m.sched.put_back(*on0, Outcome::Ceded);

    CHECK(m.b->crash("bad hcall"));
    // b0 is still physically on pcpu 1 until its slice ends; the others are gone at once.
    CHECK(on1->pcpu == 1);
    CHECK(m.sched.pick(0) == nullptr); // a0 ceded, b1/b2 belong to a crashed LPAR
    CHECK(m.sched.count() == 2);       // a0 and b0 (still held by pcpu 1)
    CHECK_FALSE(m.sched.wake(m.b->vcpus[2]));

    m.sched.put_back(*on1, Outcome::Preempted);
    CHECK(on1->state == VcpuState::Stopped);
    CHECK(on1->pcpu == kNoPcpu);
    CHECK(m.sched.count() == 1);
    CHECK(m.sched.pick(1) == nullptr);

    CHECK(m.sched.wake(m.a->vcpus[0]));
    CHECK(name(m.sched.pick(1)) == "a0");
    CHECK(m.a->stop("power off"));
    CHECK_FALSE(m.sched.wake(m.a->vcpus[0]));
    m.sched.put_back(m.a->vcpus[0], Outcome::Ceded);
    CHECK(m.a->vcpus[0].state == VcpuState::Stopped);
    CHECK(m.sched.count() == 0);
    CHECK(m.sched.pick(0) == nullptr);
    CHECK(m.sched.pick(1) == nullptr);
}

TEST_CASE("a registered vcpu of an LPAR that is not running yet is not picked") {
    auto table = std::make_unique<LparTable>();
    Lpar* l = table->create("later", 2);
    REQUIRE(l != nullptr);
    Scheduler s;
    REQUIRE(s.init(1, 10));
    CHECK(s.add_lpar(*l) == 2);
    CHECK(s.pick(0) == nullptr);
    CHECK_FALSE(s.wake(l->vcpus[0]));
    REQUIRE(l->mark_loaded());
    REQUIRE(l->start());
    CHECK(s.pick(0) == &l->vcpus[0]);
    CHECK(std::string(to_string(Outcome::Ceded)) == "ceded");
}

TEST_CASE("idle CPUs: claim_idle hands out another idle CPU once, waiting counts Runnable vcpus") {
    Machine m(3);
    Scheduler& s = m.sched;
    CHECK(s.waiting() == 4);
    CHECK(s.claim_idle(0) == kNoPcpu); // nobody idles yet
    s.set_idle(0, true);
    s.set_idle(2, true);
    s.set_idle(7, true); // no such CPU: ignored
    CHECK(s.is_idle(2));
    CHECK_FALSE(s.is_idle(7));
    CHECK(s.claim_idle(0) == 2); // not itself
    CHECK_FALSE(s.is_idle(2));   // claimed: its kick is on the way
    CHECK(s.claim_idle(0) == kNoPcpu);
    CHECK(s.claim_idle(1) == 0);
    Vcpu* v = s.pick(1);
    REQUIRE(v);
    CHECK(s.waiting() == 3);
    s.put_back(*v, Outcome::Ceded);
    CHECK(s.waiting() == 3);
    CHECK(s.wake(*v));
    CHECK(s.waiting() == 4);
}

TEST_CASE("next_timer: the earliest timer of a ceded vcpu that may run on the CPU") {
    Machine m(2);
    Scheduler& s = m.sched;
    const auto deadline = [](const Vcpu& v) { return v.arch.timer_at; };
    CHECK(s.next_timer(0, deadline) == 0); // nobody sleeps
    Vcpu* picked[4] = {};
    for (Vcpu*& v : picked) {
        v = s.pick(0);
        REQUIRE(v);
        s.put_back(*v, Outcome::Ceded);
    }
    m.a->vcpus[0].arch.timer_at = 5000;
    m.b->vcpus[0].arch.timer_at = 0; // no timer
    m.b->vcpus[1].arch.timer_at = 3000;
    m.b->vcpus[2].arch.timer_at = 9000;
    CHECK(s.next_timer(0, deadline) == 3000);
    m.b->cpu_affinity = 0b10; // b runs on CPU 1 only: its timers are not CPU 0's to watch
    CHECK(s.next_timer(0, deadline) == 5000);
    CHECK(s.next_timer(1, deadline) == 3000);
    CHECK(s.wake(m.b->vcpus[1])); // Runnable: its timer no longer wakes anyone
    CHECK(s.next_timer(1, deadline) == 5000);
    m.a->stop("test");
    CHECK(s.next_timer(0, deadline) == 0); // an ended LPAR's vcpus never wake
    CHECK(s.next_timer(1, deadline) == 9000);
}

TEST_CASE("cpu-affinity: a vcpu runs only on its LPAR's CPUs; idle CPUs are claimed for it") {
    Machine m(3);
    Scheduler& s = m.sched;
    m.b->cpu_affinity = 1u << 2; // b's three vcpus: CPU 2 only
    // CPUs 0 and 1 only ever get a's vcpu; CPU 2 takes b's in turn (and a's when it is free).
    for (int round = 0; round < 6; ++round) {
        for (u32 p = 0; p < 2; ++p) {
            Vcpu* v = s.pick(p);
            if (v == nullptr) continue;
            CHECK(v->lpar == m.a);
            s.put_back(*v, Outcome::Preempted);
        }
    }
    std::vector<std::string> seen;
    for (int i = 0; i < 4; ++i) {
        Vcpu* v = s.pick(2);
        REQUIRE(v);
        seen.push_back(name(v));
        s.put_back(*v, Outcome::Preempted);
    }
    CHECK(std::count(seen.begin(), seen.end(), "a0") <= 1);
    for (u32 i = 0; i < 3; ++i) CHECK(m.b->vcpus[i].ran_on == 1u << 2);
    CHECK(m.a->vcpus[0].ran_on != 0);
    CHECK((m.a->vcpus[0].ran_on & ~0b111u) == 0);
    CHECK(s.waiting() == 4);
    CHECK(s.waiting_for(0) == 1); // a0 only
    CHECK(s.waiting_for(2) == 4);

    // Idle CPUs: with a0 running, only CPU 2 is worth a kick for the waiting b vcpus.
    Vcpu* a0 = s.pick(0);
    REQUIRE(a0 == &m.a->vcpus[0]);
    s.set_idle(1, true);
    CHECK(s.claim_idle(0) == kNoPcpu); // CPU 1 may run none of them
    CHECK(s.is_idle(1));
    s.set_idle(2, true);
    CHECK(s.claim_idle(0) == 2);
    s.put_back(*a0, Outcome::Preempted);
    CHECK(s.claim_idle(0) == 1); // a0 waits now, and may run on CPU 1
}

TEST_CASE("threads: two CPUs pick and put back under one lock; a vcpu is never on both") {
    Machine m(2);
    Spinlock lock;
    std::atomic<int> on_cpu[4] = {};
    std::atomic<bool> twice{false};
    std::atomic<u64> slices{0};
    auto cpu = [&](u32 self) {
        for (int i = 0; i < 5000; ++i) {
            Vcpu* v;
            {
                LockGuard g(lock);
                v = m.sched.pick(self);
            }
            if (!v) continue;
            const int slot = static_cast<int>(v->lpar == m.a ? 0 : 1 + v->index);
            if (on_cpu[slot].fetch_add(1) != 0) twice = true; // "runs" outside the lock
            on_cpu[slot].fetch_sub(1);
            ++slices;
            LockGuard g(lock);
            m.sched.put_back(*v, i % 3 == 0 ? Outcome::Ceded : Outcome::Preempted);
            if (i % 3 == 0) m.sched.wake(*v);
        }
    };
    std::thread t0(cpu, 0), t1(cpu, 1);
    t0.join();
    t1.join();
    CHECK_FALSE(twice.load());
    CHECK(slices.load() == 10000); // 4 vcpus for 2 CPUs: neither ever found the queue empty
    for (u32 p = 0; p < 2; ++p) CHECK(m.sched.current(p) == nullptr);
}

// Every vcpu of the machine gets one slice, in turn, on the CPU `on(i)` names for the i-th,
// and cedes: all of them sleep, each with that CPU as its last one.
template <typename On>
std::vector<Vcpu*> run_once_and_cede(Scheduler& s, usize n, On on) {
    std::vector<Vcpu*> v;
    for (usize i = 0; i < n; ++i) {
        Vcpu* p = s.pick(on(i));
        REQUIRE(p);
        v.push_back(p);
        s.put_back(*p, Outcome::Ceded);
        CHECK(p->last_pcpu == on(i));
    }
    return v;
}

TEST_CASE("soft affinity: a woken vcpu is claimed for the idle CPU it last ran on") {
    Machine m(3);
    Scheduler& s = m.sched;
    auto v = run_once_and_cede(s, 4, [](usize i) { return static_cast<u32>(i % 3); });
    s.set_idle(1, true);
    s.set_idle(2, true);
    CHECK(s.wake(*v[2])); // it ran on CPU 2; CPU 1 idles too and comes first in order
    CHECK(s.claim_idle(0) == 2);
    CHECK(v[2]->claimed_by == 2);
    CHECK_FALSE(s.is_idle(2));
    CHECK(s.claim_idle(0) == kNoPcpu); // nothing else waits
    // The other CPUs leave it to CPU 2, however early they look.
    CHECK(s.waiting() == 1);
    CHECK(s.waiting_for(0) == 0);
    CHECK(s.waiting_for(2) == 1);
    CHECK(s.pick(0) == nullptr);
    CHECK(s.pick(2) == v[2]);
    CHECK(v[2]->claimed_by == kNoPcpu);
}

TEST_CASE("soft affinity: with its own CPU busy, a vcpu gets another idle CPU") {
    Machine m(3);
    Scheduler& s = m.sched;
    auto v = run_once_and_cede(s, 4, [](usize) { return 1u; });
    CHECK(s.wake(*v[3]));
    CHECK(s.pick(1) == v[3]); // CPU 1 is busy with it
    CHECK(s.wake(*v[0]));
    s.set_idle(2, true);
    CHECK(s.claim_idle(0) == 2);
    CHECK(v[0]->claimed_by == 2);
    CHECK(s.wake(*v[1]));
    CHECK(s.claim_idle(0) == kNoPcpu); // no idle CPU left: v[1] waits for any CPU
    CHECK(s.waiting_for(0) == 1);
}

TEST_CASE("soft affinity: a claim ends when its CPU picks another vcpu, or none") {
    Machine m(2);
    Scheduler& s = m.sched;
    auto v = run_once_and_cede(s, 4, [](usize) { return 1u; });
    s.set_idle(1, true);
    CHECK(s.wake(*v[2]));
    CHECK(s.claim_idle(0) == 1);
    // A vcpu started meanwhile (Lpar::start_vcpu: Runnable, first in line) goes to CPU 1 too,
    // but after the one it was kicked for.
    v[0]->state = VcpuState::Runnable;
    v[0]->ready_seq = 0;
    CHECK(s.pick(1) == v[2]);
    CHECK(s.pick(0) == v[0]);
    s.put_back(*v[0], Outcome::Ceded);
    s.put_back(*v[2], Outcome::Ceded);
    // CPU 1 is claimed for v[1]; v[1]'s LPAR ends before CPU 1 looks: it picks nothing, and its
    // claim on nothing holds nobody back.
    s.set_idle(1, true);
    CHECK(s.wake(*v[1]));
    CHECK(s.claim_idle(0) == 1);
    v[1]->lpar->stop("test");
    CHECK(s.pick(1) == nullptr);
    CHECK(v[1]->claimed_by == kNoPcpu);
}

TEST_CASE("threads: claims, idle CPUs and wake-ups from two CPUs; a vcpu is never on both") {
    Machine m(2);
    Spinlock lock;
    Vcpu* all[4] = {&m.a->vcpus[0], &m.b->vcpus[0], &m.b->vcpus[1], &m.b->vcpus[2]};
    std::atomic<int> on_cpu[4] = {};
    std::atomic<bool> twice{false};
    std::atomic<u64> slices{0}, idle{0};
    std::atomic<bool> lost{false};
    auto cpu = [&](u32 self) {
        for (int i = 0; i < 5000; ++i) {
            Vcpu* v;
            {
                LockGuard g(lock);
                // Now and then an interrupt for one sleeping vcpu in turn, handed to an idle
                // CPU (the run loop's tickle).
                if (Vcpu* w = all[(i / 4 + self) % 4]; i % 4 == 0 && w->state == VcpuState::Ceded) {
                    if (!m.sched.wake(*w)) lost = true;
                    while (m.sched.claim_idle(self) != kNoPcpu) {
                    }
                }
                v = m.sched.pick(self);
                m.sched.set_idle(self, v == nullptr);
            }
            if (!v) {
                ++idle;
                continue;
            }
            const int slot = static_cast<int>(v == all[0] ? 0 : 1 + v->index);
            if (on_cpu[slot].fetch_add(1) != 0) twice = true; // "runs" outside the lock
            on_cpu[slot].fetch_sub(1);
            ++slices;
            LockGuard g(lock);
            m.sched.put_back(*v, i % 2 == 0 ? Outcome::Ceded : Outcome::Preempted);
            while (m.sched.claim_idle(self) != kNoPcpu) {
            }
        }
    };
    std::thread t0(cpu, 0), t1(cpu, 1);
    t0.join();
    t1.join();
    CHECK_FALSE(twice.load());
    CHECK_FALSE(lost.load());
    CHECK(idle.load() > 0); // the queue ran empty: CPUs idled and were claimed
    CHECK(slices.load() > 1000);
    for (Vcpu* v : all) CHECK(v->slices > 100); // none was held back by a claim for long
    for (u32 p = 0; p < 2; ++p) CHECK(m.sched.current(p) == nullptr);
    MESSAGE("slices ", slices.load(), ", idle looks ", idle.load());
}
