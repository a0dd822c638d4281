#include "isa/ia32/vtimer.hpp"

#include "isa/ia32/cpu.hpp"
#include "isa/ia32/exit_reason.hpp"

#include <arch/hcalls.hpp>
#include <tessera/arch.hpp>

namespace tessera::arch {

u64 tick_slack() {
    return plat::timebase_hz() / 250'000;
}

u64 predict_tick(u64 prev, u64 want, u64 slack, u64 hz) {
    if (prev == 0 || want <= prev) return 0;
    const u64 interval = want - prev;
    if (interval < 16 * slack || interval > hz) return 0;
    const u64 late = interval + slack / 2;
    return want > ~u64{0} - late ? 0 : want + late;
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
        next = predict_tick(s.timer_last_want, want, tick_slack(), plat::timebase_hz());
        s.timer_last_want = want;
        if (next != 0) count(v, Exit::TickArmed);
    }
    return timer_arm(v, next);
}

// ---- The arch contract and the hcall -----------------------------------------------------
bool timer_pending(const Vcpu& vcpu) {
    return vcpu.arch.timer_deadline != 0 && timebase() >= vcpu.arch.timer_deadline;
}

u64 timer_deadline(const Vcpu& vcpu) {
    return vcpu.arch.timer_deadline;
}

hcall::Ret h_ia32_set_timer(hcall::Env& env, hcall::Frame& frame) {
    timer_arm(env.vcpu, frame.args[0]); // false: the LPAR crashed, and it stops at once
    return hcall::H_SUCCESS;
}

} // namespace tessera::arch
