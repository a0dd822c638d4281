// ring (1 vcpu): one member of a ring of LPARs that yield to each other, for scripts/bench-switch
// (docs/benchmarks.md, "Scale"), not a test. The script boots N of them on a machine with one
// physical CPU. The scheduler is round-robin over the runnable vcpus and H_CONFER puts its caller
// at the tail, so while all N loop, every H_CONFER of one member runs each of the N - 1 others
// until their next H_CONFER: N LPAR switches per H_CONFER (with N = 1: none, the yield alone).
// Every member times kRounds rounds of kOps H_CONFERs with the timebase (ppc64) / TSC (ia32) and
// prints, per round and then the median of its rounds,
//     RING round <i> <ns per H_CONFER>
//     RING median_ns <ns> min_ns <ns> max_ns <ns>
// The script divides by N: the cost of one switch. All members start together and do the same
// work, so they run their timed rounds side by side; kWarmup untimed H_CONFERs come first (the
// members' first lines), kDrain after (no member's last timed rounds run with a thinner ring).
#include "lpar.hpp"
#include "sort.hpp"

using namespace lpar;
using namespace tessera::hcall;

namespace {

constexpr unsigned kRounds = 9;
constexpr u64 kOps = 200;     // H_CONFERs per round
constexpr u64 kWarmup = 50;   // untimed, before the rounds
constexpr u64 kDrain = 50;    // untimed, after them
constexpr u64 kAny = ~u64{0}; // H_CONFER(proc = -1): to any other processor

bool confer() {
    return hcall(H_CONFER, kAny, 0).status == H_SUCCESS;
}

u64 ticks_to_ns(u64 ticks) {
    const u64 tpm = ticks_per_ms(); // at least 1000 on both ISAs; split to stay in 64 bits
    return ticks / tpm * 1000000 + ticks % tpm * 1000000 / tpm;
}

} // namespace

void lpar_main(const Boot& b) {
    if (b.vcpu != 0) return;
    check(b.vcpu_count == 1, Detail("%u vcpus", b.vcpu_count), "ring runs with 1 vcpu");
    u64 good = 0;
    for (u64 i = 0; i < kWarmup; ++i) good += confer() ? 1 : 0;
    u64 ns[kRounds] = {};
    for (unsigned r = 0; r < kRounds; ++r) {
        const u64 t0 = now();
        for (u64 i = 0; i < kOps; ++i) good += confer() ? 1 : 0;
        ns[r] = ticks_to_ns(now() - t0) / kOps;
    }
    for (u64 i = 0; i < kDrain; ++i) good += confer() ? 1 : 0;
    for (unsigned r = 0; r < kRounds; ++r) print("RING round %u %" PRIu64 "\n", r, ns[r]);
    sort_ascending(ns, kRounds);
    print("RING median_ns %" PRIu64 " min_ns %" PRIu64 " max_ns %" PRIu64 "\n", ns[kRounds / 2],
          ns[0], ns[kRounds - 1]);
    const u64 total = kWarmup + kRounds * kOps + kDrain;
    check(good == total, Detail("%" PRIu64 " of %" PRIu64 " succeeded", good, total),
          "every H_CONFER succeeded");
}
