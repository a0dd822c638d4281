// soak (1 vcpu): the hostile neighbour of scripts/soak. For a set time it attacks in rounds:
// pseudo-random hcalls with edge arguments (chaos_pick.hpp: every answer must be a PAPR status
// and the hcall register ABI must hold), faults on purpose that the hypervisor must reflect to
// this LPAR's own handler exactly once each (soak_isa.hpp), with a logical LAN adapter (`lan =`)
// TCE and LAN hcalls with random arguments and frames to the other LPARs on it while a canary
// next to its DMA pages must stay intact (vio_attack.hpp), an interrupt storm (self-IPIs at full
// rate, each of which must be delivered, and IPIs to servers it may not address, each refused
// with H_PARAMETER), and a burst of console output. Every
// 10 s it prints a progress line; at the end its totals as counted checks, then it jumps to
// garbage: the hypervisor must stop it (`expect = crash`). If a check failed it ends normally
// instead, so that the run sees the failure rather than the expected crash.
//
// The duration is the number in kSoakSeconds, which scripts/soak rewrites in a copy of the image
// (the same number of digits); the seed is the LPAR's memory size mixed with the timebase, so two
// soak LPARs differ.
#include "chaos_pick.hpp"
#include "lpar.hpp"
#include "soak_isa.hpp"
#include "soak_seconds.hpp"
#include "vio_attack.hpp"

using namespace lpar;
using namespace tessera::hcall;

// Read through a volatile pointer so the compiler keeps the digits in the image.
extern "C" {
volatile const char kSoakSeconds[] = "tessera-soak-seconds=000000060";
}

namespace {

constexpr unsigned kCallsPerRound = 400;
constexpr unsigned kFaultsPerRound = 20;
constexpr unsigned kVioCallsPerRound = 100;
constexpr unsigned kMaxReported = 8;
constexpr unsigned kWaitedIpis = 10; // per round, each waited for
constexpr unsigned kBurstIpis = 40;  // per round, back to back with interrupts enabled
constexpr u64 kIpiPriority = 5;
constexpr u64 kIpiWaitMs = 200;

struct Storm {
    u64 sent = 0, delivered = 0, refused = 0, bad_refusals = 0;
    u64 bursts = 0, bursts_delivered = 0, burst_ipis = 0;
};

// Self-IPIs one after the other, each waited for with interrupts enabled (the library's
// handler takes it: H_XIRR, H_EOI), then a burst of them back to back with interrupts enabled
// (they coalesce in the one MFRR: at least one must arrive), and IPIs to servers this LPAR does
// not have (its vcpu count, 8, 2^16, 2^32 - 1, random), which must be refused. The random
// hcalls may have left CPPR anywhere: open it first.
void ipi_storm(Lcg& rng, const Boot& b, Storm& st) {
    Vcpu& v = this_vcpu();
    hcall(H_CPPR, 0xff);
    for (unsigned i = 0; i < kWaitedIpis; ++i) {
        const u64 before = load_acquire(v.ext_count);
        ++st.sent;
        if (hcall(H_IPI, b.vcpu, kIpiPriority).status != H_SUCCESS) continue;
        isa::irq_enable();
        const bool got = spin_until([&] { return load_acquire(v.ext_count) > before; }, kIpiWaitMs);
        isa::irq_disable();
        if (got) ++st.delivered;
    }
    const u64 burst_start = load_acquire(v.ext_count);
    isa::irq_enable();
    for (unsigned i = 0; i < kBurstIpis; ++i) hcall(H_IPI, b.vcpu, kIpiPriority);
    const bool burst_got =
        spin_until([&] { return load_acquire(v.ext_count) > burst_start; }, kIpiWaitMs);
    isa::irq_disable();
    ++st.bursts;
    st.burst_ipis += kBurstIpis;
    if (burst_got) ++st.bursts_delivered;
    static constexpr u64 kFixed[] = {8, u64{1} << 16, 0xffffffffull};
    for (unsigned i = 0; i < kWaitedIpis + kBurstIpis; ++i) {
        const u64 r = rng.below(4);
        const u64 server =
            r == 3 ? b.vcpu_count + rng.below(u64{1} << 40) : (r == 0 ? b.vcpu_count : kFixed[r]);
        const i64 status = hcall(H_IPI, server, rng.below(0x100)).status;
        ++st.refused;
        if (status != H_PARAMETER) ++st.bad_refusals;
    }
}

} // namespace

void lpar_main(const Boot& b) {
    if (b.vcpu != 0) return;
    const u64 seconds = soak_seconds(kSoakSeconds);
    note("soak: %llu s of random hcalls, %s faults and console bursts, then garbage",
         static_cast<unsigned long long>(seconds), isa::soak_fault_name());
    isa::chaos_prepare(b);
    isa::soak_prepare();
    const bool vio = vio_attack::available();
    if (vio) vio_attack::prepare();
    vio_attack::Counts vc;
    Storm storm;
    isa::MmuAttacks mmu;

    Lcg rng(0x50a4'0000'0000ull ^ b.memory_size ^ now());
    const Deadline end = Deadline::ms(seconds * 1000);
    Deadline progress = Deadline::ms(10'000);
    u64 rounds = 0, calls = 0, bad_status = 0, bad_regs = 0, faults = 0;
    while (!end.expired()) {
        for (unsigned i = 0; i < kCallsPerRound; ++i) {
            u64 number = 0;
            u64 args[9] = {};
            chaos::pick_call(rng, b, number, args);
            const ProbeResult r = hcall_probe(number, args, rng.next());
            ++calls;
            if (!valid_status(r.hcall.status) && ++bad_status <= kMaxReported)
                check(false, Detail("returned %" PRId64, r.hcall.status),
                      "hcall 0x%" PRIx64 " returns a PAPR status", number);
            if (r.clobbered != 0 && ++bad_regs <= kMaxReported) {
                char regs[150];
                describe_clobbered(r, regs, sizeof(regs));
                check(false, Detail("changed: %s", regs), "hcall 0x%" PRIx64 " preserves registers",
                      number);
            }
        }
        if (vio) vio_attack::round(rng, b, kVioCallsPerRound, vc);
        ipi_storm(rng, b, storm);
        isa::soak_mmu_round(rng, b, mmu);
        for (unsigned i = 0; i < kFaultsPerRound; ++i) isa::soak_fault();
        faults += kFaultsPerRound;
        char burst[64];
        for (unsigned i = 0; i < 4; ++i)
            write(burst, format(burst, sizeof burst, "# soak burst %" PRIu64 ".%u\n", rounds, i));
        ++rounds;
        if (progress.expired()) {
            note("soak: %" PRIu64 " rounds, %" PRIu64 " hcalls, %" PRIu64 " faults reflected",
                 rounds, calls, isa::soak_faults_seen());
            progress = Deadline::ms(10'000);
        }
    }
    note("soak: totals: %" PRIu64 " rounds, %" PRIu64 " hcalls attempted, %" PRIu64
         " faults taken, %" PRIu64 " reflected",
         rounds, calls, faults, isa::soak_faults_seen());
    note("soak: ipis: %" PRIu64 " self-IPIs sent, %" PRIu64 " delivered; %" PRIu64
         " bursts of %u back to back, %" PRIu64 " delivered; %" PRIu64
         " to servers it may not address, %" PRIu64 " not refused",
         storm.sent, storm.delivered, storm.bursts, kBurstIpis, storm.bursts_delivered,
         storm.refused, storm.bad_refusals);
    check_eq(storm.delivered, storm.sent, "%" PRIu64 " self-IPIs, one at a time, all delivered",
             storm.sent);
    check_eq(storm.bursts_delivered, storm.bursts,
             "%" PRIu64 " bursts of self-IPIs at full rate (%" PRIu64 " IPIs) all delivered",
             storm.bursts, storm.burst_ipis);
    check_eq(storm.bad_refusals, 0, "%" PRIu64 " IPIs to servers it may not address refused",
             storm.refused);
    note("soak: mmu: %" PRIu64 " attacks (%s): %" PRIu64 " refused, %" PRIu64
         " honoured and checked, %" PRIu64 " violations",
         mmu.tries, isa::soak_mmu_name(), mmu.refused, mmu.taken, mmu.bad);
    check(mmu.tries > 0 && mmu.bad == 0,
          Detail("%" PRIu64 " violations, the first: %s (%" PRId64 ")", mmu.bad,
                 mmu.first_bad ? mmu.first_bad : "-", mmu.first_bad_status),
          "%" PRIu64 " attacks on the translation structures: refused or honoured correctly",
          mmu.tries);
    if (vio) {
        note("soak: lan: %" PRIu64 " TCE/LAN hcalls, %" PRIu64 " accepted, %" PRIu64 " frames sent",
             vc.hcalls, vc.accepted, vc.frames);
        check(vc.bad_status == 0, Detail("%" PRIu64 " did not", vc.bad_status),
              "%" PRIu64 " TCE/LAN hcalls all returned a PAPR status code", vc.hcalls);
        check(vc.canary_hit == 0, Detail("changed after %" PRIu64 " rounds", vc.canary_hit),
              "the canary next to the DMA pages stayed intact");
    }
    check(bad_status == 0, Detail("%" PRIu64 " did not", bad_status),
          "%" PRIu64 " random hcalls all returned a PAPR status code", calls);
    check(bad_regs == 0, Detail("%" PRIu64 " did not", bad_regs),
          "%" PRIu64 " random hcalls all preserved the registers the ABI keeps", calls);
    check_eq(isa::soak_faults_seen(), faults, "%" PRIu64 " faults on purpose, each reflected once",
             faults);
    check_status(hcall(H_PUT_TERM_CHAR, kVtyTermno, 0).status, H_SUCCESS,
                 "after the soak: H_PUT_TERM_CHAR still works");
    if (failed() != 0) {
        note("soak: checks failed: ending normally instead of crashing");
        finish();
    }
    note("soak: all %u checks ok; jumping to garbage now: the hypervisor must stop this LPAR",
         passed());
    isa::execute_garbage();
}
