// The guest's debug registers: what mov to/from drN keeps, and which breakpoints the CPU may be
// armed with (never on the switcher, never I/O).
#include "isa/ia32/debug_regs.hpp"

#include <arch/x86.hpp>
#include <doctest/doctest.h>

using namespace tessera;
using namespace tessera::arch;

namespace {

// DR7 with breakpoint i enabled (local), its RW and LEN fields.
u32 enable(unsigned i, unsigned rw, unsigned len) {
    return kDr7Fixed | (1u << (2 * i)) | (((len << 2) | rw) << (16 + 4 * i));
}

} // namespace

TEST_CASE("debug registers: reads give what was written, with the fixed bits") {
    GuestDebug d;
    CHECK(debug_read(d, 6) == 0xffff0ff0);
    CHECK(debug_read(d, 7) == 0x400);
    for (unsigned i = 0; i < 4; ++i) debug_write(d, i, 0x1000 * (i + 1));
    for (unsigned i = 0; i < 4; ++i) CHECK(debug_read(d, i) == 0x1000 * (i + 1));
    debug_write(d, 6, 0);
    CHECK(debug_read(d, 6) == 0xffff0ff0);
    debug_write(d, 4, 0x4002); // dr4 is dr6
    CHECK(debug_read(d, 6) == 0xffff4ff2);
    debug_write(d, 5, 0xffffffff); // dr5 is dr7
    CHECK(debug_read(d, 7) == 0xffff27ff);
    CHECK(debug_read(d, 5) == debug_read(d, 7));
}

TEST_CASE("debug registers: the CPU gets enabled, safe breakpoints only") {
    GuestDebug d;
    CHECK(debug_dr7_for_cpu(d) == 0); // none enabled
    d.dr[0] = 0x08048000;
    d.dr7 = enable(0, 0, 0) | 0x100; // execute, LE
    CHECK(debug_dr7_for_cpu(d) == (kDr7Fixed | 0x100 | 1));
    SUBCASE("GD and the reserved bits never reach the CPU") {
        d.dr7 |= kDr7Gd | 0x800;
        CHECK(debug_dr7_for_cpu(d) == (kDr7Fixed | 0x100 | 1));
    }
    SUBCASE("a field without its enable bits is dropped") {
        d.dr[1] = 0x1000;
        d.dr7 |= ((3u << 2) | 1) << 20; // DR1's RW/LEN, not enabled
        CHECK(debug_dr7_for_cpu(d) == (kDr7Fixed | 0x100 | 1));
    }
    SUBCASE("on the switcher: refused, whatever the length") {
        d.dr[0] = X86_SWITCHER_VA;
        CHECK(debug_dr7_for_cpu(d) == 0);
        d.dr[0] = 0xfffffffc;
        d.dr7 = enable(0, 1, 3); // 4-byte write
        CHECK(debug_dr7_for_cpu(d) == 0);
        // The last bytes below it are the guest's; an 8-byte one at X86_SWITCHER_VA - 4 is
        // aligned down (the CPU ignores the low bits), so it is below too.
        d.dr[0] = X86_SWITCHER_VA - 4;
        CHECK(debug_dr7_for_cpu(d) == enable(0, 1, 3));
        d.dr7 = enable(0, 3, 2); // 8 bytes: covers X86_SWITCHER_VA - 8 .. - 1
        CHECK(debug_dr7_for_cpu(d) == enable(0, 3, 2));
        d.dr[0] = X86_SWITCHER_VA - 1;
        d.dr7 = enable(0, 1, 1); // 2 bytes at -2: below
        CHECK(debug_dr7_for_cpu(d) == enable(0, 1, 1));
    }
    SUBCASE("I/O breakpoints are refused") {
        d.dr[2] = 0x3f8;
        d.dr7 = enable(2, 2, 0);
        CHECK(debug_dr7_for_cpu(d) == 0);
        CHECK_FALSE(debug_breakpoint_safe(d, 2));
    }
    SUBCASE("one refused, the others armed") {
        d.dr[1] = 0xffc01000;
        d.dr[3] = 0x0804a000;
        d.dr7 = enable(0, 0, 0) | enable(1, 1, 3) | enable(3, 3, 3) | 0x200;
        CHECK(debug_dr7_for_cpu(d) == (enable(0, 0, 0) | enable(3, 3, 3) | 0x200));
    }
}

TEST_CASE("debug registers: DR6 shows hits of armed breakpoints only") {
    GuestDebug d;
    CHECK(debug_dr6_mask(d) == (kDr6Bd | kDr6Bs | kDr6Bt));
    d.dr[1] = 0x1000;
    d.dr[2] = X86_SWITCHER_VA; // refused
    d.dr7 = enable(1, 1, 3) | enable(2, 0, 0);
    CHECK(debug_dr6_mask(d) == (kDr6Bd | kDr6Bs | kDr6Bt | 2));
}
