// smp (2 vcpus, ppc64 only): what two vcpus of one LPAR see when they run at the same time on
// two physical CPUs (scripts/run --selftest --machine-cpus 2; with one machine CPU they take
// turns and every check must still hold):
// - both hammer H_ENTER / H_REMOVE on the same PTEG: no entry lost or duplicated, each H_REMOVE
//   gives back exactly the entry its vcpu made, every translation is right while it exists, and
//   the group is empty at the end;
// - H_PROD / H_CEDE ping-pong across the vcpus, and H_IPI both ways, a number of rounds;
// - a decrementer that expired while interrupts were off is still taken after its vcpu left the
//   CPU twice before taking it, with the other vcpu (DEC far in the future) running in between.
//   QEMU 7.2 takes a DEC write below 3 (or negative) as "interrupt now" without re-arming, and
//   a later read then counts from the CPU's previous write: the hypervisor once saved such an
//   expired DEC as seconds in the future and lost the interrupt (Linux: `sleep 1` took 4 s).
#include "lpar.hpp"
#include "mmu.hpp"

using namespace lpar;
using namespace lpar::mmu;
using namespace tessera::hcall;

namespace {

constexpr u64 MiB = tessera::MiB;
constexpr u64 kRounds = 300;    // H_ENTER/H_REMOVE pairs per vcpu
constexpr u64 kPingPongs = 100; // H_PROD round trips
constexpr u64 kIpis = 50;       // IPIs each way
constexpr u64 kDecRounds = 20;  // expired-decrementer rounds

// The two vcpus' pages hash to the same group: vsid ^ page index is equal for both.
constexpr u64 kSeg = 0x10000000;
constexpr u64 kVsid[2] = {0x5a0, 0x5a1};
constexpr u64 kEa[2] = {kSeg + 0x3000, kSeg + 0x2000}; // page indexes 3 and 2 (3^0x5a0 = 2^0x5a1)
constexpr u64 kLa[2] = {4 * MiB, 4 * MiB + 0x1000};    // each vcpu's logical page

struct Shared {
    u32 phase = 0; // 1: hammer, 2: ping-pong, 3: IPIs
    u32 hammer_done[2] = {};
    u64 turn = 0; // ping-pong: whose turn (0 or 1), and the round
    u64 rounds_done = 0;
    u64 ipi_base1 = 0; // vcpu 1's ext_count before the IPI rounds
    u64 ipis_taken[2] = {};
    u32 v1_finished = 0;
    u32 dec_ready = 0; // vcpu 1 yields in a loop (its DEC far in the future)
    u32 dec_done = 0;  // vcpu 0 finished the decrementer rounds
};
constinit Shared g;

struct Counts {
    u64 enter_failed = 0, wrong_slot = 0, not_mine = 0, bad_translation = 0, remove_failed = 0,
        faults = 0;
};
constinit Counts g_counts[2];

u64 g_mask = 0; // group index mask

void on_fault(isa::TrapFrame& f) {
    ++g_counts[this_vcpu().index].faults;
    isa::trap_skip(f);
}

u64 group_of(unsigned me) {
    return hash(kVsid[me], kEa[me], kPage4K) & g_mask;
}

void hammer(unsigned me) {
    Counts& c = g_counts[me];
    slbmte(slb_vsid(kVsid[me], kPage4K), slb_esid(kSeg, 1));
    const u64 g8 = group_of(me) * 8;
    const u64 h = pteh(kVsid[me], kEa[me], kPage4K);
    for (u64 i = 0; i < kRounds; ++i) {
        const u64 pattern = (u64{me} << 56) | i;
        store_real(kLa[me], pattern);
        const HcallResult e = hcall(H_ENTER, 0, g8, h, ptel(kLa[me], kPage4K));
        if (e.status != H_SUCCESS) {
            ++c.enter_failed;
            continue;
        }
        const u64 ptex = e.ret[0];
        if (ptex < g8 || ptex >= g8 + 8) ++c.wrong_slot;
        // H_R_XLATE: the logical page number, as H_ENTER was given it.
        const HcallResult r = hcall(H_READ, kReadLogical, ptex);
        if ((r.ret[0] & kHpteAvpnMask) != (h & kHpteAvpnMask) || (r.ret[1] & kHpteRpn) != kLa[me])
            ++c.not_mine; // another vcpu's entry in "my" slot: a duplicated slot
        const u64 real_rpn = hcall(H_READ, 0, ptex).ret[1] & kHpteRpn;
        if (load_virtual(kEa[me]) != pattern) ++c.bad_translation;
        const HcallResult rm = hcall(H_REMOVE, kAvpn, ptex, h & kHpteAvpnMask);
        // H_REMOVE returns the old entry as stored (real page number).
        if (rm.status != H_SUCCESS || (rm.ret[0] & kHpteAvpnMask) != (h & kHpteAvpnMask) ||
            (rm.ret[1] & kHpteRpn) != real_rpn)
            ++c.remove_failed;
    }
    slbia();
}

bool group_empty(u64 g8) {
    for (u64 i = 0; i < 8; i += 4) {
        const HcallResult r = hcall(H_READ, kReadFour, g8 + i);
        for (int k = 0; k < 4; ++k)
            if (r.ret[2 * k] & kHpteValid) return false;
    }
    return true;
}

// Waits (ceded) until the shared turn says `who`; false on timeout.
bool wait_turn(u64 who) {
    return wait_until([&] { return load_acquire(g.turn) % 2 == who; }, 20000, 50);
}

void vcpu1_main() {
    Vcpu& v = this_vcpu();
    if (!wait_until([] { return load_acquire(g.phase) >= 1; }, 60000, 10)) return;
    check_status(hcall(H_CPPR, 0xff).status, H_SUCCESS, "vcpu 1: H_CPPR(0xff)");
    hammer(1);
    store_release(g.hammer_done[1], u32{1});

    if (!wait_until([] { return load_acquire(g.phase) >= 2; }, 60000, 10)) return;
    for (u64 i = 0; i < kPingPongs; ++i) {
        if (!wait_turn(1)) break;
        store_release(g.turn, load_acquire(g.turn) + 1);
        hcall(H_PROD, 0);
    }

    if (!wait_until([] { return load_acquire(g.phase) >= 3; }, 60000, 10)) return;
    // IPI ping-pong: answer vcpu 0's i-th IPI with one.
    const u64 base = load_acquire(g.ipi_base1);
    for (u64 i = 1; i <= kIpis; ++i) {
        if (!wait_until([&] { return load_acquire(v.ext_count) >= base + i; }, 10000, 20)) break;
        hcall(H_IPI, 0, 5);
    }
    store_release(g.ipis_taken[1], load_acquire(v.ext_count) - base);
    store_release(g.v1_finished, u32{1});

    // Decrementer rounds: keep yielding with DEC far in the future, so that the CPU's last DEC
    // write before vcpu 0 comes back is this one.
    if (!wait_until([] { return load_acquire(g.phase) >= 4; }, 60000, 10)) return;
    isa::irq_disable();
    isa::timer_set(isa::kTimerMax);
    store_release(g.dec_ready, u32{1});
    Deadline d = Deadline::ms(60000);
    while (load_acquire(g.dec_done) == 0 && !d.expired()) hcall(H_CONFER, 0, 0);
}

// One round: DEC expires with interrupts off, the vcpu leaves the CPU twice (H_CONFER), then
// enables interrupts. Returns 0 when the interrupt came, 1 when it did not; `dec` gets DEC as
// read just before enabling.
u64 expired_dec_round(i64& dec) {
    Vcpu& v = this_vcpu();
    const u64 before = load_acquire(v.timer_ticks);
    isa::timer_set(ticks_per_ms() / 20); // 50 us
    spin_until([] { return false; }, 1);
    hcall(H_CONFER, 0, 0);
    hcall(H_CONFER, 0, 0);
    dec = isa::timer_get();
    isa::irq_enable();
    const bool got = spin_until([&] { return load_acquire(v.timer_ticks) > before; }, 500);
    isa::irq_disable();
    return got ? 0 : 1;
}

} // namespace

void lpar_main(const Boot& b) {
    set_trap_handler(isa::kVecDsi, on_fault);
    set_trap_handler(isa::kVecDsegi, on_fault);
    g_mask = (u64{1} << (b.htab_log2 - 7)) - 1;
    if (b.vcpu == 1) {
        vcpu1_main();
        return;
    }
    if (b.vcpu != 0) return;
    note("smp: %u vcpus, %" PRIu64 " MiB, HTAB 2^%u bytes", b.vcpu_count, b.memory_size / MiB,
         b.htab_log2);
    if (!check(b.vcpu_count == 2, Detail("%u vcpus", b.vcpu_count), "smp runs with 2 vcpus"))
        return;
    check(group_of(0) == group_of(1), "both vcpus' pages hash to the same PTEG");
    check_status(hcall(H_CPPR, 0xff).status, H_SUCCESS, "vcpu 0: H_CPPR(0xff)");

    // 1. H_ENTER / H_REMOVE on one PTEG from both vcpus at once.
    store_release(g.phase, u32{1});
    hammer(0);
    const bool both = wait_until([] { return load_acquire(g.hammer_done[1]) != 0; }, 60000, 5);
    check(both, "vcpu 1 finished its H_ENTER/H_REMOVE rounds");
    for (unsigned k = 0; k < 2; ++k) {
        const Counts& c = g_counts[k];
        check(c.enter_failed == 0 && c.wrong_slot == 0,
              Detail("%" PRIu64 " failed, %" PRIu64 " outside the group", c.enter_failed,
                     c.wrong_slot),
              "vcpu %u: %" PRIu64 " H_ENTERs into the shared PTEG all land in it", k, kRounds);
        check(c.not_mine == 0, Detail("%" PRIu64 " times", c.not_mine),
              "vcpu %u: H_READ of the slot H_ENTER gave shows its own entry (no duplicate slot)",
              k);
        check(c.bad_translation == 0 && c.faults == 0,
              Detail("%" PRIu64 " wrong values, %" PRIu64 " faults", c.bad_translation, c.faults),
              "vcpu %u: every mapping translates to its own page while it exists", k);
        check(c.remove_failed == 0, Detail("%" PRIu64 " times", c.remove_failed),
              "vcpu %u: each H_REMOVE (H_AVPN) removes exactly its own entry", k);
    }
    check(group_empty(group_of(0) * 8), "the shared PTEG is empty afterwards (nothing lost)");

    // 2. H_PROD / H_CEDE across the vcpus.
    store_release(g.phase, u32{2});
    u64 rounds = 0;
    for (u64 i = 0; i < kPingPongs; ++i) {
        store_release(g.turn, load_acquire(g.turn) + 1); // vcpu 1's turn
        hcall(H_PROD, 1);
        if (!wait_turn(0)) break;
        ++rounds;
    }
    check_eq(rounds, kPingPongs, "H_PROD wakes the ceded sibling and back, every round");

    // 3. IPIs both ways, as ping-pong: vcpu 1 answers each IPI with one.
    Vcpu& v = this_vcpu();
    const u64 base0 = load_acquire(v.ext_count);
    store_release(g.ipi_base1, load_acquire(vcpu(1).ext_count));
    store_release(g.phase, u32{3});
    u64 sent = 0;
    for (u64 i = 1; i <= kIpis; ++i) {
        if (hcall(H_IPI, 1, 5).status == H_SUCCESS) ++sent;
        if (!wait_until([&] { return load_acquire(v.ext_count) >= base0 + i; }, 10000, 20)) break;
    }
    store_release(g.ipis_taken[0], load_acquire(v.ext_count) - base0);
    const bool v1_done = wait_until([] { return load_acquire(g.v1_finished) != 0; }, 60000, 5);
    check(v1_done && sent == kIpis, "vcpu 1 finished its IPIs");
    check(load_acquire(g.ipis_taken[0]) == kIpis,
          Detail("%" PRIu64 " taken", load_acquire(g.ipis_taken[0])),
          "vcpu 0 took vcpu 1's %" PRIu64 " IPIs", kIpis);
    check(load_acquire(g.ipis_taken[1]) == kIpis,
          Detail("%" PRIu64 " taken", load_acquire(g.ipis_taken[1])),
          "vcpu 1 took vcpu 0's %" PRIu64 " IPIs", kIpis);

    // 4. An expired decrementer across two trips off the CPU.
    const bool was_enabled = isa::irq_enabled();
    isa::irq_disable();
    store_release(g.phase, u32{4});
    spin_until([] { return load_acquire(g.dec_ready) != 0; }, 5000);
    u64 lost = 0, positive = 0;
    i64 worst = 0;
    for (u64 i = 0; i < kDecRounds; ++i) {
        i64 dec = 0;
        lost += expired_dec_round(dec);
        if (dec > 0) ++positive;
        if (dec > worst) worst = dec;
    }
    store_release(g.dec_done, u32{1});
    if (was_enabled) isa::irq_enable();
    check(positive == 0, Detail("%" PRIu64 " times, up to %" PRId64 " ticks", positive, worst),
          "an expired DEC still reads negative after its vcpu left the CPU twice (%" PRIu64
          " rounds)",
          kDecRounds);
    check(lost == 0, Detail("%" PRIu64 " of %" PRIu64 " lost", lost, kDecRounds),
          "the expired DEC interrupts once interrupts are enabled, every round");
}
