// The vcpu's timer: H_IA32_SET_TIMER, and the next tick armed ahead at a tick's delivery for a
// guest that registered the timer's words (H_IA32_SET_VIRQ kVirqFlagTimer), on a fake machine.
#include "isa/ia32/vtimer.hpp"

#include "isa/ia32/cpu.hpp"
#include "isa/ia32/exit_reason.hpp"
#include "tests/unit/ia32/machine.hpp"

#include <arch/hcalls.hpp>
#include <doctest/doctest.h>
#include <tessera/arch.hpp>

using namespace tessera;
using namespace tessera::arch;
using tessera::arch::test::Kernel;
using tessera::arch::test::Machine;
using tessera::arch::test::Tsc;

namespace {

constexpr u32 kArea = 0x6000;
constexpr u64 kHz = 512'000'000; // tests/fake/plat_fake.cpp
constexpr u64 kSlack = kHz / 250'000;
constexpr u64 kTick = kHz / 250; // HZ=250

// A vcpu whose kernel registered its flags with the timer's words, interrupts enabled, the timer
// gate at 0x2020.
struct Guest {
    Machine m;
    Kernel k{m};
    Vcpu& v = k.v;
    hcall::Env env{*m.lpar, v};

    explicit Guest(u64 flags = kVirqFlagCr2 | kVirqFlagTimer) {
        k.gate(kVirqTimer, 0x2020);
        v.arch.regs.eip = 0x1000;
        set_vif(v, true);
        REQUIRE(set_virq(kArea, flags) == hcall::H_SUCCESS);
    }
    hcall::Ret set_virq(u64 area, u64 flags) {
        hcall::Frame f;
        f.opcode = H_IA32_SET_VIRQ;
        f.args[0] = area;
        f.args[3] = flags;
        return h_ia32_set_virq(env, f);
    }
    // The guest's clock event: it writes the deadline it wants, and makes the hcall when the
    // armed one is not within its slack (what the PV kernel does).
    bool want(u64 deadline) {
        m.poke(kArea + 4 * kVirqWantLo, static_cast<u32>(deadline));
        m.poke(kArea + 4 * kVirqWantHi, static_cast<u32>(deadline >> 32));
        const u64 a = armed();
        if (a >= deadline && a - deadline <= m.peek(kArea + 4 * kVirqSlack)) return false;
        hcall::Frame f;
        f.opcode = H_IA32_SET_TIMER;
        f.args[0] = deadline;
        REQUIRE(h_ia32_set_timer(env, f) == hcall::H_SUCCESS);
        return true;
    }
    u64 armed() {
        return u64{m.peek(kArea + 4 * kVirqArmedHi)} << 32 | m.peek(kArea + 4 * kVirqArmedLo);
    }
    // The tick at `now`: delivered (the handler's entry), then back to the interrupted code
    // with interrupts on, as its iret would.
    void tick(Tsc& tsc, u64 now) {
        tsc = now;
        REQUIRE(deliver_virq(v));
        REQUIRE(v.arch.regs.eip == 0x2020);
        v.arch.regs.eip = 0x1000;
        set_vif(v, true);
    }
    // Two ticks one kTick apart by hcall, from `start`: the stream known. The second's deadline.
    u64 two_ticks(Tsc& tsc, u64 start) {
        const u64 first = start + kTick, second = first + kTick;
        want(first);
        tick(tsc, first);
        want(second);
        tick(tsc, second);
        return second;
    }
    u64 ticks_armed() const {
        return m.lpar->arch.exits.count[static_cast<usize>(Exit::TickArmed)];
    }
};

} // namespace

TEST_CASE("tick_ahead: the guest's tick from its deadlines; its next tick, half the slack late") {
    constexpr u64 sl = 100, p = 10'000, hz = 10'000'000; // ticks from hz / 2000
    TickStream t;
    CHECK(tick_ahead(t, 5000, sl, hz) == 0); // the first deadline starts the stream
    CHECK(t.last == 5000);
    CHECK(tick_ahead(t, 5000, sl, hz) == 0);                 // not renewed
    CHECK(tick_ahead(t, 5000 + hz / 2000 - 1, sl, hz) == 0); // too soon to be a tick
    CHECK(t.period == 0);
    u64 last = 5000 + hz / 2000 - 1;
    CHECK(tick_ahead(t, last + p, sl, hz) == last + 2 * p + sl / 2); // the period
    last += p;
    CHECK(t.period == p);
    // On the stream, give or take the slack: the period re-measured at each next tick.
    CHECK(tick_ahead(t, last + p + sl, sl, hz) == last + 2 * (p + sl) + sl / 2);
    last += p + sl;
    CHECK(t.period == p + sl);
    CHECK(tick_ahead(t, last + p + sl, sl, hz) == last + 2 * (p + sl) + sl / 2);
    last += p + sl;
    const u64 q = p + sl;
    // An hrtimer between two ticks: the stream stays; its next tick is armed.
    CHECK(tick_ahead(t, last + q / 3, sl, hz) == last + q + sl / 2);
    CHECK(t.last == last);
    CHECK(t.period == q);
    // Three ticks skipped (an idle guest): the stream goes on from there, the period kept.
    CHECK(tick_ahead(t, last + 3 * q - sl / 2, sl, hz) == last + 4 * q - sl / 2 + sl / 2);
    last += 3 * q - sl / 2;
    CHECK(t.period == q);
    // The next tick: a hit again.
    CHECK(tick_ahead(t, last + q, sl, hz) == last + 2 * q + sl / 2);
    last += q;
    CHECK(t.misses == 0);
    // An hrtimer after skipped ticks: the stream's first tick after it.
    CHECK(tick_ahead(t, last + 2 * q + q / 2, sl, hz) == last + 3 * q + sl / 2);
    CHECK(t.misses == 1);
    // Just before the stream's next tick: that tick (timer_delivered drops it when it is due
    // within a quarter period of the delivery).
    CHECK(tick_ahead(t, last + 3 * q - q / 8, sl, hz) == last + 3 * q + sl / 2);
    CHECK(t.misses == 2);
    // Backwards, or more than a second on: a new stream, nothing armed.
    CHECK(tick_ahead(t, last - 1, sl, hz) == 0);
    CHECK(t.last == last - 1);
    CHECK(t.period == 0);
    TickStream far{1000, p, 1000, 0};
    CHECK(tick_ahead(far, 1001 + hz, sl, hz) == 0);
    CHECK(far.period == 0);
    // The end of time: nothing that would wrap.
    const u64 top = ~u64{0} - 3 * p;
    TickStream end{top - p, p, top - p, 0};
    CHECK(tick_ahead(end, top, sl, hz) == top + p + sl / 2);
    CHECK(tick_ahead(end, top + p, sl, hz) == top + 2 * p + sl / 2);
    CHECK(tick_ahead(end, top + 2 * p, sl, hz) == 0);
}

TEST_CASE("tick_ahead: a wrong period is dropped at the third miss in a row") {
    constexpr u64 sl = 100, p = 10'000, hz = 10'000'000; // ticks from hz / 2000
    TickStream t;
    const u64 a = 50'000;
    CHECK(tick_ahead(t, a, sl, hz) == 0);
    CHECK(tick_ahead(t, a + p, sl, hz) == a + 2 * p + sl / 2); // two hrtimers: period p
    // The tick is every 4 p: each a whole number of periods on, each a miss.
    u64 w = a + 5 * p;
    CHECK(tick_ahead(t, w, sl, hz) == w + p + sl / 2);
    w += 4 * p;
    CHECK(tick_ahead(t, w, sl, hz) == w + p + sl / 2);
    w += 4 * p;
    CHECK(tick_ahead(t, w, sl, hz) == w + 4 * p + sl / 2); // the third: 4 p from now on
    CHECK(t.period == 4 * p);
    w += 4 * p;
    CHECK(tick_ahead(t, w, sl, hz) == w + 4 * p + sl / 2);
    CHECK(t.misses == 0);
}

TEST_CASE("tick_ahead: hrtimers close together between ticks are not misses") {
    constexpr u64 sl = 100, p = 10'000, hz = 10'000'000; // ticks from hz / 2000 = 5,000
    TickStream t;
    const u64 a = 50'000;
    CHECK(tick_ahead(t, a, sl, hz) == 0);
    CHECK(tick_ahead(t, a + p, sl, hz) == a + 2 * p + sl / 2);
    u64 last = a + p;
    // A busy guest's timeouts, 300 apart (far under a tick): each arms the stream's next tick,
    // none counts against the period, however many come.
    for (u64 w = last + 300; w + sl < last + p; w += 300) {
        CHECK(tick_ahead(t, w, sl, hz) == last + p + sl / 2);
        CHECK(t.misses == 0);
        CHECK(t.period == p);
    }
    // The tick: a hit.
    CHECK(tick_ahead(t, last + p, sl, hz) == last + 2 * p + sl / 2);
    last += p;
    // Deadlines before the next tick but a tick's length after the last one delivered could
    // be ticks of a shorter period: they count, and the third starts a stream at their interval.
    TickStream w{last, 2 * p, last, 0};
    CHECK(tick_ahead(w, last + p, sl, hz) == last + 2 * p + sl / 2);
    CHECK(w.misses == 1);
    CHECK(tick_ahead(w, last + 2 * p, sl, hz) == last + 4 * p + sl / 2); // a hit of 2 p
    CHECK(tick_ahead(w, last + 3 * p, sl, hz) == last + 4 * p + sl / 2);
    CHECK(tick_ahead(w, last + 3 * p + p / 4, sl, hz) == last + 4 * p + sl / 2); // too close
    CHECK(w.misses == 1);
}

TEST_CASE("H_IA32_SET_VIRQ with the timer's words: 32 bytes, the armed deadline and slack in") {
    Guest g;
    Tsc tsc(1000);
    CHECK(g.armed() == 0);
    CHECK(g.m.peek(kArea + 4 * kVirqSlack) == kSlack);
    // Registered while a timer is armed: it shows at once.
    g.v.arch.timer_deadline = 0x1'2345'6789;
    REQUIRE(g.set_virq(kArea, kVirqFlagTimer) == hcall::H_SUCCESS);
    CHECK(g.armed() == 0x1'2345'6789);
    // Room for the 32 bytes: the last 28 bytes of the LPAR are too few; 32 will do.
    CHECK(g.set_virq(test::kLparSize - 28, kVirqFlagTimer) == hcall::H_PARAMETER);
    CHECK(g.set_virq(test::kLparSize - 12, kVirqFlagCr2) == hcall::H_SUCCESS);
    CHECK(g.set_virq(test::kLparSize - 32, kVirqFlagTimer) == hcall::H_SUCCESS);
    CHECK(g.set_virq(kArea, 64) == hcall::H_PARAMETER); // no such flag
    // A later deadline left in the words needs the words.
    CHECK(g.set_virq(kArea, kVirqFlagLater) == hcall::H_PARAMETER);
    CHECK(g.set_virq(kArea, kVirqFlagTimer | kVirqFlagLater) == hcall::H_SUCCESS);
    // Raising its own timer needs the guest to take an owed timer itself.
    CHECK(g.set_virq(kArea, kVirqFlagTimer | kVirqFlagRaise) == hcall::H_PARAMETER);
    CHECK(g.set_virq(kArea, kVirqFlagTimer | kVirqFlagSelf | kVirqFlagRaise) == hcall::H_SUCCESS);
}

TEST_CASE("a steady tick: the hcall at the first two ticks, then none while the guest agrees") {
    Guest g;
    Tsc tsc(1'000'000);
    u64 want = 1'000'000 + kTick;
    CHECK(g.want(want)); // nothing armed yet
    CHECK(g.armed() == want);
    g.tick(tsc, want);
    CHECK(g.armed() == 0); // one deadline known: no interval yet
    want += kTick;
    CHECK(g.want(want));
    g.tick(tsc, want);
    // The next at the same interval, half the slack late.
    CHECK(g.armed() == want + kTick + kSlack / 2);
    CHECK(g.ticks_armed() == 1);
    // The guest's deadlines jitter a little either way (within a microsecond, measured): no
    // hcall while the jitter's second difference is within half the slack, and a tick at most
    // the slack late, never early.
    const i64 eighth = static_cast<i64>(kSlack / 8);
    const i64 jitter[] = {0, 3, -5, eighth, -eighth};
    u64 nominal = want;
    for (const i64 j : jitter) {
        nominal += kTick;
        const u64 w = nominal + static_cast<u64>(j);
        CHECK_FALSE(g.want(w));
        const u64 fires = g.armed();
        CHECK(fires >= w);
        CHECK(fires - w <= kSlack);
        tsc = fires - 1;
        REQUIRE(deliver_virq(g.v));
        CHECK(g.v.arch.regs.eip == 0x1000); // not before it is due
        g.tick(tsc, fires);
    }
    CHECK(g.ticks_armed() == 6);
    // A deadline the guess misses (earlier, or more than the slack before it): the hcall, and
    // the timer where the guest wants it.
    nominal += kTick;
    CHECK(g.want(nominal - 2 * kSlack));
    CHECK(g.armed() == nominal - 2 * kSlack);
    CHECK(g.v.arch.timer_deadline == nominal - 2 * kSlack);
    CHECK(g.want(nominal + 2 * kSlack));
    CHECK(g.armed() == nominal + 2 * kSlack);
    // The guest stops its timer: nothing armed, and no tick comes.
    CHECK(g.want(0));
    CHECK(g.armed() == 0);
    tsc = nominal + 10 * kTick;
    REQUIRE(deliver_virq(g.v));
    CHECK(g.v.arch.regs.eip == 0x1000);
}

TEST_CASE("a tick the guest did not ask for again arms nothing more") {
    Guest g;
    Tsc tsc(1'000'000);
    const u64 first = 1'000'000 + kTick, second = first + kTick;
    g.want(first);
    g.tick(tsc, first);
    g.want(second);
    g.tick(tsc, second);
    const u64 guessed = g.armed();
    REQUIRE(guessed != 0);
    // The guessed tick comes without the guest having written a new deadline (say its tick
    // stopped): it is delivered, and nothing is armed after it.
    g.tick(tsc, guessed);
    CHECK(g.armed() == 0);
    CHECK(g.v.arch.timer_deadline == 0);
    // Made-up words from the guest: a guess at worst, never past the end of time.
    g.m.poke(kArea + 4 * kVirqWantLo, 0xffff'ffff);
    g.m.poke(kArea + 4 * kVirqWantHi, 0xffff'ffff);
    g.v.arch.timer_deadline = guessed + 1;
    g.tick(tsc, guessed + 1);
    CHECK(g.armed() == 0);
}

TEST_CASE("without the timer's words: a one-shot timer, nothing armed ahead or published") {
    Guest g(kVirqFlagCr2);
    Tsc tsc(1'000'000);
    u64 want = 1'000'000;
    for (int i = 0; i < 4; ++i) {
        want += kTick;
        g.want(want);
        CHECK(g.v.arch.timer_deadline == want);
        g.tick(tsc, want);
        CHECK(g.v.arch.timer_deadline == 0);
    }
    CHECK(g.ticks_armed() == 0);
    CHECK(g.m.peek(kArea + 4 * kVirqArmedLo) == 0); // the guest's own memory: untouched
    CHECK(g.m.peek(kArea + 4 * kVirqSlack) == 0);
}

TEST_CASE("an hrtimer between ticks: its hcall, then the tick goes on without one") {
    Guest g;
    Tsc tsc(1'000'000);
    u64 tick = g.two_ticks(tsc, 1'000'000);
    // A sleep ends before the next tick: the hcall for it.
    const u64 sleep = tick + kTick / 3;
    CHECK(g.want(sleep));
    g.tick(tsc, sleep);
    // After it the guest wants its next tick again: already armed.
    tick += kTick;
    CHECK(g.armed() == tick + kSlack / 2);
    CHECK_FALSE(g.want(tick));
    g.tick(tsc, g.armed());
    tick += kTick;
    CHECK_FALSE(g.want(tick));
    CHECK(g.ticks_armed() == 3);
}

TEST_CASE("a tick due within a quarter period of its delivery is not armed: the guest asks") {
    Guest g;
    Tsc tsc(1'000'000);
    u64 tick = g.two_ticks(tsc, 1'000'000);
    REQUIRE(g.armed() == tick + kTick + kSlack / 2);
    // The next one is delivered late (the host stalled the machine): what would come next is due
    // in under a quarter period, so nothing is armed.
    tick += kTick;
    CHECK_FALSE(g.want(tick));
    g.tick(tsc, tick + kTick - kTick / 8);
    CHECK(g.armed() == 0);
    CHECK(g.v.arch.timer_deadline == 0);
    // The guest's next deadline by hcall; the one after it is armed ahead again.
    tick += kTick;
    CHECK(g.want(tick));
    g.tick(tsc, tick);
    CHECK(g.armed() == tick + kTick + kSlack / 2);
    // An hrtimer just before the tick: the tick is not armed after it as a tick of the stream,
    // but as the deadline the hrtimer replaced.
    const u64 sleep = tick + kTick - kTick / 8;
    CHECK(g.want(sleep));
    g.tick(tsc, sleep);
    CHECK(g.armed() == tick + kTick + kSlack / 2);
    CHECK_FALSE(g.want(tick + kTick));
}

TEST_CASE("the deadline an hrtimer replaced is armed again at its delivery, without a stream") {
    Guest g;
    Tsc tsc(1'000'000);
    // No tick known: the guest's next tick by hcall, then an hrtimer before it.
    const u64 tick = 1'000'000 + kTick, sleep = 1'000'000 + kTick / 10;
    CHECK(g.want(tick));
    CHECK(g.want(sleep));
    CHECK(g.v.arch.timer_behind[0] == tick);
    g.tick(tsc, sleep);
    // The tick the sleep replaced is armed again: the guest's handler asks for it, no hcall.
    CHECK(g.armed() == tick);
    CHECK_FALSE(g.want(tick));
    CHECK(g.v.arch.timer_behind[0] == 0);
    // Two hrtimers in a row: the second replaces the first, which comes back after it.
    const u64 s1 = tick + kTick / 2, s2 = tick + kTick / 4;
    g.tick(tsc, tick);
    CHECK(g.want(s1));
    CHECK(g.want(s2));
    g.tick(tsc, s2);
    CHECK(g.armed() == s1);
    // A later deadline (the hrtimer cancelled) or none forgets it: nothing is armed after.
    const u64 s3 = s1 + kTick / 8, far = s1 + kTick;
    g.tick(tsc, s1);
    CHECK(g.want(far));
    CHECK(g.want(s3));
    CHECK(g.v.arch.timer_behind[0] == far);
    CHECK(g.want(far + 1)); // s3 cancelled, its place taken by a later one
    CHECK(g.v.arch.timer_behind[0] == 0);
    CHECK(g.want(s3));
    CHECK(g.want(0));
    CHECK(g.v.arch.timer_behind[0] == 0);
    // Due within the handler's time after the delivery: the handler takes it, it is not armed
    // (what the deliveries so far make of a tick may be).
    CHECK(g.want(far));
    const u64 close = far - kHz / 20'000; // 50 microseconds before it
    CHECK(g.want(close));
    g.tick(tsc, close);
    CHECK(g.armed() != far);
    CHECK(g.v.arch.timer_behind[0] == 0);
}

TEST_CASE("deadlines replaced one after another come back in order, each at a delivery") {
    Guest g;
    Tsc tsc(1'000'000);
    // Sleepers that each come before the last (stress-ng nanosleep's threads): each hcall puts
    // the armed deadline behind it.
    const u64 d4 = 1'000'000 + kTick, d3 = d4 - kTick / 8, d2 = d3 - kTick / 8, d1 = d2 - kTick / 8,
              d0 = d1 - kTick / 8;
    for (const u64 d : {d4, d3, d2, d1, d0}) CHECK(g.want(d));
    // Four are kept, the earliest: d4, the latest, is left out.
    CHECK(g.v.arch.timer_behind[0] == d1);
    CHECK(g.v.arch.timer_behind[3] == d4);
    // Each delivery arms the next; the handler asks for it, no hcall.
    g.tick(tsc, d0);
    CHECK(g.armed() == d1);
    CHECK_FALSE(g.want(d1));
    g.tick(tsc, d1);
    CHECK(g.armed() == d2);
    CHECK_FALSE(g.want(d2));
    // d3 cancelled meanwhile: the guest asks for d4 after d2, which forgets d3 and arms d4.
    g.tick(tsc, d2);
    CHECK(g.armed() == d3);
    CHECK(g.want(d4));
    CHECK(g.v.arch.timer_behind[0] == 0);
    // One due while the handler may still run is the handler's: not armed, and forgotten.
    const u64 e = d4 + kTick, e0 = e - kHz / 20'000; // 50 microseconds before it
    g.tick(tsc, d4);
    CHECK(g.want(e));
    CHECK(g.want(e0));
    CHECK(g.v.arch.timer_behind[0] == e);
    g.tick(tsc, e0);
    CHECK(g.armed() != e);
    CHECK(g.v.arch.timer_behind[0] == 0);
    // The same deadline twice is kept once.
    const u64 f = e + kTick, f0 = f - kTick / 2;
    CHECK(g.want(f));
    CHECK(g.want(f0));
    CHECK(g.want(f));
    CHECK(g.want(f0));
    CHECK(g.v.arch.timer_behind[0] == f);
    CHECK(g.v.arch.timer_behind[1] == 0);
}

namespace {

u32 pending_word(Guest& g) {
    return g.m.peek(kArea + 4 * kVirqPending);
}
u64 count_of(Guest& g, Exit e) {
    return g.m.lpar->arch.exits.count[static_cast<usize>(e)];
}

} // namespace

TEST_CASE(
    "kVirqFlagSelf: a held timer is offered with the next tick armed; taken, it is owed no more") {
    Guest g(kVirqFlagCr2 | kVirqFlagTimer | kVirqFlagSelf);
    Tsc tsc(1'000'000);
    const u64 first = 1'000'000 + kTick, second = first + kTick;
    g.want(first);
    g.tick(tsc, first);
    g.want(second);
    // Expired while the guest has interrupts off: held and offered (2), not delivered; the
    // delivery's bookkeeping is done already, so the next tick is armed ahead and shown before
    // the guest's handler sets its next deadline.
    set_vif(g.v, false);
    tsc = second;
    REQUIRE(deliver_virq(g.v));
    CHECK(g.v.arch.regs.eip == 0x1000);
    CHECK(pending_word(g) == kVirqPendingTimer);
    CHECK(g.armed() == second + kTick + kSlack / 2);
    CHECK(timer_pending(g.v)); // owed
    // Nothing taken yet: the next exit changes nothing.
    timer_sync_owed(g.v);
    CHECK(timer_pending(g.v));
    CHECK(count_of(g, Exit::VirqSelf) == 0);
    // The guest takes it (pending 2 -> 0, its handler runs, its next tick fits what is armed):
    // at the next exit it is owed no more.
    g.m.poke(kArea + 4 * kVirqPending, 0);
    CHECK_FALSE(g.want(second + kTick));
    timer_sync_owed(g.v);
    CHECK(count_of(g, Exit::VirqSelf) == 1);
    CHECK(count_of(g, Exit::VirqTimer) == 2);
    CHECK_FALSE(timer_pending(g.v));
    // Once only; and interrupts on again: nothing is delivered a second time.
    timer_sync_owed(g.v);
    CHECK(count_of(g, Exit::VirqSelf) == 1);
    set_vif(g.v, true);
    REQUIRE(deliver_virq(g.v));
    CHECK(g.v.arch.regs.eip == 0x1000);
    CHECK(pending_word(g) == 0);
}

TEST_CASE("kVirqFlagSelf: an owed timer not taken is delivered once, also after a new deadline") {
    Guest g(kVirqFlagCr2 | kVirqFlagTimer | kVirqFlagSelf);
    Tsc tsc(1'000'000);
    const u64 first = 1'000'000 + kTick;
    g.want(first);
    set_vif(g.v, false);
    tsc = first;
    REQUIRE(deliver_virq(g.v));
    REQUIRE(pending_word(g) == kVirqPendingTimer);
    // The guest enables interrupts through the iret gate instead: delivered by us, once.
    set_vif(g.v, true);
    timer_sync_owed(g.v);
    REQUIRE(deliver_virq(g.v));
    CHECK(g.v.arch.regs.eip == 0x2020);
    CHECK(pending_word(g) == 0);
    CHECK(count_of(g, Exit::VirqSelf) == 0);
    g.v.arch.regs.eip = 0x1000;
    REQUIRE(deliver_virq(g.v));
    CHECK(g.v.arch.regs.eip == 0x1000);
    // Offered again, then the guest sets a later deadline before it takes it: the interrupt
    // stays owed (as a local APIC's requested one does when its timer is set again), and is
    // delivered once when interrupts are enabled; the new deadline stays armed.
    set_vif(g.v, false);
    const u64 again = first + kTick / 2;
    g.want(again);
    tsc = again;
    REQUIRE(deliver_virq(g.v));
    REQUIRE(pending_word(g) == kVirqPendingTimer);
    const u64 later = again + kTick;
    CHECK(g.want(later));
    timer_sync_owed(g.v);
    REQUIRE(deliver_virq(g.v));
    CHECK(pending_word(g) == kVirqPendingTimer); // still owed
    set_vif(g.v, true);
    REQUIRE(deliver_virq(g.v));
    CHECK(g.v.arch.regs.eip == 0x2020);
    CHECK(g.v.arch.timer_deadline == later);
    CHECK_FALSE(timer_pending(g.v));
}

TEST_CASE("kVirqFlagSelf: the timer held with an external interrupt, or without the flag, is 1") {
    for (const u64 self : {kVirqFlagSelf, u64{0}}) {
        Guest g(kVirqFlagCr2 | kVirqFlagTimer | self);
        Tsc tsc(1'000'000);
        g.want(1'000'000 + kTick);
        set_vif(g.v, false);
        tsc = 1'000'000 + kTick;
        REQUIRE(deliver_virq(g.v));
        CHECK(pending_word(g) == (self ? kVirqPendingTimer : 1));
        // An IPI to this vcpu's server: both held, taken through the iret gate, which delivers
        // them one at a time. The guest clears only a 2.
        REQUIRE(g.m.lpar->xics.set_cppr(0, 0xff) == xics::Error::None);
        REQUIRE(g.m.lpar->xics.set_mfrr(0, 5) == xics::Error::None);
        REQUIRE(g.m.lpar->xics.has_pending(0));
        REQUIRE(deliver_virq(g.v));
        CHECK(pending_word(g) == 1);
        timer_sync_owed(g.v);
        CHECK(count_of(g, Exit::VirqSelf) == 0);
        CHECK(timer_pending(g.v));
        g.k.gate(kVirqExternal, 0x2040);
        set_vif(g.v, true);
        REQUIRE(deliver_virq(g.v));
        CHECK(g.v.arch.regs.eip == 0x2040); // the external interrupt first
        CHECK(timer_pending(g.v));          // the timer still due, for the next entry
    }
}

TEST_CASE("kVirqFlagRaise: a timer the guest raised itself is owed from the exit that finds it") {
    Guest g(kVirqFlagCr2 | kVirqFlagTimer | kVirqFlagSelf | kVirqFlagRaise);
    Tsc tsc(1'000'000);
    const u64 tick = g.two_ticks(tsc, 1'000'000);
    const u64 armed = g.armed();
    REQUIRE(armed == tick + kTick + kSlack / 2);
    const u64 vtimer = count_of(g, Exit::VirqTimer);
    // Raised (0 -> 2) with interrupts off and taken (2 -> 0) before any exit: the hypervisor
    // never knew, and nothing changes.
    set_vif(g.v, false);
    g.m.poke(kArea + 4 * kVirqPending, kVirqPendingTimer);
    g.m.poke(kArea + 4 * kVirqPending, 0);
    timer_sync_owed(g.v);
    CHECK_FALSE(timer_pending(g.v));
    CHECK(count_of(g, Exit::VirqRaised) == 0);
    // Raised, then an exit before the guest enables interrupts: owed, offered at the entry,
    // still the guest's to take. Nothing armed changes (its deadline was not the hypervisor's).
    g.m.poke(kArea + 4 * kVirqPending, kVirqPendingTimer);
    timer_sync_owed(g.v);
    CHECK(count_of(g, Exit::VirqRaised) == 1);
    CHECK(timer_pending(g.v));
    REQUIRE(deliver_virq(g.v));
    CHECK(g.v.arch.regs.eip == 0x1000);
    CHECK(pending_word(g) == kVirqPendingTimer);
    CHECK(g.armed() == armed);
    CHECK(g.v.arch.timer_deadline == armed);
    // Taken by the guest: owed no more, counted as one it took itself, not raised again.
    g.m.poke(kArea + 4 * kVirqPending, 0);
    timer_sync_owed(g.v);
    CHECK_FALSE(timer_pending(g.v));
    CHECK(count_of(g, Exit::VirqSelf) == 1);
    CHECK(count_of(g, Exit::VirqTimer) == vtimer + 1);
    CHECK(count_of(g, Exit::VirqRaised) == 1);
    // Raised again and left alone: delivered once when interrupts are enabled, through the
    // timer's vector; the armed tick stays armed.
    g.m.poke(kArea + 4 * kVirqPending, kVirqPendingTimer);
    timer_sync_owed(g.v);
    set_vif(g.v, true);
    REQUIRE(deliver_virq(g.v));
    CHECK(g.v.arch.regs.eip == 0x2020);
    CHECK(pending_word(g) == 0);
    CHECK(g.v.arch.timer_deadline == armed);
    g.v.arch.regs.eip = 0x1000;
    set_vif(g.v, true);
    REQUIRE(deliver_virq(g.v));
    CHECK(g.v.arch.regs.eip == 0x1000); // once
    CHECK(count_of(g, Exit::VirqRaised) == 2);
    // The armed tick still comes at its time.
    g.tick(tsc, armed);
    CHECK(count_of(g, Exit::VirqTimer) == vtimer + 3);
}

TEST_CASE("kVirqFlagRaise: without the flag a 2 the hypervisor did not write is not a timer") {
    Guest g(kVirqFlagCr2 | kVirqFlagTimer | kVirqFlagSelf);
    Tsc tsc(1'000'000);
    g.want(1'000'000 + kTick);
    set_vif(g.v, false);
    g.m.poke(kArea + 4 * kVirqPending, kVirqPendingTimer);
    timer_sync_owed(g.v);
    CHECK_FALSE(timer_pending(g.v));
    CHECK(count_of(g, Exit::VirqRaised) == 0);
    REQUIRE(deliver_virq(g.v));
    CHECK(pending_word(g) == 0); // rewritten: nothing is held
}

namespace {

// The guest's clock event with kVirqFlagLater: as Guest::want, and no hcall either when the
// armed deadline comes before the one it wants (what the PV kernel does).
bool want_later(Guest& g, u64 deadline) {
    const u64 a = g.armed();
    if (a != 0 && a < deadline) {
        g.m.poke(kArea + 4 * kVirqWantLo, static_cast<u32>(deadline));
        g.m.poke(kArea + 4 * kVirqWantHi, static_cast<u32>(deadline >> 32));
        return false;
    }
    return g.want(deadline);
}

} // namespace

TEST_CASE("kVirqFlagLater: a later deadline left unasked is armed at the next exit, the earlier "
          "one not delivered") {
    Guest g(kVirqFlagCr2 | kVirqFlagTimer | kVirqFlagLater);
    Tsc tsc(1'000'000);
    const u64 tick = 1'000'000 + kTick, timeout = 1'000'000 + kTick / 50;
    CHECK(g.want(tick));
    CHECK(g.want(timeout)); // earlier: the hcall, the tick behind it
    CHECK(g.v.arch.timer_behind[0] == tick);
    // The timeout cancelled: the guest wants its tick again, and leaves the timeout armed.
    CHECK_FALSE(want_later(g, tick));
    CHECK(g.v.arch.timer_deadline == timeout);
    // The timeout's exit: the tick armed instead and shown, nothing delivered.
    tsc = timeout;
    timer_sync_want(g.v);
    CHECK(g.v.arch.timer_deadline == tick);
    CHECK(g.armed() == tick);
    CHECK(g.v.arch.timer_behind[0] == 0);
    CHECK(count_of(g, Exit::TimerLater) == 1);
    REQUIRE(deliver_virq(g.v));
    CHECK(g.v.arch.regs.eip == 0x1000);
    CHECK_FALSE(timer_pending(g.v));
    // Nothing new: the next exits change nothing, and the tick comes when it is due.
    timer_sync_want(g.v);
    CHECK(count_of(g, Exit::TimerLater) == 1);
    g.tick(tsc, tick);
    CHECK(count_of(g, Exit::VirqTimer) == 1);
}

TEST_CASE("kVirqFlagLater: a stale or earlier want, or nothing armed, changes nothing") {
    Guest g(kVirqFlagCr2 | kVirqFlagTimer | kVirqFlagLater);
    Tsc tsc(1'000'000);
    // Two ticks by hcall: the third armed ahead, after the guest's last want (now stale).
    const u64 second = g.two_ticks(tsc, 1'000'000);
    const u64 ahead = g.armed();
    REQUIRE(ahead == second + kTick + kSlack / 2);
    timer_sync_want(g.v);
    CHECK(g.armed() == ahead);
    // An earlier want the guest has not made its hcall for yet (an exit between its store and
    // the hcall): left to the hcall.
    g.m.poke(kArea + 4 * kVirqWantLo, static_cast<u32>(second + kTick / 2));
    g.m.poke(kArea + 4 * kVirqWantHi, static_cast<u32>((second + kTick / 2) >> 32));
    timer_sync_want(g.v);
    CHECK(g.armed() == ahead);
    // Nothing armed: a want is not taken (the guest asks by hcall then).
    CHECK(g.want(0));
    g.m.poke(kArea + 4 * kVirqWantLo, static_cast<u32>(ahead + kTick));
    g.m.poke(kArea + 4 * kVirqWantHi, static_cast<u32>((ahead + kTick) >> 32));
    timer_sync_want(g.v);
    CHECK(g.v.arch.timer_deadline == 0);
    CHECK(count_of(g, Exit::TimerLater) == 0);
}

TEST_CASE("without kVirqFlagLater a later want is the guest's business until it asks") {
    Guest g;
    Tsc tsc(1'000'000);
    const u64 timeout = 1'000'000 + kTick / 50;
    CHECK(g.want(timeout));
    g.m.poke(kArea + 4 * kVirqWantLo, static_cast<u32>(timeout + kTick));
    g.m.poke(kArea + 4 * kVirqWantHi, static_cast<u32>((timeout + kTick) >> 32));
    timer_sync_want(g.v);
    CHECK(g.v.arch.timer_deadline == timeout);
    g.tick(tsc, timeout); // delivered as armed
    CHECK(count_of(g, Exit::VirqTimer) == 1);
}
