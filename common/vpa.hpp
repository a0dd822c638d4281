// What the hypervisor keeps up to date in a vcpu's virtual processor area (PAPR VPA, Linux's
// lppaca), once the guest registered one with H_REGISTER_VPA (hcall/processor.hpp).
#pragma once

#include <tessera/types.hpp>

namespace tessera {

class Vcpu;

namespace vpa {
// Offset of the yield (dispatch) count: a big-endian u32 in the VPA's third cache line.
inline constexpr u64 kYieldCountOffset = 0x100;

// The vcpu is dispatched onto a CPU, or taken off it (preempted, ceded, stopped): the yield count
// goes up by one each time, so it is even while the vcpu runs and odd while it does not.
void count_dispatch(Vcpu& v);
} // namespace vpa
} // namespace tessera
