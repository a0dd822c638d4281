// bench: hypervisor micro-benchmarks, the same program on every ISA (docs/compare.md).
// Not part of any selftest: scripts/compare packs it with tests/lpar/bench-<target>.conf, which
// runs it twice: as LPAR `bench` (2 vcpus: every figure) and as LPAR `partner` (1 vcpu: the
// other side of the LPAR-switch ping-pong). The vcpu count at entry is the role: an LPAR with
// one vcpu is the partner.
//
// Each figure is kRounds rounds of N operations timed with the timebase (now()); a round gives
// nanoseconds per operation, the figure is the median and the min-max over the rounds, printed
// as one machine-readable line before finish():
//     BENCH <name> <median_ns> <min_ns> <max_ns>
// or, for a figure this ISA or build cannot measure (the ISA hook says why):
//     BENCH_NA <name> <reason>
// The checks only say that every figure produced a number (no timing is asserted). Without the
// partner LPAR the lpar_switch figure would be a lone H_CONFER: scripts/compare checks that the
// partner ran and ended well.
#include "bench_isa.hpp"
#include "lpar.hpp"
#include "sort.hpp"

using namespace lpar;
using namespace tessera::hcall;

namespace {

constexpr unsigned kRounds = 11;
constexpr unsigned kWantVcpus = 2;
constexpr u64 kIpiPriority = 5;
constexpr u64 kUnknownHcall = 0x454; // -> H_FUNCTION: the cheapest full trip through the hypervisor

struct Figure {
    const char* name;
    u64 ns[kRounds] = {};
    unsigned rounds = 0;
    bool ok = true;
    const char* na = nullptr; // not measurable here: why (printed as BENCH_NA)
};

u64 ticks_to_ns(u64 ticks) {
    // ticks_per_ms() is at least 1000 on both ISAs; split to keep the product in 64 bits.
    const u64 tpm = ticks_per_ms();
    return ticks / tpm * 1000000 + ticks % tpm * 1000000 / tpm;
}

void add_round(Figure& f, u64 ticks, u64 ops) {
    if (f.rounds < kRounds) f.ns[f.rounds++] = ticks_to_ns(ticks) / (ops ? ops : 1);
}

// The rounds of f, ascending, in v[0 .. f.rounds).
void sorted(const Figure& f, u64 (&v)[kRounds]) {
    for (unsigned i = 0; i < f.rounds; ++i) v[i] = f.ns[i];
    sort_ascending(v, f.rounds);
}

void report(Figure& f) {
    if (f.na != nullptr) {
        print("BENCH_NA %s %s\n", f.name, f.na);
        note("%s: not measured here: %s", f.name, f.na);
        return;
    }
    if (f.rounds == 0 || !f.ok) {
        note("%s: no measurement", f.name);
        check(false, Detail("no rounds"), "%s produced a number", f.name);
        return;
    }
    u64 v[kRounds];
    sorted(f, v);
    print("BENCH %s %" PRIu64 " %" PRIu64 " %" PRIu64 "\n", f.name, v[f.rounds / 2], v[0],
          v[f.rounds - 1]);
    check(f.rounds == kRounds, Detail("%u rounds", f.rounds), "%s: every round produced a number",
          f.name);
}

// ---- one hcall, timed: 1000 calls of `number(arg)` per round, each to return `expect` -------
void time_hcall(Figure& f, u64 number, u64 arg, i64 expect) {
    constexpr u64 kOps = 1000;
    for (unsigned r = 0; r < kRounds; ++r) {
        i64 last = 0;
        const u64 t0 = now();
        for (u64 i = 0; i < kOps; ++i) last = hcall(number, arg).status;
        const u64 t1 = now();
        if (last != expect) f.ok = false;
        add_round(f, t1 - t0, kOps);
    }
}

// The cheapest full trip through the hypervisor: an unknown number.
Figure g_null{"null_hcall"};
void bench_null_hcall() {
    time_hcall(g_null, kUnknownHcall, 0xff, H_FUNCTION);
}

// An interrupt controller hcall without side effects: H_IPOLL of its own server.
Figure g_xics{"xics_hcall"};
void bench_xics_hcall() {
    time_hcall(g_xics, H_IPOLL, this_vcpu().index, H_SUCCESS);
}

// ---- console: H_PUT_TERM_CHAR of 16 bytes ----------------------------------------------------
Figure g_console{"console_16b_call"};
void bench_console() {
    constexpr u64 kOps = 48; // 48 calls of 16 bytes: 12 lines of 64 dots per round
    const char dots[] = "...............\n";
    const char* bytes[2] = {"................", dots};
    u64 hi[2] = {}, lo[2] = {};
    for (int k = 0; k < 2; ++k)
        for (int i = 0; i < 16; ++i)
            (i < 8 ? hi[k] : lo[k]) |= u64{static_cast<u8>(bytes[k][i])} << (56 - 8 * (i % 8));
    note("console throughput: %u rounds of %" PRIu64 " x 16 bytes of dots follow", kRounds, kOps);
    for (unsigned r = 0; r < kRounds; ++r) {
        bool good = true;
        const u64 t0 = now();
        for (u64 i = 0; i < kOps; ++i) {
            const int k = (i % 4 == 3) ? 1 : 0;
            if (hcall(H_PUT_TERM_CHAR, kVtyTermno, 16, hi[k], lo[k]).status != H_SUCCESS)
                good = false;
        }
        const u64 t1 = now();
        if (!good) g_console.ok = false;
        add_round(g_console, t1 - t0, kOps);
    }
}

// ---- self-IPI: H_IPI to myself with interrupts enabled, until the handler runs ---------------
Figure g_ipi{"self_ipi_to_handler"};
u64 g_handler_at[kMaxVcpus];
void timestamp_external_handler(isa::TrapFrame& frame) {
    store_release(g_handler_at[this_vcpu().index], now());
    default_external_handler(frame);
}
void bench_self_ipi() {
    constexpr u64 kOps = 100;
    Vcpu& v = this_vcpu();
    hcall(H_CPPR, 0xff);
    for (unsigned r = 0; r < kRounds; ++r) {
        u64 sum = 0;
        for (u64 i = 0; i < kOps; ++i) {
            const u64 before = load_acquire(v.ext_count);
            isa::irq_enable();
            const u64 t0 = now();
            hcall(H_IPI, v.index, kIpiPriority);
            const bool got = spin_until([&] { return load_acquire(v.ext_count) > before; }, 1000);
            isa::irq_disable();
            if (!got) {
                g_ipi.ok = false;
                return;
            }
            sum += load_acquire(g_handler_at[v.index]) - t0;
        }
        add_round(g_ipi, sum, kOps);
    }
}

// ---- vcpu ping-pong: vcpu 0 H_IPI -> vcpu 1 (ceded) wakes, H_IPI -> vcpu 0 (ceded) wakes ------
Figure g_pingpong{"vcpu_ipi_pingpong"};
struct Shared {
    u32 go = 0;     // vcpu 0: 1 = ping-pong, 2 = done
    u32 ready = 0;  // vcpu 1 is waiting
    u32 failed = 0; // vcpu 1 timed out
};
constinit Shared g_shared;

// Waits ceded (interrupts enabled while ceded) until this vcpu's external count passes `before`.
bool wait_ext(u64 before, u64 timeout_ms) {
    Vcpu& v = this_vcpu();
    return wait_until([&] { return load_acquire(v.ext_count) > before; }, timeout_ms, 100);
}

void vcpu1_main() {
    Vcpu& v = this_vcpu();
    hcall(H_CPPR, 0xff);
    if (!wait_until([] { return load_acquire(g_shared.go) != 0; }, 120000, 100)) return;
    for (;;) {
        const u64 before = load_acquire(v.ext_count);
        store_release(g_shared.ready, u32{1});
        if (!wait_ext(before, 5000)) {
            store_release(g_shared.failed, u32{1});
            return;
        }
        if (load_acquire(g_shared.go) == 2) return;
        hcall(H_IPI, 0, kIpiPriority);
    }
}

void bench_pingpong() {
    constexpr u64 kOps = 50;
    Vcpu& v = this_vcpu();
    store_release(g_shared.go, u32{1});
    if (!wait_until([] { return load_acquire(g_shared.ready) != 0; }, 30000, 5)) {
        g_pingpong.ok = false;
        return;
    }
    for (unsigned r = 0; r < kRounds && g_pingpong.ok; ++r) {
        const u64 t0 = now();
        for (u64 i = 0; i < kOps; ++i) {
            // vcpu 1 is (about to be) ceded, waiting for our IPI.
            spin_until([] { return load_acquire(g_shared.ready) != 0; }, 5000);
            store_release(g_shared.ready, u32{0});
            const u64 before = load_acquire(v.ext_count);
            hcall(H_IPI, 1, kIpiPriority);
            if (!wait_ext(before, 5000) || load_acquire(g_shared.failed) != 0) {
                g_pingpong.ok = false;
                break;
            }
        }
        if (g_pingpong.ok) add_round(g_pingpong, now() - t0, kOps);
    }
    // Release vcpu 1.
    spin_until([] { return load_acquire(g_shared.ready) != 0; }, 2000);
    store_release(g_shared.go, u32{2});
    hcall(H_IPI, 1, kIpiPriority);
    wait_until([] { return load_acquire(vcpu(1).done) != 0; }, 5000, 5);
}

// ---- map + unmap a page: the ISA hook (lib/bench_isa.hpp; ppc64: H_ENTER, H_REMOVE) ------
Figure g_map{"map_page"};
Figure g_unmap{"unmap_page"};
char g_map_why[96];
void bench_map_unmap(const Boot& b) {
    constexpr unsigned kOps = isa::kBenchMapMaxPages; // pages mapped, then unmapped, per round
    if (!isa::bench_map_setup(b, kOps, g_map_why, sizeof(g_map_why))) {
        g_map.na = g_unmap.na = g_map_why;
        return;
    }
    for (unsigned r = 0; r < kRounds; ++r) {
        bool good = true;
        const u64 t0 = now();
        for (unsigned i = 0; i < kOps && good; ++i)
            good = isa::bench_map_page(i, g_map_why, sizeof(g_map_why));
        const u64 t1 = now();
        for (unsigned i = 0; i < kOps && good; ++i)
            good = isa::bench_unmap_page(i, g_map_why, sizeof(g_map_why));
        const u64 t2 = now();
        if (!good) {
            note("map/unmap: %s", g_map_why);
            g_map.ok = g_unmap.ok = false;
            return;
        }
        add_round(g_map, t1 - t0, kOps);
        add_round(g_unmap, t2 - t1, kOps);
    }
}

// ---- LPAR switch: H_CONFER ping-pong with the partner LPAR -----------------------------------
// The partner (1 vcpu, this program) does nothing but kPartnerYields H_CONFERs and ends. The
// scheduler is round-robin over every LPAR's runnable vcpus and H_CONFER puts the caller at the
// tail, so while both loop they alternate strictly (our vcpu 1 waits ceded meanwhile): each
// H_CONFER of ours runs the partner until its next H_CONFER. A round trip is two LPAR switches,
// each with the yielding LPAR's H_CONFER trap, the scheduler's pick and the other LPAR's entry;
// the figure is half a round trip. Both LPARs start together, so this runs first. The partner
// yields kPartnerMargin more times than our warm-up and timed rounds (a few of its yields may
// fall while we are still printing our first lines), and we then yield kSwitchDrain more times
// than that margin needs, so that it has ended before we time the same H_CONFER alone (our
// last drain yields find nobody to switch to) and the other figures. The lone H_CONFER shows
// what the switch to another LPAR adds to the yield path.
constexpr u64 kSwitchWarmup = 32;   // not timed: the partner reaches its loop
constexpr u64 kSwitchOps = 100;     // round trips per round
constexpr u64 kPartnerMargin = 100; // the partner's yields beyond our warm-up and rounds
constexpr u64 kSwitchDrain = 300;   // ours beyond them: outlasts the partner's margin
constexpr u64 kPartnerYields = kSwitchWarmup + kRounds * kSwitchOps + kPartnerMargin;
constexpr u64 kYieldOps = 100;      // H_CONFERs alone per round
constexpr u64 kConferAny = ~u64{0}; // H_CONFER(proc = -1): to any other processor

Figure g_switch{"lpar_switch"};
Figure g_yield{"yield_no_switch"};
bool confer() {
    return hcall(H_CONFER, kConferAny, 0).status == H_SUCCESS;
}

void bench_lpar_switch() {
    bool good = true;
    for (u64 i = 0; i < kSwitchWarmup; ++i) good = confer() && good;
    for (unsigned r = 0; r < kRounds; ++r) {
        const u64 t0 = now();
        for (u64 i = 0; i < kSwitchOps; ++i) good = confer() && good;
        add_round(g_switch, now() - t0, 2 * kSwitchOps);
    }
    for (u64 i = 0; i < kSwitchDrain; ++i) good = confer() && good;
    for (unsigned r = 0; r < kRounds; ++r) {
        const u64 t0 = now();
        for (u64 i = 0; i < kYieldOps; ++i) good = confer() && good;
        add_round(g_yield, now() - t0, kYieldOps);
    }
    if (!good) g_switch.ok = g_yield.ok = false;
}

void partner_main() {
    note("partner: %" PRIu64 " H_CONFERs to ping-pong with LPAR bench", kPartnerYields);
    u64 good = 0;
    for (u64 i = 0; i < kPartnerYields; ++i) good += confer() ? 1 : 0;
    check_eq(good, kPartnerYields, "partner: every H_CONFER returned H_SUCCESS");
}

} // namespace

void lpar_main(const Boot& b) {
    if (b.vcpu_count == 1) return partner_main(); // the LPAR `partner`
    if (b.vcpu != 0) {
        if (b.vcpu == 1) vcpu1_main();
        return;
    }
    set_trap_handler(isa::kExternalVector, timestamp_external_handler);
    check(b.vcpu_count == kWantVcpus, Detail("%u vcpus", b.vcpu_count), "bench runs with %u vcpus",
          kWantVcpus);
    note("bench on %s: timebase %" PRIu64 " ticks/ms, %u rounds per figure", isa::kName,
         ticks_per_ms(), kRounds);
    bench_lpar_switch(); // first: the partner LPAR yields from its start
    bench_null_hcall();
    bench_xics_hcall();
    bench_console();
    bench_self_ipi();
    bench_map_unmap(b);
    bench_pingpong();
    report(g_null);
    report(g_xics);
    report(g_console);
    report(g_ipi);
    report(g_pingpong);
    report(g_map);
    report(g_unmap);
    report(g_switch);
    report(g_yield);
}
