// How long the vcpu a CPU is about to run may keep it before the core looks again (the slice
// passed to arch::vcpu_run). A preemption that nobody needs is an exit for nothing: when no other
// vcpu could want the CPU, the slice only ends for the boot CPU's housekeeping (console input,
// the firmware's pollers, graceful-stop deadlines), so a lone CPU-bound vcpu runs without
// time-slice exits in between.
#pragma once

#include <tessera/types.hpp>

namespace tessera {

// The boot CPU looks at the console and the firmware at least this often (OPAL's pollers want
// 100 ms: plat/powernv/opal.cpp).
inline constexpr u64 kHousekeepingMs = 100;

struct SliceNeed {
    u64 ticks = 0;         // the slice for arch::vcpu_run
    bool extended = false; // longer than `base`: whatever makes another vcpu runnable ends it
};

// base: the scheduler's time slice. contenders: vcpus other than the picked one that may want a
// CPU (Runnable, or Ceded and waiting for a timer or an interrupt), on any physical CPU.
// housekeeping: the ticks this CPU may stay away from its housekeeping.
// With several physical CPUs an extended slice ends the same way: whatever makes a vcpu
// Runnable then finds no idle CPU for it, kicks the CPUs that run extended slices and may run
// it (common/run.cpp `tickle`), and their vcpu_run returns (core_slice_contended).
SliceNeed slice_need(u64 base, usize contenders, u64 housekeeping);

} // namespace tessera
