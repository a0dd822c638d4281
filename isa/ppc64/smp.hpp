// ppc64 side of several physical CPUs: the per-CPU hypervisor state of the secondaries, their
// entry from firmware, and nap. The platform (plat/powernv/smp.cpp) starts them and owns the
// interrupt controller that kicks them.
#pragma once

#include <tessera/types.hpp>

namespace tessera::arch {

// Physical CPUs (threads) the hypervisor can run on: the boot CPU and up to 7 secondaries.
inline constexpr u32 kMaxCpus = 8;

// This CPU's hypervisor registers and per-CPU area (HSPRG0, HFSCR, AMOR, the fault area); r13
// must already point at the CPU's Pcpu. CPU 0's comes from early_init.
void cpu_init(u32 index);

// What ppc64_secondary_start loads before it calls ppc64_secondary_main: the next secondary's
// r13 (its Pcpu) and stack top. One secondary starts at a time (the boot CPU waits for it).
struct SecondaryBoot {
    u64 r13 = 0;
    u64 sp = 0;
};
extern "C" SecondaryBoot ppc64_secondary_boot;
// Fills ppc64_secondary_boot for CPU `index` (1..kMaxCpus-1); false for a bad index.
bool prepare_secondary(u32 index);
// The entry of a started secondary (OPAL_START_CPU: big-endian, real mode, r3 = PIR); it calls
// the platform's extern "C" ppc64_secondary_main(u64 pir) little-endian with r1, r2, r13 set.
extern "C" void ppc64_secondary_start();

// Naps until an external interrupt (the ICP) wakes the CPU, or, with `timeout_ticks` != 0,
// until DEC runs out after that many timebase ticks (LPCR[PECE]: external, and decrementer only
// then). Returns after the wake-up (system reset at 0x100, see isa/ppc64/vectors.S) with
// everything as it was; the interrupt stays pending at the ICP for the caller to take. DEC is
// the guest's: only with several CPUs, where vcpu_run reloads it at every entry.
void nap(u64 timeout_ticks = 0);

} // namespace tessera::arch
