// restarter (1 vcpu, `control = yes`): the crash/restart loop of scripts/soak. For the soak's
// duration it creates the run-time LPAR `crasher` (the program crasher.bin, 1 or 2 vcpus),
// starts it and waits until the hypervisor has stopped it for executing garbage, or every
// eighth cycle destroys it while it still runs; then destroys it and checks that the machine's
// free memory is back to its value before the cycle (when no other LPAR ended meanwhile) and
// that every chunk is free or held by a listed LPAR. At the end one totals line,
//   restart: totals: N cycles, C crashed, R destroyed running, F free memory back, S skipped
// (S: cycles during which another LPAR ended, so the free memory moved for that reason), then
// its checks and a normal end.
//
// Linux in the loop: a third into the soak (at most a minute in) and then every kLinuxEveryMs a
// cycle is a Linux cycle instead.
// It creates `rlinux` (256 MiB, the bundle's `vmlinux` and `initrd`: the soak's checks
// initramfs, which runs the guest checks once and powers off), starts it and, in turn: lets it
// run to its own power-off (the console must show userspace and "N passed, 0 failed"), makes it
// panic (an init that does not exist: the hypervisor must stop it as crashed, the console must
// show the panic), destroys it while it boots (after 1-12 s), or asks it to stop gracefully
// once userspace is up (it must power off before the deadline). Then the same destroy and
// memory checks as every cycle, and
//   restart: linux: N cycles, P powered off with its checks passed, K panicked and stopped,
//   D destroyed while booting, G stopped gracefully
//
// The duration is the number in kSoakSeconds, which scripts/soak rewrites in a copy of the image
// as it does for soak.bin.
#include "common/rt/string.hpp"
#include "lpar.hpp"
#include "soak_seconds.hpp"

#include <tessera/lpar_control.h>

using namespace lpar;
using namespace tessera::hcall;

extern "C" {
volatile const char kSoakSeconds[] = "tessera-soak-seconds=000000060";
}

namespace {

constexpr u64 kMiB = 1u << 20;
constexpr u64 kEndMs = 20000;
constexpr unsigned kMaxReported = 8;
constexpr const char kName[] = "crasher";
constexpr const char kProgram[] = "crasher.bin";
constexpr const char kLinuxName[] = "rlinux";
constexpr const char kLinuxKernel[] = "vmlinux";
constexpr const char kLinuxInitrd[] = "initrd";
constexpr u64 kLinuxMemory = 256 * kMiB;
constexpr u64 kLinuxEveryMs = 60'000;
constexpr u64 kLinuxBootMs = 600'000; // to its own power-off, on a loaded host
constexpr u64 kLinuxStopMs = 120'000; // the graceful stop's deadline

u64 la(const void* p) {
    return static_cast<u64>(reinterpret_cast<uintptr_t>(p));
}
u64 len(const char* s) {
    return tessera::rt::str_length(s);
}

u64 state_of(u64 id) {
    HcallResult r = hcall(TLPAR_STATUS, id, 0, 0, 0, 0);
    return r.status == H_SUCCESS ? r.ret[0] : ~u64{0};
}

// The machine's memory: free, held by the listed LPARs, in all; read again until the free
// figure did not move while the list was read (other LPARs end during the soak).
struct Memory {
    u64 free = 0, held = 0, total = 0;
    u64 unaccounted() const { return total - free - held; }
};
Memory memory() {
    for (;;) {
        const HcallResult before = hcall(TLPAR_FREE_MEMORY);
        Memory m;
        for (u64 id = hcall(TLPAR_NEXT, 0).ret[0]; id != 0; id = hcall(TLPAR_NEXT, id).ret[0])
            m.held += hcall(TLPAR_STATUS, id, 0, 0, 0, 0).ret[1];
        if (hcall(TLPAR_FREE_MEMORY).ret[0] == before.ret[0]) {
            m.free = before.ret[0];
            m.total = before.ret[1];
            return m;
        }
    }
}

struct Totals {
    u64 cycles = 0, crashed = 0, destroyed_running = 0, free_back = 0, skipped = 0;
    u64 linux_cycles = 0, linux_powered_off = 0, linux_panicked = 0, linux_destroyed = 0;
    u64 linux_graceful = 0;
    u64 bad = 0;
};

// A failed step: reported for the first few, always counted.
void bad(Totals& t, bool ok, const char* what, u64 cycle, u64 value) {
    if (ok) return;
    if (++t.bad <= kMaxReported)
        check(false, Detail("%" PRIu64, value), "restart cycle %" PRIu64 ": %s", cycle, what);
}

// Destroys `id` (through H_BUSY) and checks that the machine got its memory back: the end of
// every cycle.
void destroy_and_account(Totals& t, u64 c, u64 id, const Memory& before) {
    HcallResult r;
    do r = hcall(TLPAR_DESTROY, id);
    while (r.status == H_BUSY);
    bad(t, r.status == H_SUCCESS, "destroy", c, static_cast<u64>(r.status));
    bad(t, state_of(id) == ~u64{0}, "no status after destroy", c, state_of(id));
    const Memory after = memory();
    bad(t, after.unaccounted() == 0, "every chunk free or held by a listed LPAR", c,
        after.unaccounted());
    if (after.held != before.held) {
        ++t.skipped; // another LPAR ended (or started) meanwhile
    } else {
        bad(t, after.free == before.free, "free memory back to its value before the cycle", c,
            after.free);
        if (after.free == before.free) ++t.free_back;
    }
}

// What rlinux printed so far (its console history, read as it comes; the end kept if it is
// longer than the buffer).
struct ConsoleText {
    static constexpr u64 kCap = 128 * 1024;
    char text[kCap + 1] = {};
    u64 len = 0;

    void take(u64 id) {
        for (;;) {
            if (len > kCap - 4096) { // keep the newest half
                tessera::rt::mem_move(text, text + kCap / 2, len - kCap / 2);
                len -= kCap / 2;
            }
            const HcallResult r = hcall(TLPAR_CONSOLE_READ, id, la(text + len), kCap - len);
            if (r.status != H_SUCCESS || r.ret[0] == 0) break;
            len += r.ret[0];
        }
        text[len] = '\0';
    }
    bool has(const char* what) const {
        const u64 n = len_of(what);
        for (u64 i = 0; i + n <= len; ++i)
            if (tessera::rt::mem_compare(text + i, what, n) == 0) return true;
        return false;
    }
    // Notes up to `max` lines that contain `what` (a failed check's own report).
    void note_lines(const char* what, unsigned max) const {
        const u64 n = len_of(what);
        for (u64 i = 0; i + n <= len && max > 0; ++i) {
            if (tessera::rt::mem_compare(text + i, what, n) != 0) continue;
            u64 start = i, end = i;
            while (start > 0 && text[start - 1] != '\n') --start;
            while (end < len && text[end] != '\n' && text[end] != '\r' && end - start < 160) ++end;
            note("rlinux: %.*s", static_cast<int>(end - start), text + start);
            i = end;
            --max;
        }
    }
    static u64 len_of(const char* s) { return tessera::rt::str_length(s); }
};
ConsoleText console_text; // static: 128 KiB

bool linux_checks_passed() {
    // The checks initramfs ends with "N passed, M failed" on a line of its own.
    return console_text.has(" passed, 0 failed\n") || console_text.has(" passed, 0 failed\r");
}

// The Linux cycles, in this order (a short soak has the first two).
enum class LinuxMode : u8 { PowerOff, Panic, Destroy, Graceful };
constexpr LinuxMode kLinuxModes[] = {LinuxMode::PowerOff, LinuxMode::Panic, LinuxMode::Destroy,
                                     LinuxMode::Graceful};

void linux_cycle(Lcg& rng, Totals& t) {
    const u64 c = t.cycles++;
    const LinuxMode mode = kLinuxModes[t.linux_cycles++ % 4];
    const Memory before = memory();
    HcallResult r = hcall(TLPAR_CREATE, la(kLinuxName), len(kLinuxName), kLinuxMemory, 1, 0, 0);
    bad(t, r.status == H_SUCCESS, "create rlinux", c, static_cast<u64>(r.status));
    if (r.status != H_SUCCESS) return;
    const u64 id = r.ret[0];
    const bool ia32 = tessera::rt::str_compare(isa::kName, "ia32") == 0;
    // tessera.loaded=1: next to the hostile LPARs only the timers check's lower bounds hold.
    const char* cmdline = mode == LinuxMode::Panic
                              ? (ia32 ? "console=hvc0 tsc=reliable rdinit=/nope init=/nope"
                                      : "console=hvc0 rdinit=/nope init=/nope")
                              : (ia32 ? "console=hvc0 tsc=reliable tessera.loaded=1"
                                      : "console=hvc0 tessera.loaded=1");
    r = hcall(TLPAR_SET_CMDLINE, id, la(cmdline), len(cmdline));
    bad(t, r.status == H_SUCCESS, "set rlinux's command line", c, static_cast<u64>(r.status));
    r = hcall(TLPAR_LOAD, id, TLPAR_LOAD_LINUX, la(kLinuxKernel), len(kLinuxKernel),
              la(kLinuxInitrd), len(kLinuxInitrd));
    bad(t, r.status == H_SUCCESS, "load Linux (vmlinux, initrd)", c, static_cast<u64>(r.status));
    if (r.status == H_SUCCESS) {
        console_text.len = 0;
        r = hcall(TLPAR_START, id);
        bad(t, r.status == H_SUCCESS, "start rlinux", c, static_cast<u64>(r.status));
        if (mode == LinuxMode::Panic) {
            const bool ended = wait_until(
                [&] {
                    console_text.take(id);
                    return state_of(id) != TLPAR_STATE_RUNNING;
                },
                kLinuxBootMs, 20);
            console_text.take(id);
            const u64 s = state_of(id);
            bad(t, ended && s == TLPAR_STATE_CRASHED, "rlinux stopped as crashed after its panic",
                c, s);
            const bool panicked = console_text.has("Kernel panic - not syncing");
            bad(t, panicked, "rlinux's console shows the panic", c, console_text.len);
            if (s == TLPAR_STATE_CRASHED && panicked) ++t.linux_panicked;
        } else if (mode == LinuxMode::Destroy) {
            // Destroyed while it boots (below), after 1-12 s.
            const Deadline d = Deadline::ms(1000 + rng.below(11'000));
            while (!d.expired()) idle(10 * ticks_per_ms());
            bad(t, state_of(id) == TLPAR_STATE_RUNNING, "rlinux still running before destroy", c,
                state_of(id));
            ++t.linux_destroyed;
        } else {
            bool up = false;
            if (mode == LinuxMode::Graceful) {
                up = wait_until(
                    [&] {
                        console_text.take(id);
                        return console_text.has("TESSERA-GUEST: userspace up") ||
                               state_of(id) != TLPAR_STATE_RUNNING;
                    },
                    kLinuxBootMs, 20);
                r = hcall(TLPAR_STOP, id, 0, kLinuxStopMs);
                bad(t, r.status == H_SUCCESS, "graceful stop of rlinux", c,
                    static_cast<u64>(r.status));
            }
            const bool ended = wait_until(
                [&] {
                    console_text.take(id);
                    return state_of(id) != TLPAR_STATE_RUNNING;
                },
                mode == LinuxMode::Graceful ? kLinuxStopMs + 10'000 : kLinuxBootMs, 20);
            console_text.take(id);
            const u64 s = state_of(id);
            bad(t, ended && s == TLPAR_STATE_STOPPED, "rlinux powered off", c, s);
            bad(t, console_text.has("TESSERA-GUEST: userspace up"), "rlinux reached userspace", c,
                console_text.len);
            if (mode == LinuxMode::PowerOff) {
                bad(t, linux_checks_passed(), "rlinux's checks passed", c, console_text.len);
                if (!linux_checks_passed()) console_text.note_lines("FAIL", 4);
                if (s == TLPAR_STATE_STOPPED && linux_checks_passed()) ++t.linux_powered_off;
            } else if (up && s == TLPAR_STATE_STOPPED) {
                ++t.linux_graceful;
            }
        }
    }
    destroy_and_account(t, c, id, before);
}

void cycle(Lcg& rng, Totals& t) {
    const u64 c = t.cycles++;
    const Memory before = memory();
    const u64 vcpus = 1 + rng.below(2);
    HcallResult r = hcall(TLPAR_CREATE, la(kName), len(kName), 16 * kMiB, vcpus, 0, 0);
    bad(t, r.status == H_SUCCESS, "create", c, static_cast<u64>(r.status));
    if (r.status != H_SUCCESS) return;
    const u64 id = r.ret[0];
    r = hcall(TLPAR_LOAD, id, TLPAR_LOAD_PROGRAM, la(kProgram), len(kProgram), 0, 0);
    bad(t, r.status == H_SUCCESS, "load crasher.bin", c, static_cast<u64>(r.status));
    if (r.status == H_SUCCESS) {
        r = hcall(TLPAR_START, id);
        bad(t, r.status == H_SUCCESS, "start", c, static_cast<u64>(r.status));
        if (c % 8 == 7) {
            ++t.destroyed_running; // destroyed below, maybe before it even ran
        } else {
            const bool ended = wait_until(
                [&] {
                    const u64 s = state_of(id);
                    return s == TLPAR_STATE_CRASHED || s == TLPAR_STATE_STOPPED;
                },
                kEndMs, 2);
            const u64 s = state_of(id);
            bad(t, ended && s == TLPAR_STATE_CRASHED, "the hypervisor stopped it (crashed)", c, s);
            if (s == TLPAR_STATE_CRASHED) ++t.crashed;
        }
    }
    destroy_and_account(t, c, id, before);
}

} // namespace

void lpar_main(const Boot& b) {
    if (b.vcpu != 0) return;
    const u64 seconds = soak_seconds(kSoakSeconds);
    note("restart: %" PRIu64 " s of create, start, crash, destroy cycles of %s", seconds, kProgram);
    const Memory start = memory();
    check(start.free >= 32 * kMiB, Detail("%" PRIu64 " MiB", start.free / kMiB),
          "the machine has free memory for the crasher");
    check_eq(start.unaccounted(), 0, "at the start every chunk is free or held by an LPAR");
    Lcg rng(0x4e57a47ull ^ now());
    Totals t;
    const Deadline end = Deadline::ms(seconds * 1000);
    Deadline progress = Deadline::ms(30'000);
    // The first Linux cycle a third into the soak (at most a minute): crasher cycles first.
    Deadline next_linux =
        Deadline::ms(seconds * 1000 / 3 < kLinuxEveryMs ? seconds * 1000 / 3 : kLinuxEveryMs);
    while (!end.expired()) {
        if (next_linux.expired()) {
            next_linux = Deadline::ms(kLinuxEveryMs);
            linux_cycle(rng, t);
            continue;
        }
        cycle(rng, t);
        if (progress.expired()) {
            note("restart: %" PRIu64 " cycles, %" PRIu64 " crashed", t.cycles, t.crashed);
            progress = Deadline::ms(30'000);
        }
    }
    note("restart: linux: %" PRIu64 " cycles, %" PRIu64
         " powered off with its checks passed, %" PRIu64 " panicked and stopped, %" PRIu64
         " destroyed while booting, %" PRIu64 " stopped gracefully",
         t.linux_cycles, t.linux_powered_off, t.linux_panicked, t.linux_destroyed,
         t.linux_graceful);
    const Memory final_memory = memory();
    note("restart: totals: %" PRIu64 " cycles, %" PRIu64 " crashed, %" PRIu64
         " destroyed running, %" PRIu64 " free memory back, %" PRIu64 " skipped",
         t.cycles, t.crashed, t.destroyed_running, t.free_back, t.skipped);
    note("restart: free memory %" PRIu64 " MiB at the start, %" PRIu64
         " MiB at the end (LPARs that ended meanwhile hold %" PRIu64 " MiB less)",
         start.free / kMiB, final_memory.free / kMiB, (start.held - final_memory.held) / kMiB);
    check(t.cycles > 0, "at least one restart cycle");
    check(t.linux_cycles > 0 && t.linux_powered_off > 0,
          Detail("%" PRIu64 " Linux cycles", t.linux_cycles),
          "at least one Linux cycle ran its checks to its power-off");
    check_eq(t.bad, 0, "%" PRIu64 " restart cycles without a failed step", t.cycles);
    check_eq(final_memory.unaccounted(), 0, "at the end every chunk is free or held by an LPAR");
    check_eq(final_memory.free, start.free + (start.held - final_memory.held),
             "free memory at the end: the start value plus what ended LPARs gave back");
    finish();
}
