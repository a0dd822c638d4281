// The local APIC of each physical CPU (xAPIC MMIO at X86_LAPIC_BASE, identity-mapped uncached
// by isa/ia32/gdt.cpp): its timer as the preemption timer, IPIs between CPUs, INIT-SIPI-SIPI.
// Each CPU's registers are its own: no lock.
#pragma once

#include <tessera/types.hpp>

namespace tessera::pc {

// This CPU's local APIC on: software-enabled (spurious vector X86_SPURIOUS_VECTOR), every
// priority accepted, LINT0 masked (the 8259's output reaches no CPU), the error LVT masked,
// the timer one-shot at X86_LAPIC_TIMER_VECTOR, divide by 1, stopped; its logical destination
// (flat model) bit `index` (the core's CPU index, below 8).
void lapic_init_cpu(u32 index);
// The timer's rate in Hz against the TSC (once, on the boot CPU, after the TSC's calibration).
void lapic_calibrate(u64 tsc_hz);
u32 lapic_id();
void lapic_eoi();
// One-shot: X86_LAPIC_TIMER_VECTOR after `tsc_ticks` of TSC (at least one timer tick).
void lapic_oneshot(u64 tsc_ticks);
// True while the one-shot counts down (its current count is not 0): it has not fired yet.
bool lapic_oneshot_running();
// A fixed IPI with `vector` to the CPU with APIC ID `apic_id`.
void lapic_ipi(u32 apic_id, u8 vector);
// INIT, then two startup IPIs with `page` (the start code at page * 4 KiB) to every CPU but
// this one.
void lapic_start_others(u8 page);

} // namespace tessera::pc
