// Physical CPUs on pc: the application processors started with INIT-SIPI-SIPI
// (plat/pc/smp.cpp).
#pragma once

namespace tessera::pc {

// Starts every other processor the firmware reports (at most arch::kMaxCpus in all); each
// enters the core's secondary_main and idles there. Logs the result. Call once, after
// timer_init (it needs the TSC's rate and the boot CPU's local APIC).
void start_secondaries();

} // namespace tessera::pc
