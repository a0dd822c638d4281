// bench (2 vcpus): hypervisor micro-benchmarks, the same program on every ISA (docs/compare.md).
// Not part of any selftest: scripts/compare packs it alone (tests/lpar/bench-<target>.conf).
//
// Each figure is kRounds rounds of N operations timed with the timebase (now()); a round gives
// nanoseconds per operation, the figure is the median and the min-max over the rounds, printed
// as one machine-readable line before finish():
//     BENCH <name> <median_ns> <min_ns> <max_ns>
// The checks only say that every figure produced a number (no timing is asserted).
#include "lpar.hpp"

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
};

u64 ticks_to_ns(u64 ticks) {
    // ticks_per_ms() is at least 1000 on both ISAs; split to keep the product in 64 bits.
    const u64 tpm = ticks_per_ms();
    return ticks / tpm * 1000000 + ticks % tpm * 1000000 / tpm;
}

void add_round(Figure& f, u64 ticks, u64 ops) {
    if (f.rounds < kRounds) f.ns[f.rounds++] = ticks_to_ns(ticks) / (ops ? ops : 1);
}

void report(Figure& f) {
    if (f.rounds == 0 || !f.ok) {
        note("%s: no measurement", f.name);
        check(false, Detail("no rounds"), "%s produced a number", f.name);
        return;
    }
    u64 v[kRounds];
    for (unsigned i = 0; i < f.rounds; ++i) v[i] = f.ns[i];
    for (unsigned i = 1; i < f.rounds; ++i)
        for (unsigned j = i; j > 0 && v[j - 1] > v[j]; --j) {
            const u64 t = v[j];
            v[j] = v[j - 1];
            v[j - 1] = t;
        }
    print("BENCH %s %" PRIu64 " %" PRIu64 " %" PRIu64 "\n", f.name, v[f.rounds / 2], v[0],
          v[f.rounds - 1]);
    check(f.rounds == kRounds, Detail("%u rounds", f.rounds), "%s: every round produced a number",
          f.name);
}

// ---- null hcall ---------------------------------------------------------------------------
Figure g_null{"null_hcall"};
void bench_null_hcall() {
    constexpr u64 kOps = 1000;
    for (unsigned r = 0; r < kRounds; ++r) {
        i64 last = 0;
        const u64 t0 = now();
        for (u64 i = 0; i < kOps; ++i) last = hcall(kUnknownHcall, 0xff).status;
        const u64 t1 = now();
        if (last != H_FUNCTION) g_null.ok = false;
        add_round(g_null, t1 - t0, kOps);
    }
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
    if (!wait_until([] { return load_acquire(g_shared.go) != 0; }, 120000, 10)) return;
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

} // namespace

void lpar_main(const Boot& b) {
    if (b.vcpu != 0) {
        if (b.vcpu == 1) vcpu1_main();
        return;
    }
    set_trap_handler(isa::kExternalVector, timestamp_external_handler);
    check(b.vcpu_count == kWantVcpus, Detail("%u vcpus", b.vcpu_count), "bench runs with %u vcpus",
          kWantVcpus);
    note("bench on %s: timebase %" PRIu64 " ticks/ms, %u rounds per figure", isa::kName,
         ticks_per_ms(), kRounds);
    bench_null_hcall();
    bench_console();
    bench_self_ipi();
    if (b.vcpu_count >= 2) bench_pingpong();
    report(g_null);
    report(g_console);
    report(g_ipi);
    report(g_pingpong);
}
