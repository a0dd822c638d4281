// The ia32 backend's own hcalls merged into the dispatch table (docs/ia32.md).
#pragma once

#include "hcall/dispatch.hpp"

namespace tessera::arch {

// H_IA32_SET_TIMER(deadline): the vcpu's one-shot timer, an absolute TSC value (0 = off). A
// ceded vcpu wakes once the TSC passes it (the ia32 decrementer equivalent).
inline constexpr u64 H_IA32_SET_TIMER = 0xF008;

hcall::Ret h_ia32_set_timer(hcall::Env& env, hcall::Frame& frame);

inline constexpr hcall::Entry kIsaHcallEntries[] = {{H_IA32_SET_TIMER, &h_ia32_set_timer}};
inline constexpr hcall::EntryList kIsaHcalls{kIsaHcallEntries, 1};

} // namespace tessera::arch
