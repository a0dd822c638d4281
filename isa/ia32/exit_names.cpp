#include "isa/ia32/exit_reason.hpp"

namespace tessera::arch {

const char* const kExitNames[kExitReasons] = {
    "irq", "hcall", "iret", "fill", "int80", "int", "step", "cr", "dr", "invlpg", "tables",
    "clisti", "hlt", "io", "msr", "emu", "vtimer", "vext", "held", "window", "mmkept", "mmnew",
    "hc-timer", "hc-cede", "hc-xics", "hc-vio", "hc-vty", "hc-other", "tick", "tlsrow", "self",
    "raised",
    // Reflected exceptions, by vector.
    "#DE", "#DB", "nmi", "#BP", "#OF", "#BR", "#UD", "#NM", "#DF", "x9", "#TS", "#NP", "#SS", "#GP",
    "#PF", "x15", "#MF", "#AC", "#MC", "#XM", "x20", "x21", "x22", "x23", "x24", "x25", "x26",
    "x27", "x28", "x29", "x30", "x31",
    // Counted, not exits.
    "pf-switcher", "gp-switcher",
    // Of the hcalls, continued.
    "hc-inval", "hc-protect",
    // The NMI watchdog's (plat/pc/watchdog.cpp).
    "watchdog",
    // Of the hcalls, continued; and what the fork hcall copied (not exits).
    "hc-fork", "fork-copied", "hc-refill",
    // Of the hcalls, continued; and what the move hcall made (not exits).
    "hc-move", "moved",
    // A later deadline taken from the timer's words (vtimer.hpp timer_sync_want; not exits).
    "later"};

static_assert(static_cast<usize>(Exit::VirqRaised) < 32);
static_assert(static_cast<usize>(Exit::TimerLater) < kExitReasons);

} // namespace tessera::arch
