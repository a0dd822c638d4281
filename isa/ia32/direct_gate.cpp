#include "isa/ia32/direct_gate.hpp"

#include "common/lpar.hpp"
#include "isa/ia32/cpu.hpp"
#include "isa/ia32/descriptor.hpp"
#include "isa/ia32/guest_mmu.hpp"
#include <tessera/hot.hpp>

namespace tessera::arch {
namespace {

constexpr u8 kGatePresent = 0x80, kGateTrap32 = 0x0f, kGateInterrupt32 = 0x0e,
             kGateDplMask = 3u << 5;
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

bool reflect_gate_allowed(u64 gate, u64 code) {
    const u8 access = gate_access(gate) & ~kGateDplMask;
    if (access != (kGatePresent | kGateTrap32) && access != (kGatePresent | kGateInterrupt32))
        return false;
    const u32 sel = gate_selector(gate);
    if ((sel & ~3u) == 0 || (sel & kSelTi) || desc::tls_selector(sel)) return false;
    return desc::code32_for_ring(code, 1);
}

bool direct_gate_allowed(u64 gate, u64 code) {
    // Of the gates that may lead only into ring 1, the trap gates (the real IF stays 1).
    return (gate_access(gate) & ~kGateDplMask) == (kGatePresent | kGateTrap32) &&
           reflect_gate_allowed(gate, code);
}

u64 direct_gate_entry(u64 gate) {
    const u32 offset = gate_offset(gate);
    const u32 sel = (gate_selector(gate) & ~3u) | 1;
    return gate_value(offset, sel, kGatePresent | (gate_access(gate) & kGateDplMask) | kGateTrap32);
}

namespace {

// The gates and TSS words as the guest has them now (0 where unreadable).
TESSERA_HOT void read_inputs(Vcpu& v, u64 (&raw)[kDirectCount],
                             u64 (&reflected)[kReflectVectorCount], u32 (&tss)[2]) {
    const GuestTables& t = v.arch.tables;
    for (u64& g : raw) g = 0;
    for (u64& g : reflected) g = 0;
    tss[0] = tss[1] = 0;
    if (t.idt_base == 0 && t.idt_limit == 0) return;
    static_assert(kDirectVectors[kDirectCount - 1] == kSyscallVector);
    static_assert(kDirectVectors[kDirectCount - 2] < kDirectLowEnd);
    static_assert(kReflectVectors[0] < kDirectLowEnd && kReflectVectors[1] < kDirectLowEnd);
    const u32 idt_size = u32{t.idt_limit} + 1;
    const u32 low_count = idt_size >= kDirectLowEnd * 8 ? kDirectLowEnd : idt_size / 8;
    const bool has_syscall = kSyscallVector * 8 + 7 <= t.idt_limit;
    u64& syscall = raw[kDirectCount - 1];
    // In place when vectors 0..0x80 lie in one translated page (Linux's IDT is a page of its
    // own): the 9 gates, not all the bytes. Else vectors 0..kDirectLowEnd-1 (as far as the
    // limit goes) in one read and 0x80 in another.
    u64 copy[kDirectLowEnd] = {};
    const u8* low = has_syscall ? guest_read_ptr(v, t.idt_base, kSyscallVector * 8 + 8) : nullptr;
    if (low) {
        __builtin_memcpy(&syscall, low + kSyscallVector * 8, sizeof(u64));
    } else {
        if (low_count != 0 && !guest_read(v, t.idt_base, copy, low_count * 8)) return;
        if (has_syscall && !guest_read(v, t.idt_base + kSyscallVector * 8, &syscall, 8))
            syscall = 0;
        low = reinterpret_cast<const u8*>(copy);
    }
#pragma GCC unroll 16
    for (usize i = 0; i + 1 < kDirectCount; ++i)
        if (kDirectVectors[i] < low_count)
            __builtin_memcpy(&raw[i], low + kDirectVectors[i] * 8, sizeof(u64));
    for (usize i = 0; i < kReflectVectorCount; ++i)
        if (kReflectVectors[i] < low_count)
            __builtin_memcpy(&reflected[i], low + kReflectVectors[i] * 8, sizeof(u64));
    if (t.tr != 0 && !guest_read(v, t.tss_base + 4, tss, sizeof(tss))) tss[0] = tss[1] = 0;
}

// Validates the inputs in g (raw, tss) against the vcpu's tables now.
TESSERA_HOT void validate(const Vcpu& v, DirectGates& g) {
    // Every gate names the same kernel code selector, as a rule: its descriptor is looked up once.
    u32 last_sel = 0;
    u64 last_code = 0;
    bool any = false;
    for (usize i = 0; i < kDirectCount; ++i) {
        g.entry[i] = 0;
        g.handler[i] = 0;
        const u64 gate = g.raw[i];
        if (gate == 0) continue;
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
    // The #PF and #GP gates, for the switcher's reflections (fast_reflect.hpp).
    for (usize i = 0; i < kReflectVectorCount; ++i) {
        const u64 gate = g.raw_reflect[i];
        const u32 sel = gate_selector(gate) | 1;
        const bool ok =
            reflect_gate_allowed(gate, sel == last_sel ? last_code : descriptor_of(v, sel));
        g.reflect_handler[i] = ok ? gate_offset(gate) : 0;
        g.reflect_cs[i] = ok ? sel : 0;
        g.reflect_interrupt[i] = ok && (gate_access(gate) & 0xf) == kGateInterrupt32;
    }
    g.esp1 = g.ss1 = 0;
    // The ring-1 stack: the guest's TSS esp0 with ss0 as a writable ring-1 data segment.
    const u32 ss1 = (g.tss[1] & 0xfffc) | 1;
    const u64 ss = any && v.arch.tables.tr != 0 ? descriptor_of(v, ss1) : 0;
    if (desc::present(ss) && desc::is_data(ss) && (desc::access(ss) & desc::kWritable) &&
        desc::dpl(ss) == 1 && !desc::tls_selector(ss1)) {
        g.esp1 = g.tss[0];
        g.ss1 = ss1;
        return;
    }
    for (u64& e : g.entry) e = 0; // no ring-1 stack: the hypervisor's gates
}

} // namespace

TESSERA_HOT const DirectGates& direct_gates_for(Vcpu& v) {
    DirectGates& g = v.arch.gates;
    u64 raw[kDirectCount], reflected[kReflectVectorCount];
    u32 tss[2];
    read_inputs(v, raw, reflected, tss);
    // The same gates and TSS words, checked against the same tables: the same result.
    u64 diff = (tss[0] ^ g.tss[0]) | (tss[1] ^ g.tss[1]);
    for (usize i = 0; i < kReflectVectorCount; ++i) diff |= reflected[i] ^ g.raw_reflect[i];
#pragma GCC unroll 16
    for (usize i = 0; i < kDirectCount; ++i) diff |= raw[i] ^ g.raw[i];
    if (diff == 0 && g.tables_gen == v.arch.tables_gen && g.tables_gen != 0) return g;
    for (usize i = 0; i < kDirectCount; ++i) g.raw[i] = raw[i];
    for (usize i = 0; i < kReflectVectorCount; ++i) g.raw_reflect[i] = reflected[i];
    g.tss[0] = tss[0];
    g.tss[1] = tss[1];
    g.tables_gen = v.arch.tables_gen;
    validate(v, g);
    static u64 last = 0; // under the core lock (every entry's preparation holds it)
    g.seq = ++last;
    return g;
}

} // namespace tessera::arch
