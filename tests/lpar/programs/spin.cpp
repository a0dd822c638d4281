// spin (1 vcpu): a CPU-bound loop for scripts/bench-smp (docs/benchmarks.md), not a test. It
// makes no hcall while it loops, so what slows a round is only the physical CPU it gets: run
// alone on a machine with 2 CPUs it has one to itself; two spin LPARs side by side have one each
// if the hypervisor runs them in parallel, half of one each if it does not. Prints, per round,
//     SPIN round <i> <us> <checksum>
// then the median over the rounds:
//     SPIN median_us <us> min_us <us> max_us <us>
// timed with the timebase (ppc64) / the TSC (ia32). The checksum only keeps the loop honest.
#include "lpar.hpp"
#include "sort.hpp"

using namespace lpar;

namespace {

constexpr unsigned kRounds = 5;
constexpr u32 kItersPerRound = 1u << 29; // about 1 s per round under TCG

// xorshift32, kept in a register: no memory traffic, nothing the compiler can fold away.
u32 spin(u32 x, u32 n) {
    for (u32 i = 0; i < n; ++i) {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        asm volatile("" : "+r"(x));
    }
    return x;
}

} // namespace

void lpar_main(const Boot& b) {
    if (b.vcpu != 0) return;
    check(b.vcpu_count == 1, Detail("%u vcpus", b.vcpu_count), "spin runs with 1 vcpu");
    const u64 per_ms = ticks_per_ms();
    note("spin on %s: %u rounds of %u xorshift steps, timebase %" PRIu64 " ticks/ms", isa::kName,
         kRounds, kItersPerRound, per_ms);
    u64 us[kRounds] = {};
    u32 x = 2463534242u;
    for (unsigned r = 0; r < kRounds; ++r) {
        const u64 t0 = now();
        x = spin(x, kItersPerRound);
        const u64 t1 = now();
        us[r] = (t1 - t0) * 1000 / per_ms;
        print("SPIN round %u %" PRIu64 " %08x\n", r, us[r], static_cast<unsigned>(x));
    }
    sort_ascending(us, kRounds);
    print("SPIN median_us %" PRIu64 " min_us %" PRIu64 " max_us %" PRIu64 "\n", us[kRounds / 2],
          us[0], us[kRounds - 1]);
    check(x != 0, "the loop ran (checksum %08x)", static_cast<unsigned>(x));
}
