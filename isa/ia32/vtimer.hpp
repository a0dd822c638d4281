// The vcpu's one-shot timer (H_IA32_SET_TIMER), and its next tick armed ahead so that a guest's
// periodic tick costs one exit (the interrupt), not two (the interrupt and the hcall that sets
// the next deadline).
//
// Linux's tick asks for deadlines at a steady interval (4 ms at HZ=250; the TSC value it
// computes jitters by well under a microsecond). At a tick's delivery the hypervisor arms the
// next one at the interval between the last two deadlines the guest wanted, half the slack late,
// and publishes it in the shared area (H_IA32_SET_VIRQ kVirqFlagTimer). The guest's clock event
// writes the deadline it wants into the area and makes the hcall only when the armed one is not
// within [its deadline, its deadline + slack]. So a tick comes at most `slack` late, never
// early, and a guest that wants anything else says so as before.
#pragma once

#include "common/lpar.hpp"

namespace tessera::arch {

// The lateness offered: 4 microseconds of the timebase (a thousandth of a 4 ms tick).
u64 tick_slack();

// The deadline to arm when the guest's timer for `want` was delivered and the one before was
// for `prev` (both as the guest wanted them): the next at the same interval, slack / 2 late, so
// that a guest deadline up to slack / 2 either side of the interval finds it within its slack.
// 0 (arm nothing) without a previous one, when the interval is shorter than 16 slacks (not a
// tick) or longer than `hz` (a second), or where the sum would wrap.
u64 predict_tick(u64 prev, u64 want, u64 slack, u64 hz);

// Arms the vcpu's timer at `deadline` (0: off) and publishes it in the shared area when the
// guest asked for that. False: the area is not in the LPAR (crashed).
bool timer_arm(Vcpu& v, u64 deadline);
// The armed deadline and the slack into the shared area (H_IA32_SET_VIRQ). False as above.
bool timer_publish(Vcpu& v);
// Its timer interrupt is being delivered: the next tick armed ahead (kVirqFlagTimer), else the
// timer off, as a one-shot timer is once it fired. False: crashed.
bool timer_delivered(Vcpu& v);

} // namespace tessera::arch
