// The guest's debug registers and the breakpoints the CPU may run it with (debug_regs.hpp).
#include "isa/ia32/debug_regs.hpp"

#include <arch/x86.hpp>
#include <tessera/hot.hpp>

namespace tessera::arch {
namespace {

constexpr unsigned kRwIo = 2;

unsigned rw_of(u32 dr7, unsigned i) {
    return (dr7 >> (16 + 4 * i)) & 3;
}
// LEN: 00 1 byte, 01 2 bytes, 11 4 bytes, 10 8 bytes (undefined in 32-bit mode: taken as 8).
u32 length_of(u32 dr7, unsigned i) {
    static constexpr u32 kBytes[4] = {1, 2, 8, 4};
    return rw_of(dr7, i) == 0 ? 1 : kBytes[(dr7 >> (18 + 4 * i)) & 3];
}

} // namespace

void debug_write(GuestDebug& d, unsigned n, u32 value) {
    switch (n & 7) {
    case 0:
    case 1:
    case 2:
    case 3:
        d.dr[n & 3] = value;
        break;
    case 4:
    case 6:
        d.dr6 = value | kDr6Fixed;
        break;
    default: // 5, 7: bits 11, 12, 14 and 15 read as 0, bit 10 as 1
        d.dr7 = (value & ~0xd800u) | kDr7Fixed;
        break;
    }
}

u32 debug_read(const GuestDebug& d, unsigned n) {
    switch (n & 7) {
    case 0:
    case 1:
    case 2:
    case 3:
        return d.dr[n & 3];
    case 4:
    case 6:
        return d.dr6;
    default:
        return d.dr7;
    }
}

bool debug_breakpoint_safe(const GuestDebug& d, unsigned i) {
    if (rw_of(d.dr7, i) == kRwIo) return false;
    const u32 len = length_of(d.dr7, i);
    const u32 first = d.dr[i & 3] & ~(len - 1); // the CPU ignores the low address bits
    return first + (len - 1) < X86_SWITCHER_VA;
}

TESSERA_HOT u32 debug_dr7_for_cpu(const GuestDebug& d) {
    u32 out = 0;
    for (unsigned i = 0; i < 4; ++i) {
        const u32 enable = (d.dr7 >> (2 * i)) & 3;
        if (enable == 0 || !debug_breakpoint_safe(d, i)) continue;
        out |= enable << (2 * i);
        out |= d.dr7 & (0xfu << (16 + 4 * i)); // its RW and LEN
    }
    if (out == 0) return 0;
    return out | (d.dr7 & 0x300) | kDr7Fixed; // LE, GE
}

u32 debug_dr6_mask(const GuestDebug& d) {
    const u32 armed = debug_dr7_for_cpu(d);
    u32 mask = kDr6Status & ~kDr6Hits;
    for (unsigned i = 0; i < 4; ++i)
        if (armed & (3u << (2 * i))) mask |= 1u << i;
    return mask;
}

} // namespace tessera::arch
