// chaos (1 vcpu): hammers the hypervisor with pseudo-random hcalls, checks that every answer is
// a PAPR status and that the hcall register ABI held every time, then executes garbage. The
// hypervisor must stop this LPAR and report it (the selftest expects it to crash: `expect =
// crash`). If a check failed, chaos ends normally with H_TESSERA_TEST_EXIT instead, so that the
// selftest sees the failure rather than the expected crash.
#include "chaos_pick.hpp"
#include "lpar.hpp"

using namespace lpar;
using namespace tessera::hcall;
using namespace lpar::chaos;

namespace {

constexpr unsigned kCalls = 2000;
constexpr u64 kSeed = 0x7e55e7a0c4a05ull;
constexpr unsigned kMaxReported = 8; // FAIL lines per kind; the rest are only counted

const char* status_label(i64 status) {
    if (status_name(status)[0] != '?') return status_name(status);
    return valid_status(status) ? "another PAPR code" : "not a PAPR code";
}

struct Tally {
    i64 status;
    unsigned count;
};

void add_tally(Tally* t, unsigned& n, unsigned cap, i64 status) {
    for (unsigned i = 0; i < n; ++i) {
        if (t[i].status == status) {
            ++t[i].count;
            return;
        }
    }
    if (n < cap) t[n++] = {status, 1};
}

} // namespace

void lpar_main(const Boot& b) {
    if (b.vcpu != 0) return;
    note("chaos: %u pseudo-random hcalls, then a jump to garbage (this LPAR must crash)", kCalls);
    isa::chaos_prepare(b);

    Lcg rng(kSeed);
    unsigned bad_status = 0, bad_regs = 0;
    Tally tally[24];
    unsigned tallies = 0;
    for (unsigned i = 0; i < kCalls; ++i) {
        u64 number = 0;
        u64 args[9] = {};
        pick_call(rng, b, number, args);

        const ProbeResult r = hcall_probe(number, args, rng.next());
        add_tally(tally, tallies, sizeof(tally) / sizeof(tally[0]), r.hcall.status);
        if (!valid_status(r.hcall.status) && ++bad_status <= kMaxReported) {
            check(false,
                  Detail("returned %" PRId64 " (0x%" PRIx64 "); args 0x%" PRIx64 " 0x%" PRIx64
                         " 0x%" PRIx64 " 0x%" PRIx64 "",
                         r.hcall.status, static_cast<u64>(r.hcall.status), args[0], args[1],
                         args[2], args[3]),
                  "call %u: hcall 0x%" PRIx64 " returns a PAPR status", i, number);
        }
        if (r.clobbered != 0 && ++bad_regs <= kMaxReported) {
            char regs[150];
            describe_clobbered(r, regs, sizeof(regs));
            check(false, Detail("changed: %s", regs),
                  "call %u: hcall 0x%" PRIx64 " preserves registers", i, number);
        }
    }
    check(bad_status == 0, Detail("%u did not", bad_status),
          "%u random hcalls all returned a PAPR status code", kCalls);
    check(bad_regs == 0, Detail("%u did not", bad_regs),
          "%u random hcalls all preserved r0-r2, r13-r31, CR, LR, CTR", kCalls);
    for (unsigned i = 0; i < tallies; ++i)
        note("%5u x %s (%" PRId64 ")", tally[i].count, status_label(tally[i].status),
             tally[i].status);

    // The LPAR still works after the storm.
    check_status(hcall(H_PUT_TERM_CHAR, kVtyTermno, 0).status, H_SUCCESS,
                 "after the storm: H_PUT_TERM_CHAR still works");
    check_status(hcall(0x1000).status, H_FUNCTION, "after the storm: unknown hcalls -> H_FUNCTION");
    check_status(hcall(H_CPPR, 0xff).status, H_SUCCESS, "after the storm: H_CPPR(0xff)");

    if (failed() != 0) {
        note("chaos: checks failed: ending normally instead of crashing");
        finish();
    }
    note("chaos: all %u checks ok; jumping to garbage now: the hypervisor must stop this LPAR",
         passed());
    isa::execute_garbage();
}
