// The ia32 side of the test-LPAR library (included by lib/lpar.hpp): a guest kernel in ring 1
// (ring compression), flat segments, guest-virtual = logical (docs/ia32.md).
#pragma once

#include <tessera/types.hpp>

extern "C" char lpar_stacks[];
extern "C" tessera::i32 lpar_hcall_block(tessera::u64* block);
// entry.S: the IDT's entry stubs, 16 bytes per vector (-> lpar_trap -> the iret gate), and the
// trap that takes pending interrupts once the virtual IF is set (an iret gate to the next
// instruction with IF set).
extern "C" char lpar_idt_stubs[];
extern "C" void lpar_irq_sync();

namespace lpar::isa {

using tessera::i32;
using tessera::i64;
using tessera::u32;
using tessera::u64;
using tessera::usize;

inline constexpr const char* kName = "ia32";
// The TSC rate: the hypervisor passes it in ebx at entry (kHz); set by the start code.
inline u64 kTimebaseHz = 0;

// The hcall gate and the ia32 backend's own hcalls (isa/ia32/include/arch/hcalls.hpp).
inline constexpr u32 kHcallVector = 0x82;
inline constexpr u64 H_IA32_SET_TIMER = 0xF008;
inline constexpr u64 H_IA32_SET_VIRQ = 0xF00C;
inline constexpr u64 H_IA32_SET_EXIT_WINDOW = 0xF00A;
inline constexpr u64 H_IA32_EXIT_COUNTS = 0xF00D;
inline constexpr u64 H_IA32_SWITCH_MM = 0xF00B;
inline constexpr u64 H_IA32_INVALIDATE = 0xF007;
inline constexpr u64 H_IA32_PROTECT = 0xF006;
inline constexpr u64 H_IA32_FORK_MM = 0xF005;
inline constexpr u64 H_IA32_REFILL = 0xF003;
inline constexpr u64 H_IA32_MOVE = 0xF002;
inline constexpr u32 kIretVector = 0x83;

inline constexpr unsigned kStackShift = 15; // 32 KiB per vcpu (entry.S)
inline constexpr unsigned kMaxVcpus = 8;

// Virtual interrupt vectors: delivered through the guest's IDT (docs/ia32.md).
inline constexpr u64 kTimerVector = 0x20;
inline constexpr u64 kExternalVector = 0x21;

struct TrapFrame {
    u32 edi, esi, ebp, esp, ebx, edx, ecx, eax;
    u32 vector, error, eip, cs, eflags;
};

struct EntryState {
    u32 cs = 0, ss = 0, eflags = 0; // as the first instruction saw them
};

// The flat selectors the hypervisor provides (isa/ia32/include/arch/x86.hpp).
inline constexpr u32 kKernelCode = 0x121, kKernelData = 0x129, kUserCode = 0x133, kUserData = 0x13b;

// The IDT (isa.cpp): every vector goes to its stub in lpar_idt_stubs through an interrupt gate
// (DPL 0: only ring 1 may int n) with the kernel code selector; idt_set_dpl opens one to ring 3.
void idt_load();
void idt_set_dpl(u32 vector, u32 dpl);
// Any gate: a 32-bit trap (else interrupt) gate of `dpl` to the vector's stub through `selector`.
void idt_set_gate(u32 vector, u32 dpl, bool trap, u32 selector);

inline constexpr unsigned kTrapSlots = 256;
inline unsigned trap_slot(u64 vector) {
    return static_cast<unsigned>(vector) & (kTrapSlots - 1);
}
inline u64 trap_pc(const TrapFrame& f) {
    return f.eip;
}

// This vcpu's index, from its stack (each vcpu's stack is its own 32 KiB slot).
inline unsigned stack_slot() {
    u32 sp;
    asm volatile("mov %%esp, %0" : "=r"(sp));
    return ((sp - reinterpret_cast<u32>(lpar_stacks)) >> kStackShift) & (kMaxVcpus - 1);
}

// The guest's interrupt-enable flag. The real EFLAGS.IF is the hypervisor's (cli/sti would
// #GP in ring 1): this is the virtual one, kept per vcpu in memory shared with the hypervisor
// (registered with H_IA32_SET_VIRQ at start). The hypervisor sets `pending` when it holds an
// interrupt back because `enabled` is 0; enabling then traps so that it is delivered. With
// kVirqFlagCr2 it also writes every delivered page fault's address to `cr2`; with
// kVirqFlagTimer it arms the next tick ahead from the deadlines written to `want` and shows the
// armed one and the slack it allows.
struct VirqArea {
    u32 enabled;
    u32 pending;
    u32 cr2;                // the last page fault's address (registered with kVirqFlagCr2)
    u32 want_lo, want_hi;   // kVirqFlagTimer, ours: the deadline we want next
    u32 armed_lo, armed_hi; // the hypervisor's: the deadline armed (0: none)
    u32 slack;              // the hypervisor's: how much later than `want` it may be
};
inline constexpr u64 kVirqFlagCr2 = 1;
inline constexpr u64 kVirqFlagTimer = 4;
inline constexpr u64 kVirqFlagSelf = 8;     // a held timer alone is offered: pending = 2
inline constexpr u64 kVirqFlagRaise = 16;   // and the guest may raise it: pending 0 -> 2
inline constexpr u64 kVirqFlagLater = 32;   // a later `want` left unasked is armed at an exit
inline constexpr u32 kVirqPendingTimer = 2; // that offer, the only value the guest clears
inline VirqArea g_virq[kMaxVcpus];
inline void irq_enable() {
    VirqArea& a = g_virq[stack_slot()];
    __atomic_store_n(&a.enabled, u32{1}, __ATOMIC_SEQ_CST);
    if (__atomic_load_n(&a.pending, __ATOMIC_SEQ_CST) != 0) lpar_irq_sync();
}
inline void irq_disable() {
    __atomic_store_n(&g_virq[stack_slot()].enabled, u32{0}, __ATOMIC_SEQ_CST);
}
inline bool irq_enabled() {
    return __atomic_load_n(&g_virq[stack_slot()].enabled, __ATOMIC_SEQ_CST) != 0;
}

inline u64 timebase() {
    u32 lo, hi;
    asm volatile("rdtsc" : "=a"(lo), "=d"(hi));
    return (static_cast<u64>(hi) << 32) | lo;
}

inline void cpu_relax() {
    asm volatile("pause" ::: "memory");
}
inline void sync() {
    asm volatile("lock; addl $0, (%%esp)" ::: "memory");
}

inline void* g_cpu_ptr[kMaxVcpus];
inline void* this_cpu_ptr() {
    return g_cpu_ptr[stack_slot()];
}
inline void set_this_cpu_ptr(void* p) {
    g_cpu_ptr[stack_slot()] = p;
}

// ---- The hcall: int $0x82 with a block on the stack: [esp] = number, [esp+8+8*i] = argument
// i (64-bit slots); eax = status, the results written back over the argument slots. ----------
inline i64 hcall_raw(u64 number, const u64 (&a)[9], u64 (&ret)[9]) {
    u64 block[10] = {number, a[0], a[1], a[2], a[3], a[4], a[5], a[6], a[7], a[8]};
    const i64 status = lpar_hcall_block(block);
    for (int i = 0; i < 9; ++i) ret[i] = block[1 + i];
    return status;
}

// The one-shot timer: H_IA32_SET_TIMER(absolute TSC deadline, 0 = off).
inline constexpr u64 kTimerMax = u64{1} << 62;
inline void timer_set(u64 ticks) {
    u64 args[9] = {ticks >= kTimerMax ? 0 : timebase() + ticks};
    u64 ret[9];
    hcall_raw(H_IA32_SET_TIMER, args, ret);
}

} // namespace lpar::isa
