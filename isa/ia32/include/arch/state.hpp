// ia32 per-vcpu and per-LPAR state, embedded by value in the core's Vcpu and Lpar.
#pragma once

#include <tessera/types.hpp>

namespace tessera::arch {

// The guest's registers as the switcher saves them (isa/ia32/switcher.S, lowest address first):
// segment registers, pushal's order, the vector and error code, then the CPU's ring-change frame.
struct GuestFrame {
    u32 gs, fs, es, ds;
    u32 edi, esi, ebp, esp_pushal, ebx, edx, ecx, eax;
    u32 vector, error;
    u32 eip, cs, eflags, esp, ss;
};
static_assert(sizeof(GuestFrame) == 19 * 4, "keep in step with isa/ia32/switcher.S");

struct VcpuState {
    GuestFrame regs{};
    u64 timer_deadline = 0; // TSC value at which the vcpu's one-shot timer expires; 0 = off
    // Virtual interrupts (H_IA32_SET_VIRQ, docs/ia32.md): the logical address of the vcpu's
    // shared flags {u32 enabled, u32 pending} and the guest's handler entry.
    bool virq_on = false;
    u32 virq_area = 0;
    u32 virq_entry = 0;
};

struct LparState {
    u32 page_dir = 0; // real address of the LPAR's page directory (cr3); 0 = none
    int pd_slot = -1;
};

} // namespace tessera::arch
