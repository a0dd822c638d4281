// Random hcalls for the hostile test LPARs (chaos, soak): which numbers to aim at, which to avoid
// (they would hurt the caller itself), and arguments biased to what breaks handlers.
#pragma once

#include "lpar.hpp"

namespace lpar::chaos {

using namespace tessera::hcall;

// hcalls that can legitimately hurt the caller itself: stop it or idle it with interrupts off,
// end the LPAR, change its MMU or interrupt endianness, or write into its memory at an address
// it names (now or later, through a registered buffer or queue). Compared on the low 32 bits,
// so that a hypervisor which truncated the opcode would not be led into them either. When the
// hypervisor implements a new hcall of that kind, add it here.
// clang-format off
constexpr u64 kAvoid[] = {
    // idle, stop, end
    H_CEDE, H_TESSERA_TEST_EXIT, H_TESSERA_SHUTDOWN, H_RTAS, 0x298 /* H_JOIN */,
    H_SIGNAL_SYS_RESET,
    // MMU, endianness, breakpoints
    H_SET_MODE, H_REGISTER_PROC_TBL, 0x36C /* H_RESIZE_HPT_PREPARE */,
    0x370 /* H_RESIZE_HPT_COMMIT */, H_SET_DABR, 0x134 /* H_SET_XDABR */,
    // writes to guest memory
    H_REGISTER_VPA, H_PAGE_INIT, H_LOGICAL_CI_LOAD, H_LOGICAL_CI_STORE, H_PUT_TCE,
    H_PUT_TCE_INDIRECT, H_STUFF_TCE, H_VTERM_PARTNER_INFO, 0xFC /* H_REG_CRQ */,
    0x114 /* H_REGISTER_LOGICAL_LAN */, 0x118 /* H_ADD_LOGICAL_LAN_BUFFER */,
    0x2DC /* H_REG_SUB_CRQ */,
};
// clang-format on

// The ISA-neutral hcalls worth aiming at; the ISA adds its own (isa::kChaosHcalls).
constexpr u64 kCommon[] = {
    H_GET_TERM_CHAR, H_PUT_TERM_CHAR, H_EOI,    H_CPPR,    H_IPI,  H_IPOLL,  H_XIRR,
    H_XIRR_X,        H_PROD,          H_CONFER, H_GET_PPP, H_PURR, H_RANDOM, H_SET_SPRG0,
};

inline bool avoided(u64 number) {
    for (u64 a : kAvoid)
        if ((number & 0xffffffff) == a) return true;
    return false;
}

inline u64 pick_number(Lcg& rng) {
    const u64 kind = rng.below(100);
    if (kind < 30) return kCommon[rng.below(sizeof(kCommon) / sizeof(kCommon[0]))];
    if (kind < 55) return isa::kChaosHcalls[rng.below(isa::kChaosHcallCount)];
    if (kind < 75) return 4 * rng.below(H_MAX_ARCHITECTED / 4 + 8); // a bit past the range too
    if (kind < 85) return H_IMPL_FIRST + rng.below(H_IMPL_LAST - H_IMPL_FIRST + 1);
    if (kind < 92) return rng.below(0x500); // not always a multiple of 4
    return rng.next();
}

inline u64 pick_arg(Lcg& rng, const Boot& b) {
    static constexpr u64 kInteresting[] = {
        0,
        1,
        2,
        3,
        4,
        0xff,
        0x100,
        0xffff,
        0xffffffff,
        0x100000000,
        ~u64{0},
        u64{1} << 63,
        0x7fffffffffffffff,
        kVtyTermno,
        0x1000,
        0xff000002,
        0xff001000,
        0x20000000,
        0x30000000,
    };
    switch (rng.below(6)) {
    case 0:
        return rng.next();
    case 1:
        return rng.below(32);
    case 2:
        return kInteresting[rng.below(sizeof(kInteresting) / sizeof(kInteresting[0]))];
    case 3: // an address or page number in or around the LPAR's memory
        return rng.below(b.memory_size + b.memory_size / 4) & ~u64{0xfff};
    case 4: // a plausible HTAB index
        return b.htab_log2 >= 4 ? rng.below(u64{1} << (b.htab_log2 - 4)) : rng.below(4096);
    default: // PAPR flag bits (IBM bits 24..48) and a small number
        return (rng.next() & 0x00000000ffff8000ull) << 24 | rng.below(8);
    }
}

// A random hcall number and arguments the ISA's filter accepts (never one that hurts the caller).
inline void pick_call(Lcg& rng, const Boot& b, u64& number, u64 (&args)[9]) {
    do {
        number = pick_number(rng);
        for (u64& a : args) a = pick_arg(rng, b);
        // no noise on its own vty (termno 0 names it too)
        if (number == H_PUT_TERM_CHAR && (args[0] == kVtyTermno || args[0] == 0)) args[0] ^= 1;
    } while (avoided(number) || !isa::chaos_sanitize(number, args));
}

} // namespace lpar::chaos
