// pc timer and interrupt controller: the 8259 PICs (remapped to X86_IRQ_BASE) and the PIT,
// channel 0 as the one-shot preemption timer, channel 2 to calibrate the TSC.
#pragma once

#include <tessera/types.hpp>

namespace tessera::pc {

// Remaps both PICs to vectors 0x20..0x2f, masks every IRQ but 0 (the PIT), calibrates the TSC.
void timer_init();
// Arms PIT channel 0 to raise IRQ 0 after `tsc_ticks` of TSC (clamped to the PIT's ~55 ms).
void preempt_after(u64 tsc_ticks);
// End of interrupt for `irq` (0..15).
void pic_eoi(u32 irq);
// The TSC frequency measured by timer_init (0 before).
u64 tsc_hz();

} // namespace tessera::pc
