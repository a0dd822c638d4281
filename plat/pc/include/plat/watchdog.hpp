// The NMI watchdog on pc (plat/pc/watchdog.cpp): a periodic non-maskable interrupt to every CPU
// in use, so that the hypervisor gets a CPU back from a guest that runs with the real IF clear.
#pragma once

#include <tessera/types.hpp>

namespace tessera::pc {

// The PIT's channel 0 as a rate generator (about 18 Hz) through the I/O APIC as an NMI to the
// CPUs of `cpu_mask` (bit i: core CPU index i, the logical destination lapic_init_cpu gave
// it). Call once, when those CPUs have their tables loaded (an NMI before that would reset the
// machine).
void watchdog_start(u32 cpu_mask);

} // namespace tessera::pc
