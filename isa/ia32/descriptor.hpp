// Segment descriptors the guest hands us (lgdt): decoded, validated and installed in the
// guest's window of the real GDT with the privilege raised (ring compression, docs/ia32.md).
#pragma once

#include <arch/x86.hpp>
#include <tessera/types.hpp>

namespace tessera::arch::desc {

// Access-byte fields.
inline constexpr u8 kPresent = 0x80, kSegment = 0x10, kCode = 0x08, kAccessed = 0x01;
inline constexpr u8 kWritable = 0x02; // data: writable; code: readable
inline constexpr unsigned kDplShift = 5;

inline u8 access(u64 d) {
    return static_cast<u8>(d >> 40);
}
inline unsigned dpl(u64 d) {
    return (access(d) >> kDplShift) & 3;
}
inline bool present(u64 d) {
    return (access(d) & kPresent) != 0;
}
inline bool is_segment(u64 d) {
    return (access(d) & kSegment) != 0;
} // code/data, not system
inline bool is_code(u64 d) {
    return is_segment(d) && (access(d) & kCode) != 0;
}
inline bool is_data(u64 d) {
    return is_segment(d) && (access(d) & kCode) == 0;
}
inline unsigned system_type(u64 d) {
    return access(d) & 0xf;
}
u32 base(u64 d);
u32 limit_bytes(u64 d); // the limit in bytes (granularity applied), inclusive

inline constexpr u8 kConforming = 0x04;         // code: conforming
inline constexpr u64 kDefault32 = u64{1} << 54; // code: the D bit (32-bit)
// A present writable data segment of DPL `ring`: a stack the CPU may load for that ring.
inline bool stack_for_ring(u64 d, unsigned ring) {
    return present(d) && is_data(d) && (access(d) & kWritable) && dpl(d) == ring;
}
// A GDT selector of one of the TLS entries (X86_TLS_FIRST..): the switcher may load another GDT
// row while the vcpu runs (int $X86_SWITCH_TLS_VECTOR), in which that entry is another of the
// guest's descriptors, or null. So the switcher's own irets (a reflected fault's handler and
// stack, the sysenter trampoline's target) and the CPU's direct gates never name one: what the
// hypervisor validated at entry must stay what the CPU finds, or the switcher's iret faults in
// ring 0.
inline bool tls_selector(u32 sel) {
    const u32 index = (sel & 0xffff) >> 3;
    return !(sel & 4) && index >= X86_TLS_FIRST && index < X86_TLS_FIRST + X86_TLS_COUNT;
}
// A present non-conforming 32-bit code segment of DPL `ring`: what a gate or a sysenter
// target into that ring may name, so that the CPU can only land in that ring.
inline bool code32_for_ring(u64 d, unsigned ring) {
    return present(d) && is_code(d) && dpl(d) == ring && !(access(d) & kConforming) &&
           (d & kDefault32);
}

// The descriptor as it goes into the real GDT for a guest: code and data segments keep base,
// limit and type with DPL 0 raised to 1, the accessed bit pre-set (the GDT page is read-only
// while a guest runs, so the CPU must never need to write it) and the 64-bit L bit cleared.
// System descriptors (TSS, LDT, gates) never reach the real GDT: 0, a null descriptor (the
// guest's TSS is read by ltr from its own memory, isa/ia32/emulate.cpp). The same holds for the
// entries of the guest's LDT (lldt): no call gates there either.
u64 install(u64 guest);

// An LDT descriptor (system type 2).
inline bool is_ldt(u64 d) {
    return !is_segment(d) && system_type(d) == 2;
}

// TSS types (16/32-bit, available/busy).
inline bool is_tss(u64 d) {
    const unsigned t = system_type(d);
    return !is_segment(d) && (t == 1 || t == 3 || t == 9 || t == 11);
}

} // namespace tessera::arch::desc
