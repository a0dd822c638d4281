// pc timer and interrupt controllers: the 8259 PICs (remapped to X86_IRQ_BASE, all masked), the
// PIT's channel 2 to calibrate the TSC, and each CPU's local APIC timer as its one-shot
// preemption timer (plat/pc/lapic.cpp).
#pragma once

#include <tessera/types.hpp>

namespace tessera::pc {

// Remaps both PICs to vectors 0x20..0x2f and masks them, calibrates the TSC, sets up the boot
// CPU's local APIC and calibrates its timer.
void timer_init();
// Arms this CPU's local APIC timer to interrupt (X86_LAPIC_TIMER_VECTOR) no later than the TSC
// value `deadline`; a one-shot already armed to fire between now and then is kept (it may fire
// early: a spurious exit or wake-up, after which this is called again).
void preempt_by(u64 deadline);
// A host interrupt that brought the CPU out of a guest (a PIC vector, which can only be
// spurious, or a local APIC one: the timer, a kick, spurious): acknowledged, true. False for
// any other vector.
bool host_interrupt(u32 vector);
// End of interrupt for `irq` (0..15).
void pic_eoi(u32 irq);
// The TSC frequency measured by timer_init (0 before).
u64 tsc_hz();

} // namespace tessera::pc
