#include "isa/ia32/vtimer.hpp"

#include "isa/ia32/cpu.hpp"
#include "isa/ia32/exit_reason.hpp"

#include <arch/hcalls.hpp>
#include <tessera/arch.hpp>
#include <tessera/hot.hpp>

namespace tessera::arch {

u64 tick_slack() {
    return plat::timebase_hz() / 250'000;
}

namespace {

// `base` + `late`, or 0 where that would wrap.
u64 later(u64 base, u64 late) {
    return base > ~u64{0} - late ? 0 : base + late;
}

// The shortest period taken for a tick: half a millisecond (Linux's HZ is at most 1000).
u64 min_tick(u64 hz) {
    return hz / 2000;
}

// How long the guest's handler may still run after the interrupt is delivered: a deadline due
// within it is the handler's to take (Linux's hrtimer_interrupt runs what expired meanwhile).
u64 handler_time(u64 hz) {
    return hz / 10'000; // 100 microseconds
}

using Behind = u64[VcpuState::kTimerBehind];

// Forgets the deadlines behind up to `upto`, inclusive (0 forgets none; ~0 all).
void behind_drop(Behind& b, u64 upto) {
    u32 kept = 0;
    for (const u64 d : b)
        if (d > upto) b[kept++] = d;
    while (kept < VcpuState::kTimerBehind) b[kept++] = 0;
}

// Keeps `d` behind, in order; when all are taken the latest is the one left out.
void behind_push(Behind& b, u64 d) {
    u32 at = 0;
    while (at < VcpuState::kTimerBehind && b[at] != 0 && b[at] < d) ++at;
    if (at == VcpuState::kTimerBehind || b[at] == d) return;
    for (u32 i = VcpuState::kTimerBehind - 1; i > at; --i) b[i] = b[i - 1];
    b[at] = d;
}

} // namespace

TESSERA_HOT u64 tick_ahead(TickStream& stream, u64 want, u64 slack, u64 hz) {
    if (want == stream.prev) return 0;
    const u64 prev = stream.prev;
    stream.prev = want;
    if (stream.period != 0 && want > stream.last && want - stream.last <= hz) {
        const u64 gap = want - stream.last, p = stream.period;
        const u64 ticks = (gap + p / 2) / p, on = ticks * p;
        const bool whole = ticks >= 1 && (gap > on ? gap - on : on - gap) <= slack;
        if (whole && ticks == 1) {
            stream = TickStream{want, gap, want, 0};
            return later(want, gap + slack / 2);
        }
        // An hrtimer before the stream's next tick and soon after the last deadline delivered (a
        // busy guest's sleeps and timeouts, thousands per tick) says nothing against the period:
        // only a deadline that could itself be a tick counts as a miss.
        const bool between =
            gap + slack < p && prev != 0 && want > prev && want - prev < min_tick(hz);
        if (between || ++stream.misses < 3) {
            if (whole) stream.last = want; // ticks skipped: the stream goes on from here
            return later(stream.last, ((want - stream.last) / p + 1) * p + slack / 2);
        }
    }
    const bool tick = prev != 0 && want > prev && want - prev >= min_tick(hz) && want - prev <= hz;
    stream = TickStream{want, tick ? want - prev : 0, want, 0};
    return tick ? later(want, stream.period + slack / 2) : 0;
}

TESSERA_HOT bool timer_publish(Vcpu& v) {
    const VcpuState& s = v.arch;
    if (!s.virq_on || !s.virq_timer) return true;
    const u64 slack = tick_slack();
    if (virq_store(v, kVirqArmedLo, static_cast<u32>(s.timer_deadline)) &&
        virq_store(v, kVirqArmedHi, static_cast<u32>(s.timer_deadline >> 32)) &&
        virq_store(v, kVirqSlack, slack > 0xffff'ffff ? 0xffff'ffff : static_cast<u32>(slack)))
        return true;
    crash(v, "timer words at %#x outside the LPAR", s.virq_area + 4 * kVirqWantLo);
    return false;
}

bool timer_arm(Vcpu& v, u64 deadline) {
    v.arch.timer_deadline = deadline;
    return timer_publish(v);
}

TESSERA_HOT bool timer_delivered(Vcpu& v) {
    VcpuState& s = v.arch;
    u64 next = 0;
    if (s.virq_on && s.virq_timer) {
        // Written by the guest whenever it likes: a torn or made-up value only makes a worse
        // guess, and the guest checks every guess before it relies on it.
        const u64 want = u64{virq_load(v, kVirqWantHi)} << 32 | virq_load(v, kVirqWantLo);
        next = tick_ahead(s.tick, want, tick_slack(), plat::timebase_hz());
        // Not a tick due while the guest may still be in this interrupt's handler (an hrtimer
        // just before it, or a delivery late because the host stalled the machine): Linux takes
        // it there, and an interrupt armed for it would only come again. The guest asks.
        const u64 now = timebase();
        if (next != 0 && next < now + s.tick.period / 4) next = 0;
        // The earliest deadline this one (or one before it) replaced, still ahead: what the
        // guest wants next unless it cancelled it, whether or not its tick is known (a busy
        // guest's hrtimers, thousands per tick, come too close together to show it). Those due
        // while the handler may still run are its own; the others wait for later deliveries.
        behind_drop(s.timer_behind, now + handler_time(plat::timebase_hz()));
        const u64 behind = s.timer_behind[0];
        if (behind != 0 && (next == 0 || behind < next)) {
            next = behind;
            behind_drop(s.timer_behind, behind);
        }
        if (next != 0) count(v, Exit::TickArmed);
    } else {
        behind_drop(s.timer_behind, ~u64{0});
    }
    return timer_arm(v, next);
}

TESSERA_HOT void timer_sync_owed(Vcpu& v) {
    VcpuState& s = v.arch;
    if (!s.virq_self) return;
    const u32 pending = virq_load(v, kVirqPending);
    // Raised by the guest (0 -> 2, kVirqFlagRaise): owed from now on, as an offer is; nothing
    // armed changes, and there is no delivery's bookkeeping to do.
    if (!s.timer_owed && s.virq_raise && pending == kVirqPendingTimer) {
        s.timer_owed = true;
        count(v, Exit::VirqRaised);
        return;
    }
    // Taken: the guest changed `pending` from 2 to 0 and ran its handler (only the guest clears
    // it while an interrupt is owed: an entry rewrites it, and delivers what is owed, whenever
    // the virtual IF is set).
    if (!s.timer_owed || pending != 0) return;
    s.timer_owed = false;
    count(v, Exit::VirqTimer);
    count(v, Exit::VirqSelf);
}

// ---- The arch contract and the hcall -----------------------------------------------------
TESSERA_HOT bool timer_expired(const Vcpu& vcpu) {
    return vcpu.arch.timer_deadline != 0 && timebase() >= vcpu.arch.timer_deadline;
}

TESSERA_HOT bool timer_pending(const Vcpu& vcpu) {
    return vcpu.arch.timer_owed || timer_expired(vcpu);
}

u64 timer_deadline(const Vcpu& vcpu) {
    return vcpu.arch.timer_deadline;
}

namespace {

// The guest asks for `deadline` (0: off). An earlier deadline puts the armed one behind it
// (armed again at a delivery, unless the guest asks for something later first); any other says
// the guest's earliest timer is `deadline`: what was behind up to it is forgotten, what comes
// after it stays. False: crashed.
TESSERA_HOT bool timer_ask(Vcpu& v, u64 deadline) {
    VcpuState& s = v.arch;
    const u64 armed = s.timer_deadline;
    if (deadline != 0 && deadline < armed && armed > timebase())
        behind_push(s.timer_behind, armed);
    else
        behind_drop(s.timer_behind, deadline == 0 ? ~u64{0} : deadline);
    return timer_arm(v, deadline);
}

} // namespace

TESSERA_HOT void timer_sync_want(Vcpu& v) {
    const VcpuState& s = v.arch;
    if (!s.virq_later || s.timer_deadline == 0) return;
    // Only the guest writes `want`, and only in its clock event, so a `want` later than what is
    // armed is its latest wish: a stale one is at most the deadline armed (it asks by hcall
    // for anything earlier, and what the hypervisor arms on its own comes after it). A torn
    // one (an exit between its two stores) is at worst a timer that comes early, which the
    // guest's hrtimers take as nothing expired, or late by the hcall that follows the store.
    const u64 want = u64{virq_load(v, kVirqWantHi)} << 32 | virq_load(v, kVirqWantLo);
    if (want <= s.timer_deadline) return;
    count(v, Exit::TimerLater);
    timer_ask(v, want); // false: the LPAR crashed, and it stops at once
}

TESSERA_HOT hcall::Ret h_ia32_set_timer(hcall::Env& env, hcall::Frame& frame) {
    timer_ask(env.vcpu, frame.args[0]); // false: the LPAR crashed, and it stops at once
    return hcall::H_SUCCESS;
}

} // namespace tessera::arch
