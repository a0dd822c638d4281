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
    u64 bad = 0;
};

// A failed step: reported for the first few, always counted.
void bad(Totals& t, bool ok, const char* what, u64 cycle, u64 value) {
    if (ok) return;
    if (++t.bad <= kMaxReported)
        check(false, Detail("%" PRIu64, value), "restart cycle %" PRIu64 ": %s", cycle, what);
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
    while (!end.expired()) {
        cycle(rng, t);
        if (progress.expired()) {
            note("restart: %" PRIu64 " cycles, %" PRIu64 " crashed", t.cycles, t.crashed);
            progress = Deadline::ms(30'000);
        }
    }
    const Memory final_memory = memory();
    note("restart: totals: %" PRIu64 " cycles, %" PRIu64 " crashed, %" PRIu64
         " destroyed running, %" PRIu64 " free memory back, %" PRIu64 " skipped",
         t.cycles, t.crashed, t.destroyed_running, t.free_back, t.skipped);
    note("restart: free memory %" PRIu64 " MiB at the start, %" PRIu64
         " MiB at the end (LPARs that ended meanwhile hold %" PRIu64 " MiB less)",
         start.free / kMiB, final_memory.free / kMiB, (start.held - final_memory.held) / kMiB);
    check(t.cycles > 0, "at least one restart cycle");
    check_eq(t.bad, 0, "%" PRIu64 " restart cycles without a failed step", t.cycles);
    check_eq(final_memory.unaccounted(), 0, "at the end every chunk is free or held by an LPAR");
    check_eq(final_memory.free, start.free + (start.held - final_memory.held),
             "free memory at the end: the start value plus what ended LPARs gave back");
    finish();
}
