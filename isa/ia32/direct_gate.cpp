#include "isa/ia32/direct_gate.hpp"

#include "common/lpar.hpp"
#include "isa/ia32/cpu.hpp"
#include "isa/ia32/descriptor.hpp"
#include "isa/ia32/guest_mmu.hpp"

namespace tessera::arch {
namespace {

constexpr u8 kGatePresent = 0x80, kGateTrap32 = 0x0f, kGateDplMask = 3u << 5;
constexpr u32 kSelTi = 4;

u32 gate_selector(u64 gate) {
    return static_cast<u32>(gate >> 16) & 0xffff;
}

u8 gate_access(u64 gate) {
    return static_cast<u8>(gate >> 40);
}

} // namespace

u32 gate_offset(u64 gate) {
    return static_cast<u32>((gate & 0xffff) | ((gate >> 32) & 0xffff0000u));
}

bool direct_gate_allowed(u64 gate, u64 code) {
    if ((gate_access(gate) & ~kGateDplMask) != (kGatePresent | kGateTrap32)) return false;
    const u32 sel = gate_selector(gate);
    if ((sel & ~3u) == 0 || (sel & kSelTi)) return false;
    return desc::code32_for_ring(code, 1);
}

u64 direct_gate_entry(u64 gate) {
    const u32 offset = gate_offset(gate);
    const u32 sel = (gate_selector(gate) & ~3u) | 1;
    const u8 access = kGatePresent | (gate_access(gate) & kGateDplMask) | kGateTrap32;
    return (offset & 0xffff) | (u64{sel} << 16) | (u64{access} << 40) | (u64{offset >> 16} << 48);
}

DirectGates direct_gates_for(Vcpu& v) {
    DirectGates g;
    const GuestTables& t = v.arch.tables;
    if (t.idt_base == 0 && t.idt_limit == 0) return g;
    // The guest's gates: vectors 0..kDirectLowEnd-1 in one read (as far as the limit goes),
    // 0x80 in another.
    u64 low[kDirectLowEnd] = {};
    const u32 idt_size = u32{t.idt_limit} + 1;
    const u32 low_count = idt_size >= sizeof(low) ? kDirectLowEnd : idt_size / 8;
    if (low_count != 0 && !guest_read(v, t.idt_base, low, low_count * 8)) return g;
    u64 syscall = 0;
    const bool has_syscall = kSyscallVector * 8 + 7 <= t.idt_limit &&
                             guest_read(v, t.idt_base + kSyscallVector * 8, &syscall, 8);
    // Every gate names the same kernel code selector, as a rule: its descriptor is looked up once.
    u32 last_sel = 0;
    u64 last_code = 0;
    bool any = false;
    for (usize i = 0; i < kDirectCount; ++i) {
        const u32 vector = kDirectVectors[i];
        const bool readable = vector == kSyscallVector ? has_syscall : vector < low_count;
        if (!readable) continue;
        const u64 gate = vector == kSyscallVector ? syscall : low[vector];
        const u32 sel = gate_selector(gate) | 1;
        if (sel != last_sel) {
            last_sel = sel;
            last_code = descriptor_of(v, sel);
        }
        if (!direct_gate_allowed(gate, last_code)) continue;
        g.handler[i] = gate_offset(gate);
        g.entry[i] = direct_gate_entry(gate);
        any = true;
    }
    u32 stack[2]; // the guest's TSS esp0, ss0
    if (any && t.tr != 0 && guest_read(v, t.tss_base + 4, stack, sizeof(stack))) {
        const u32 ss1 = (stack[1] & 0xfffc) | 1;
        const u64 ss = descriptor_of(v, ss1);
        if (desc::present(ss) && desc::is_data(ss) && (desc::access(ss) & desc::kWritable) &&
            desc::dpl(ss) == 1) {
            g.installed = true;
            g.esp1 = stack[0];
            g.ss1 = ss1;
            return g;
        }
    }
    for (u64& e : g.entry) e = 0; // no ring-1 stack: the hypervisor's gates
    return g;
}

} // namespace tessera::arch
