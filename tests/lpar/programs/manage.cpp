// manage (1 vcpu, `control = yes`): drives the LPAR management block (docs/management.md) from
// a control LPAR. Bad arguments get their PAPR code and reason; 50 create/load/destroy cycles of
// the `managed` program (a bundle entry no configured LPAR uses), some started, stopped
// gracefully or by force, bring the machine's free memory back to its start value every time;
// the console history has the output from the start and takes input from one writer.
#include "common/rt/string.hpp"
#include "lpar.hpp"

#include <tessera/lpar_control.h>

using namespace lpar;
using namespace tessera::hcall;

namespace {

constexpr unsigned kCycles = 50;
constexpr u64 kMiB = 1u << 20;
constexpr u64 kWaitMs = 20000;
constexpr u64 kSettleMs = 200000;
constexpr const char kProgram[] = "managed.bin";

u64 la(const void* p) {
    return static_cast<u64>(reinterpret_cast<uintptr_t>(p));
}
u64 len(const char* s) {
    return tessera::rt::str_length(s);
}

u64 free_memory() {
    return hcall(TLPAR_FREE_MEMORY).ret[0];
}

// The machine's memory that is neither free nor held by an LPAR in the list: 0 unless chunks
// leaked. The other test LPARs end (and free their memory) while this one runs, so the free
// memory alone moves; read again until no LPAR changed in between.
u64 unaccounted() {
    for (;;) {
        const HcallResult before = hcall(TLPAR_FREE_MEMORY);
        u64 held = 0;
        for (u64 id = hcall(TLPAR_NEXT, 0).ret[0]; id != 0; id = hcall(TLPAR_NEXT, id).ret[0])
            held += hcall(TLPAR_STATUS, id, 0, 0, 0, 0).ret[1];
        if (hcall(TLPAR_FREE_MEMORY).ret[0] == before.ret[0])
            return before.ret[1] - before.ret[0] - held;
    }
}

HcallResult create(const char* name, u64 memory, u64 vcpus) {
    return hcall(TLPAR_CREATE, la(name), len(name), memory, vcpus, 0, 0);
}
HcallResult load(u64 id, u64 how, const char* kernel) {
    return hcall(TLPAR_LOAD, id, how, la(kernel), len(kernel), 0, 0);
}
u64 state_of(u64 id) {
    HcallResult r = hcall(TLPAR_STATUS, id, 0, 0, 0, 0);
    return r.status == H_SUCCESS ? r.ret[0] : ~u64{0};
}
u64 find(const char* name) {
    HcallResult r = hcall(TLPAR_FIND, la(name), len(name));
    return r.status == H_SUCCESS ? r.ret[0] : 0;
}

// A refused call: its status and reason.
void check_refused(const HcallResult& r, i64 status, u64 reason, const char* what) {
    check(r.status == status && r.ret[0] == reason,
          Detail("%s reason %" PRIu64 ", want %s reason %" PRIu64, status_name(r.status), r.ret[0],
                 status_name(status), reason),
          "%s", what);
}

// Reads the LPAR's console until `want` appeared (in `text`, which keeps the last bytes).
bool console_until(u64 id, const char* want, char* text, usize cap) {
    usize have = 0;
    text[0] = '\0';
    return wait_until(
        [&] {
            char buf[128];
            HcallResult r = hcall(TLPAR_CONSOLE_READ, id, la(buf), sizeof buf);
            if (r.status != H_SUCCESS) return false;
            for (u64 i = 0; i < r.ret[0]; ++i) {
                if (have + 1 == cap) { // keep the newest half
                    for (usize j = 0; j < cap / 2; ++j) text[j] = text[j + cap / 2 - 1];
                    have = cap / 2 - 1;
                }
                text[have++] = buf[i] ? buf[i] : '.';
            }
            text[have] = '\0';
            for (usize i = 0; text[i]; ++i)
                if (tessera::rt::str_compare_n(text + i, want, len(want)) == 0) return true;
            return false;
        },
        kWaitMs, 5);
}

void bad_arguments(u64 self) {
    const char* const name = "victim";
    check_refused(create("", 16 * kMiB, 1), H_PARAMETER, TLPAR_E_BAD_NAME, "create: empty name");
    check_refused(create("two words", 16 * kMiB, 1), H_PARAMETER, TLPAR_E_BAD_NAME,
                  "create: a name with a space");
    check_refused(create("manage", 16 * kMiB, 1), H_PARAMETER, TLPAR_E_NAME_USED,
                  "create: a name in use (the caller's)");
    check_refused(create(name, 0, 1), H_P3, TLPAR_E_BAD_MEMORY, "create: no memory");
    check_refused(create(name, 16 * kMiB + 4096, 1), H_P3, TLPAR_E_BAD_MEMORY,
                  "create: memory not a multiple of 16 MiB");
    check_refused(create(name, free_memory() + 16 * kMiB, 1), H_NO_MEM, TLPAR_E_NO_MEMORY,
                  "create: more memory than the free pool");
    check_refused(create(name, 16 * kMiB, 0), H_P4, TLPAR_E_NO_VCPUS, "create: 0 vcpus");
    check_refused(create(name, 16 * kMiB, 9), H_P4, TLPAR_E_TOO_MANY_VCPUS, "create: 9 vcpus");
    check_refused(hcall(TLPAR_DESTROY, self), H_PARAMETER, TLPAR_E_SELF, "destroy: not itself");
    check_refused(hcall(TLPAR_STOP, self, TLPAR_STOP_FORCE, 0), H_PARAMETER, TLPAR_E_SELF,
                  "stop: not itself");
    check_refused(hcall(TLPAR_START, 99), H_PARAMETER, TLPAR_E_NO_LPAR, "start: unknown LPAR");
    check_refused(hcall(TLPAR_FIND, la("no-such-lpar"), 12), H_NOT_FOUND, TLPAR_E_NO_LPAR,
                  "find: unknown name");
    check_status(hcall(TLPAR_DESTROY, 99).status, H_SUCCESS, "destroy: an unknown id is done");
    check(find(name) == 0, "no LPAR was created by the bad requests");

    HcallResult r = create(name, 16 * kMiB, 1);
    check_status(r.status, H_SUCCESS, "create %s", name);
    const u64 id = r.ret[0];
    char pattern[64] = "copied in by manage";
    check_status(hcall(TLPAR_COPY_IN, id, 0x1000, la(pattern), sizeof pattern).status, H_SUCCESS,
                 "copy-in into the new LPAR");
    check_refused(hcall(TLPAR_COPY_IN, id, 16 * kMiB - 8, la(pattern), 16), H_PARAMETER,
                  TLPAR_E_BAD_RANGE, "copy-in: beyond the target's memory");
    check_refused(hcall(TLPAR_COPY_IN, id, 0, boot().memory_size - 8, 16), H_PARAMETER,
                  TLPAR_E_BAD_RANGE, "copy-in: beyond the caller's memory");
    check_refused(hcall(TLPAR_COPY_IN, self, 0, la(pattern), 16), H_PARAMETER, TLPAR_E_SELF,
                  "copy-in: not into itself");
    check_refused(load(id, TLPAR_LOAD_PROGRAM, "no-such-entry"), H_PARAMETER, TLPAR_E_NO_ENTRY,
                  "load: unknown bundle entry");
    check_status(load(id, TLPAR_LOAD_PROGRAM, kProgram).status, H_SUCCESS, "load %s", kProgram);
    check_refused(hcall(TLPAR_COPY_IN, id, 0x1000, la(pattern), 16), H_PARAMETER, TLPAR_E_STATE,
                  "copy-in: not after load");
    check_refused(load(id, TLPAR_LOAD_PROGRAM, kProgram), H_PARAMETER, TLPAR_E_STATE,
                  "load: only once");
    check_status(hcall(TLPAR_DESTROY, id).status, H_SUCCESS, "destroy %s", name);
}

// True when every other LPAR in the list has ended (their memory went back to the pool).
bool others_ended(u64 self) {
    for (u64 id = hcall(TLPAR_NEXT, 0).ret[0]; id != 0; id = hcall(TLPAR_NEXT, id).ret[0]) {
        const u64 state = hcall(TLPAR_STATUS, id, 0, 0, 0, 0).ret[0];
        if (id != self && state != TLPAR_STATE_STOPPED && state != TLPAR_STATE_CRASHED)
            return false;
    }
    return true;
}

// One create/load/(start/stop)/destroy cycle; returns false when it went wrong. free0: the free
// memory before, which it must be again after.
bool cycle(unsigned i, u64 free0) {
    const char* const name = "victim";
    const u64 memory = (1 + i % 2) * 16 * kMiB;
    const u64 vcpus = 1 + i % 3;
    HcallResult r = create(name, memory, vcpus);
    bool ok =
        check_status(r.status, H_SUCCESS, "cycle %u: create (%" PRIu64 " MiB)", i, memory / kMiB);
    const u64 id = r.ret[0];
    ok &= check_eq(hcall(TLPAR_STATUS, id, 0, 0, 0, 0).ret[1], memory,
                   "cycle %u: it has %" PRIu64 " MiB", i, memory / kMiB);
    ok &= check_eq(free_memory(), free0 - memory, "cycle %u: the pool gave %" PRIu64 " MiB", i,
                   memory / kMiB);
    ok &= check_eq(unaccounted(), 0, "cycle %u: every chunk is free or held by an LPAR", i);
    ok &=
        check_status(load(id, TLPAR_LOAD_PROGRAM, kProgram).status, H_SUCCESS, "cycle %u: load", i);
    if (i % 10 == 0) { // start it, see it up, stop it
        ok &= check_status(hcall(TLPAR_START, id).status, H_SUCCESS, "cycle %u: start", i);
        char text[256];
        // Up, and its memory is zero: its chunks held an earlier victim's mark (every started
        // one marks all of its memory), none of which reaches the new owner.
        ok &=
            check(console_until(id, "memory past the image: all zero", text, sizeof text),
                  Detail("console: '%s'", text),
                  "cycle %u: it is up and its memory is zero (none of an earlier LPAR's data)", i);
        if (i % 20 == 0) {
            ok &= check_status(hcall(TLPAR_STOP, id, 0, kWaitMs).status, H_SUCCESS,
                               "cycle %u: graceful stop", i);
            ok &= check(wait_until([&] { return state_of(id) == TLPAR_STATE_STOPPED; }, kWaitMs, 5),
                        "cycle %u: it powered itself off", i);
            ok &=
                check(console_until(id, "managed: power off", text, sizeof text),
                      Detail("console: '%s'", text), "cycle %u: ... through its own power-off", i);
        } else {
            ok &= check_status(hcall(TLPAR_STOP, id, TLPAR_STOP_FORCE, 0).status, H_SUCCESS,
                               "cycle %u: forced stop", i);
            ok &= check_eq(state_of(id), TLPAR_STATE_STOPPED, "cycle %u: stopped at once", i);
        }
    }
    ok &= check_status(hcall(TLPAR_DESTROY, id).status, H_SUCCESS, "cycle %u: destroy", i);
    ok &= check(find(name) == 0, "cycle %u: gone from the list", i);
    ok &= check_eq(unaccounted(), 0, "cycle %u: its chunks went back to the free pool", i);
    ok &= check_eq(free_memory(), free0, "cycle %u: free memory back to the start value", i);
    return ok;
}

void console_channel() {
    HcallResult r = create("talker", 16 * kMiB, 1);
    check_status(r.status, H_SUCCESS, "create talker");
    const u64 id = r.ret[0];
    load(id, TLPAR_LOAD_PROGRAM, kProgram);
    check_status(hcall(TLPAR_START, id).status, H_SUCCESS, "start talker");
    // Let it print before anyone reads: the history keeps it.
    idle(200 * ticks_per_ms());
    char text[256];
    check(console_until(id, "managed: up", text, sizeof text), Detail("console: '%s'", text),
          "the console history has talker's first line");
    HcallResult a = hcall(TLPAR_CONSOLE_ATTACH, id, 0);
    check_status(a.status, H_SUCCESS, "console attach");
    check_refused(hcall(TLPAR_CONSOLE_ATTACH, id, 0), H_BUSY, TLPAR_E_BUSY,
                  "a second writer is refused");
    const char hello[] = "hello tessera\r";
    check_refused(hcall(TLPAR_CONSOLE_WRITE, id, a.ret[0] + 1, la(hello), len(hello)), H_PARAMETER,
                  TLPAR_E_BAD_TOKEN, "console write: a wrong token");
    HcallResult w = hcall(TLPAR_CONSOLE_WRITE, id, a.ret[0], la(hello), len(hello));
    check(w.status == H_SUCCESS && w.ret[0] == len(hello), "console write: all bytes taken");
    check(console_until(id, "managed: got hello tessera", text, sizeof text),
          Detail("console: '%s'", text), "talker answered the input");
    check_status(hcall(TLPAR_CONSOLE_DETACH, id, a.ret[0]).status, H_SUCCESS, "console detach");
    check_status(hcall(TLPAR_DESTROY, id).status, H_SUCCESS, "destroy a running LPAR");
    check_eq(state_of(id), ~u64{0}, "a destroyed LPAR has no status");
}

} // namespace

void lpar_main(const Boot& b) {
    if (b.vcpu != 0) return;
    // Itself in the list: the one with TLPAR_F_CALLER.
    u64 self = 0;
    for (u64 id = hcall(TLPAR_NEXT, 0).ret[0]; id != 0; id = hcall(TLPAR_NEXT, id).ret[0]) {
        HcallResult r = hcall(TLPAR_STATUS, id, 0, 0, 0, 0);
        if (r.ret[3] & TLPAR_F_CALLER) self = id;
    }
    check(self != 0, "the list has the caller, marked as itself");
    HcallResult st = hcall(TLPAR_STATUS, self, 0, 0, 0, 0);
    check(st.ret[0] == TLPAR_STATE_RUNNING && (st.ret[3] & TLPAR_F_CONTROL) != 0,
          "the caller is running and a control LPAR");
    // The other LPARs give their memory back when they end: wait for that, so that the free
    // memory stays put unless this LPAR changes it.
    check(wait_until([&] { return others_ended(self); }, kSettleMs, 50),
          "the other LPARs ended within %u s", static_cast<unsigned>(kSettleMs / 1000));
    const u64 free0 = free_memory();
    check(free0 >= 32 * kMiB, Detail("%" PRIu64 " MiB", free0 / kMiB),
          "the machine has free memory for run-time LPARs");
    note("free memory at the start: %" PRIu64 " MiB", free0 / kMiB);
    check_eq(unaccounted(), 0, "at the start every chunk is free or held by an LPAR");

    bad_arguments(self);
    unsigned good = 0;
    for (unsigned i = 0; i < kCycles; ++i) good += cycle(i, free0) ? 1 : 0;
    check_eq(good, kCycles, "%u create/destroy cycles went well", kCycles);
    console_channel();
    check_eq(unaccounted(), 0, "at the end every chunk is free or held by an LPAR");
    check_eq(free_memory(), free0, "free memory at the end equals the start (%" PRIu64 " MiB)",
             free0 / kMiB);
}
