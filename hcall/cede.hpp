// H_CEDE: the calling logical CPU idles until an interrupt is pending for it.
// Pending already (its XICS server, env.vcpu.index): H_SUCCESS and the caller runs on
// (After::Resume). Otherwise H_SUCCESS and After::Block: the run loop hands the vcpu back to the
// scheduler as Scheduler::Outcome::Ceded, which makes it VcpuState::Ceded until wake(). The
// handler leaves vcpu.state alone on purpose: the vcpu is still Running on this physical CPU,
// and a wake() that arrives before put_back() must be remembered (Vcpu::wake_pending), not turn
// a vcpu that is still on a CPU Runnable.
// Either way the ISA resumes the guest with interrupts enabled (PAPR: MSR[EE] set on return;
// ia32: the virtual IF).
#pragma once

#include "hcall/dispatch.hpp"

namespace tessera::hcall {

Ret h_cede(Env& env, Frame& frame);

} // namespace tessera::hcall
