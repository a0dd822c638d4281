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

namespace {

// Reads len bytes at va in place where they lie in one translated page, else through
// guest_read; false when they do not translate.
bool read_guest(Vcpu& v, u32 va, void* dst, usize len) {
    if (const u8* p = guest_read_ptr(v, va, len)) {
        __builtin_memcpy(dst, p, len);
        return true;
    }
    return guest_read(v, va, dst, len);
}

// The gates and TSS words as the guest has them now (0 where unreadable).
void read_inputs(Vcpu& v, u64 (&raw)[kDirectCount], u32 (&tss)[2]) {
    const GuestTables& t = v.arch.tables;
    for (u64& g : raw) g = 0;
    tss[0] = tss[1] = 0;
    if (t.idt_base == 0 && t.idt_limit == 0) return;
    // Vectors 0..kDirectLowEnd-1 (as far as the limit goes) in one read, 0x80 in another.
    const u32 idt_size = u32{t.idt_limit} + 1;
    const u32 low_count = idt_size >= kDirectLowEnd * 8 ? kDirectLowEnd : idt_size / 8;
    // In place (the 8 gates, not all 20) when the vectors lie in one translated page, with
    // 0x80 when it does too (Linux's IDT is a page of its own).
    static_assert(kDirectVectors[kDirectCount - 1] == kSyscallVector);
    const bool has_syscall = kSyscallVector * 8 + 7 <= t.idt_limit;
    const u8* whole = has_syscall ? guest_read_ptr(v, t.idt_base, kSyscallVector * 8 + 8) : nullptr;
    if (whole) __builtin_memcpy(&raw[kDirectCount - 1], whole + kSyscallVector * 8, sizeof(u64));
    u64 copy[kDirectLowEnd] = {};
    const u8* low = whole ? whole : guest_read_ptr(v, t.idt_base, low_count * 8);
    if (low == nullptr) {
        if (low_count != 0 && !guest_read(v, t.idt_base, copy, low_count * 8)) return;
        low = reinterpret_cast<const u8*>(copy);
    }
#pragma GCC unroll 16
    for (usize i = 0; i + 1 < kDirectCount; ++i)
        if (kDirectVectors[i] < low_count)
            __builtin_memcpy(&raw[i], low + kDirectVectors[i] * 8, sizeof(u64));
    static_assert(kDirectVectors[kDirectCount - 2] < kDirectLowEnd);
    if (has_syscall && !whole &&
        !read_guest(v, t.idt_base + kSyscallVector * 8, &raw[kDirectCount - 1], 8))
        raw[kDirectCount - 1] = 0;
    if (t.tr != 0 && !read_guest(v, t.tss_base + 4, tss, sizeof(tss))) tss[0] = tss[1] = 0;
}

// Validates the inputs in g (raw, tss) against the vcpu's tables now.
void validate(const Vcpu& v, DirectGates& g) {
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
    g.installed = false;
    g.esp1 = g.ss1 = 0;
    // The ring-1 stack: the guest's TSS esp0 with ss0 as a writable ring-1 data segment.
    const u32 ss1 = (g.tss[1] & 0xfffc) | 1;
    const u64 ss = any && v.arch.tables.tr != 0 ? descriptor_of(v, ss1) : 0;
    if (desc::present(ss) && desc::is_data(ss) && (desc::access(ss) & desc::kWritable) &&
        desc::dpl(ss) == 1) {
        g.installed = true;
        g.esp1 = g.tss[0];
        g.ss1 = ss1;
        return;
    }
    for (u64& e : g.entry) e = 0; // no ring-1 stack: the hypervisor's gates
}

} // namespace

const DirectGates& direct_gates_for(Vcpu& v) {
    DirectGates& g = v.arch.gates;
    u64 raw[kDirectCount];
    u32 tss[2];
    read_inputs(v, raw, tss);
    // The same gates and TSS words, checked against the same tables: the same result.
    u64 diff = (tss[0] ^ g.tss[0]) | (tss[1] ^ g.tss[1]);
#pragma GCC unroll 16
    for (usize i = 0; i < kDirectCount; ++i) diff |= raw[i] ^ g.raw[i];
    if (diff == 0 && g.tables_gen == v.arch.tables_gen && g.tables_gen != 0) return g;
    for (usize i = 0; i < kDirectCount; ++i) g.raw[i] = raw[i];
    g.tss[0] = tss[0];
    g.tss[1] = tss[1];
    g.tables_gen = v.arch.tables_gen;
    validate(v, g);
    static u64 last = 0; // under the core lock (every entry's preparation holds it)
    g.seq = ++last;
    return g;
}

} // namespace tessera::arch
