// The vcpu's one-shot timer (H_IA32_SET_TIMER), and its next tick armed ahead so that a guest's
// periodic tick costs one exit (the interrupt), not two (the interrupt and the hcall that sets
// the next deadline).
//
// Linux's tick asks for deadlines at a steady interval (4 ms at HZ=250; the TSC value it
// computes jitters by well under a microsecond). At a tick's delivery the hypervisor arms the
// next one at the guest's tick period as its deadlines show it (tick_ahead), half the slack late,
// and publishes it in the shared area (H_IA32_SET_VIRQ kVirqFlagTimer). The guest's clock event
// writes the deadline it wants into the area and makes the hcall only when the armed one is not
// within [its deadline, its deadline + slack]. So a tick comes at most `slack` late, never
// early, and a guest that wants anything else says so as before.
#pragma once

#include "common/lpar.hpp"

namespace tessera::arch {

// The lateness offered: 4 microseconds of the timebase (a thousandth of a 4 ms tick).
u64 tick_slack();

// The deadline to arm when the guest's timer is delivered and the last deadline it wanted is
// `want` (0: none to arm), following the guest's tick in `stream`:
// - the tick predicted (one period after the last, give or take the slack) is a hit: the period
//   is re-measured and the next tick armed, slack / 2 late, so that a guest deadline up to
//   slack / 2 either side of it finds it within its slack;
// - anything else is a miss: an hrtimer between ticks, or ticks skipped by an idle guest (a
//   whole number of periods: the stream moves there); the stream's next tick after it is armed,
//   which is what the guest asks for next when its tick goes on;
// - a miss before the stream's next tick that comes less than half a millisecond after the
//   last deadline delivered (the sleeps and timeouts of a busy guest) is not counted: it could
//   not be a tick;
// - with no stream, or at the third counted miss in a row, the last two deadlines delivered
//   start one when they are half a millisecond to a second (`hz`) apart; else nothing is armed;
// - a deadline the guest did not renew since the last delivery arms nothing.
u64 tick_ahead(TickStream& stream, u64 want, u64 slack, u64 hz);

// Arms the vcpu's timer at `deadline` (0: off) and publishes it in the shared area when the
// guest asked for that. False: the area is not in the LPAR (crashed).
bool timer_arm(Vcpu& v, u64 deadline);
// The armed deadline and the slack into the shared area (H_IA32_SET_VIRQ). False as above.
bool timer_publish(Vcpu& v);
// Its timer interrupt is being delivered: the next tick armed ahead (kVirqFlagTimer), unless it
// is due within a quarter period (the guest's handler may still run then, and takes that tick
// itself), or the earliest deadline this one or those before it replaced (`timer_behind`) when
// that comes first and more than 100 microseconds on; else the timer off, as a one-shot timer is
// once it fired. False: crashed.
bool timer_delivered(Vcpu& v);

// At every exit, before anything else reads the timer: a timer interrupt owed to the guest
// (offered with kVirqFlagSelf, its delivery's bookkeeping done) that the guest took itself
// (`pending` changed from 2 to 0) is owed no more; one the guest raised itself (`pending`
// changed from 0 to 2, kVirqFlagRaise) is owed from now on.
void timer_sync_owed(Vcpu& v);
// At every exit, before anything reads the timer (kVirqFlagLater): a `want` later than the
// deadline armed, which the guest left armed without an hcall, is armed instead, as its
// H_IA32_SET_TIMER would (nothing is delivered for the earlier one).
void timer_sync_want(Vcpu& v);
// The vcpu's deadline has passed (timer_pending: that, or an interrupt owed).
bool timer_expired(const Vcpu& vcpu);

} // namespace tessera::arch
