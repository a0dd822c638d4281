// Physical CPUs on powernv: the secondaries started through OPAL, and the POWER8 ICP (XICS
// presentation controller, one per thread) that kicks them.
#pragma once

#include "plat/powernv/host_fdt.hpp"

namespace tessera::powernv {

// Finds the boot CPU by its PIR and starts the first thread of every other core of the host
// device tree (QEMU 7.2's powernv crashes with more than one thread per core) with
// OPAL_START_CPU, one at a time; each enters the core's secondary_main and idles there. Logs
// the result. Call once, early (skiboot's waiting threads poll at full speed).
void start_secondaries(const HostInfo& host);

} // namespace tessera::powernv
