#include "isa/ia32/vtimer.hpp"

#include "isa/ia32/cpu.hpp"
#include "isa/ia32/exit_reason.hpp"

#include <arch/hcalls.hpp>
#include <tessera/arch.hpp>

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

} // namespace

u64 tick_ahead(TickStream& stream, u64 want, u64 slack, u64 hz) {
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
        if (++stream.misses < 3) {
            if (whole) stream.last = want; // ticks skipped: the stream goes on from here
            return later(stream.last, ((want - stream.last) / p + 1) * p + slack / 2);
        }
    }
    const bool tick = prev != 0 && want > prev && want - prev >= min_tick(hz) && want - prev <= hz;
    stream = TickStream{want, tick ? want - prev : 0, want, 0};
    return tick ? later(want, stream.period + slack / 2) : 0;
}

bool timer_publish(Vcpu& v) {
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

bool timer_delivered(Vcpu& v) {
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
        if (next != 0 && next < timebase() + s.tick.period / 4) next = 0;
        if (next != 0) count(v, Exit::TickArmed);
    }
    return timer_arm(v, next);
}

void timer_take_offered(Vcpu& v) {
    VcpuState& s = v.arch;
    // Taken: the guest changed `pending` from 2 to 0 and ran its handler (only the guest clears
    // it while an interrupt is owed: an entry rewrites it, and delivers what is owed, whenever
    // the virtual IF is set).
    if (!s.timer_owed || virq_load(v, kVirqPending) != 0) return;
    s.timer_owed = false;
    count(v, Exit::VirqTimer);
    count(v, Exit::VirqSelf);
}

// ---- The arch contract and the hcall -----------------------------------------------------
bool timer_expired(const Vcpu& vcpu) {
    return vcpu.arch.timer_deadline != 0 && timebase() >= vcpu.arch.timer_deadline;
}

bool timer_pending(const Vcpu& vcpu) {
    return vcpu.arch.timer_owed || timer_expired(vcpu);
}

u64 timer_deadline(const Vcpu& vcpu) {
    return vcpu.arch.timer_deadline;
}

hcall::Ret h_ia32_set_timer(hcall::Env& env, hcall::Frame& frame) {
    timer_arm(env.vcpu, frame.args[0]); // false: the LPAR crashed, and it stops at once
    return hcall::H_SUCCESS;
}

} // namespace tessera::arch
