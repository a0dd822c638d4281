// The ia32 backend's own hcalls merged into the dispatch table (docs/ia32.md).
#pragma once

#include "hcall/dispatch.hpp"

namespace tessera::arch {

// H_IA32_SET_TIMER(deadline): the vcpu's one-shot timer, an absolute TSC value (0 = off). A
// ceded vcpu wakes once the TSC passes it (the ia32 decrementer equivalent); when it expires
// the guest takes the virtual timer interrupt.
inline constexpr u64 H_IA32_SET_TIMER = 0xF008;
// H_IA32_SET_VIRQ(area, entry): the calling vcpu's virtual-interrupt registration: area = the
// logical address of its shared flags {u32 enabled; u32 pending} (4-byte aligned), entry = the
// guest's handler for every virtual vector (0, 0 = unregister).
inline constexpr u64 H_IA32_SET_VIRQ = 0xF00C;

// Virtual vectors, pushed in the bounce frame (docs/ia32.md).
inline constexpr u32 kVirqTimer = 0x20;
inline constexpr u32 kVirqExternal = 0x21;

hcall::Ret h_ia32_set_timer(hcall::Env& env, hcall::Frame& frame);
hcall::Ret h_ia32_set_virq(hcall::Env& env, hcall::Frame& frame);

inline constexpr hcall::Entry kIsaHcallEntries[] = {{H_IA32_SET_TIMER, &h_ia32_set_timer},
                                                    {H_IA32_SET_VIRQ, &h_ia32_set_virq}};
inline constexpr hcall::EntryList kIsaHcalls{kIsaHcallEntries, 2};

} // namespace tessera::arch
