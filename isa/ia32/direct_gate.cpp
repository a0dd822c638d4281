#include "isa/ia32/direct_gate.hpp"

#include "common/lpar.hpp"
#include "isa/ia32/cpu.hpp"
#include "isa/ia32/descriptor.hpp"
#include "isa/ia32/guest_mmu.hpp"

namespace tessera::arch {
namespace {

constexpr u8 kGatePresent = 0x80, kGateTrap32 = 0x0f, kGateDpl3 = 3u << 5;
constexpr u32 kSelTi = 4;

u32 gate_selector(u64 gate) {
    return static_cast<u32>(gate >> 16) & 0xffff;
}

} // namespace

u32 gate_offset(u64 gate) {
    return static_cast<u32>((gate & 0xffff) | ((gate >> 32) & 0xffff0000u));
}

bool direct_gate_allowed(u64 gate, u64 code) {
    const u8 access = static_cast<u8>(gate >> 40);
    if (access != (kGatePresent | kGateDpl3 | kGateTrap32)) return false;
    const u32 sel = gate_selector(gate);
    if ((sel & ~3u) == 0 || (sel & kSelTi)) return false;
    return desc::code32_for_ring(code, 1);
}

u64 direct_gate_entry(u64 gate) {
    const u32 offset = gate_offset(gate);
    const u32 sel = (gate_selector(gate) & ~3u) | 1;
    return (offset & 0xffff) | (u64{sel} << 16) |
           (u64{kGatePresent | kGateDpl3 | kGateTrap32} << 40) | (u64{offset >> 16} << 48);
}

DirectGate direct_gate_for(Vcpu& v) {
    DirectGate g;
    const GuestTables& t = v.arch.tables;
    if ((t.idt_base == 0 && t.idt_limit == 0) || kSyscallVector * 8 + 7 > t.idt_limit) return g;
    u64 gate = 0;
    if (!guest_read(v, t.idt_base + kSyscallVector * 8, &gate, sizeof(gate))) return g;
    if (!direct_gate_allowed(gate, descriptor_of(v, gate_selector(gate) | 1))) return g;
    g.handler = gate_offset(gate);
    u32 stack[2]; // the guest's TSS esp0, ss0
    if (t.tr == 0 || !guest_read(v, t.tss_base + 4, stack, sizeof(stack))) return g;
    const u32 ss1 = (stack[1] & 0xfffc) | 1;
    const u64 ss = descriptor_of(v, ss1);
    if (!desc::present(ss) || !desc::is_data(ss) || !(desc::access(ss) & desc::kWritable) ||
        desc::dpl(ss) != 1)
        return g;
    g.installed = true;
    g.entry = direct_gate_entry(gate);
    g.esp1 = stack[0];
    g.ss1 = ss1;
    return g;
}

} // namespace tessera::arch
