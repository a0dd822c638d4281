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
    u64 ticks_armed() const {
        return m.lpar->arch.exits.count[static_cast<usize>(Exit::TickArmed)];
    }
};

} // namespace

TEST_CASE("predict_tick: the last interval again, half the slack late; nothing it cannot know") {
    constexpr u64 s = 100;
    CHECK(predict_tick(0, 5000, s, kHz) == 0);                 // no deadline before
    CHECK(predict_tick(5000, 5000, s, kHz) == 0);              // the guest wanted nothing new
    CHECK(predict_tick(6000, 5000, s, kHz) == 0);              // backwards
    CHECK(predict_tick(5000, 5000 + 16 * s - 1, s, kHz) == 0); // too short to be a tick
    CHECK(predict_tick(5000, 5000 + 16 * s, s, kHz) == 5000 + 32 * s + s / 2);
    CHECK(predict_tick(1000, 1000 + kHz, s, kHz) == 1000 + 2 * kHz + s / 2);
    CHECK(predict_tick(1000, 1001 + kHz, s, kHz) == 0); // over a second: not a tick
    const u64 top = ~u64{0} - 3000;
    CHECK(predict_tick(top - 4000, top, s, kHz) == 0); // would wrap
    CHECK(predict_tick(top - 4000, top - 1000, s, kHz) == top + 2000 + s / 2);
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
    CHECK(g.set_virq(kArea, 8) == hcall::H_PARAMETER); // no such flag
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
