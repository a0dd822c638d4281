#include "common/run.hpp"

#include "common/chunks.hpp"
#include "common/console.hpp"
#include "common/core_lock.hpp"
#include "common/lifecycle.hpp"
#include "common/log.hpp"
#include "common/lpar.hpp"
#include "common/lpar_config.hpp"
#include "common/manage.hpp"
#include "common/rt/format.hpp"
#include "common/sched.hpp"
#include "common/slice.hpp"
#include "common/vpa.hpp"

#include <tessera/arch.hpp>
#include <tessera/hot.hpp>

namespace tessera {
namespace {

constinit Scheduler sched; // lock: core_lock()

// What the per-CPU loops share; lock: core_lock().
struct RunState {
    LparTable* lpars = nullptr;
    ChunkPool* pool = nullptr;
    bool go = false;  // the boot CPU started the LPARs: secondaries may enter their loop
    u32 in_loop = 0;  // CPUs between go and the end of their loop
    bool smp = false; // more than one physical CPU
    // CPU n runs an extended slice (common/slice.hpp) or keeps a ceded vcpu (cede_poll):
    // another vcpu ready for it has it kicked. Written by CPU n only.
    bool extended[kMaxPcpus] = {};
};
constinit RunState run;

unsigned long long ull(u64 v) {
    return static_cast<unsigned long long>(v);
}

// Time slice: 10 ms of timebase (a fixed tick count when the platform does not know its rate).
u64 slice_ticks() {
    u64 hz = plat::timebase_hz();
    return hz ? hz / 100 : 10'000'000;
}

} // namespace

bool start_lpar(Lpar& lpar) {
    u32 starting = lpar.boot_all_vcpus ? lpar.vcpu_count : 1;
    for (u32 i = 0; i < starting; ++i) {
        BootEntry e = lpar.boot;
        if (lpar.boot_all_vcpus) e.args[0] = i;
        arch::vcpu_init(lpar.vcpus[i], e.entry, e.args, e.nargs);
    }
    if (!lpar.start()) return false;
    for (u32 i = 1; i < starting; ++i) lpar.start_vcpu(i);
    sched.add_lpar(lpar);
    return true;
}

namespace {

// Hands waiting vcpus to idle CPUs other than `self` (one kick per claimed CPU,
// Scheduler::claim_idle). When the idle CPUs run out, the CPUs in an extended slice
// (common/slice.hpp) that may run a waiting vcpu are kicked: their vcpu_run sees
// core_slice_contended() and hands the CPU back.
void tickle(u32 self) {
    if (sched.waiting() == 0) return; // after most hcalls: one look at the queue
    for (u32 cpu; (cpu = sched.claim_idle(self)) != kNoPcpu;) plat::kick_cpu(cpu);
    for (u32 c = 0; c < sched.pcpus(); ++c)
        if (c != self && run.extended[c] && sched.waiting_for(c) > 0) plat::kick_cpu(c);
}

// Whether a ceded vcpu has something to do: an interrupt (`presented` to it, or pending), a prod
// (taken here) or its timer.
bool take_wake_reason(Vcpu& v, bool presented) {
    if (!v.prodded && !presented && !v.lpar->xics.has_pending(v.index) && !arch::timer_pending(v))
        return false;
    v.prodded = false;
    return true;
}

// Wakes the ceded vcpus that have something to do; a vcpu running on another CPU that got a
// new interrupt is kicked there, so that it takes it now and not at the end of its slice.
TESSERA_HOT void wake_ready(LparTable& lpars, u32 self) {
    for (Lpar& lpar : lpars) {
        if (!lpar.is_live()) continue;
        lpar.sync_vty_irq();
        xics::ServerMask presented = lpar.xics.take_presented();
        for (u32 i = 0; i < lpar.vcpu_count; ++i) {
            Vcpu& v = lpar.vcpus[i];
            bool woken = (presented >> i) & 1;
            if (v.state == VcpuState::Running) {
                if (woken && v.pcpu != self) plat::kick_cpu(v.pcpu);
                continue;
            }
            if (v.state != VcpuState::Ceded) continue;
            if (take_wake_reason(v, woken)) sched.wake(v);
        }
    }
}

// "0,2-3" for the CPUs in `mask`.
void format_cpus(char* out, usize cap, u32 mask) {
    usize n = 0;
    out[0] = '\0';
    for (u32 c = 0; c < kMaxPcpus && n + 8 < cap; ++c) {
        if (!((mask >> c) & 1) || (c > 0 && ((mask >> (c - 1)) & 1))) continue; // a run starts
        u32 last = c;
        while (last + 1 < kMaxPcpus && ((mask >> (last + 1)) & 1)) ++last;
        n += rt::format(out + n, cap - n, last == c ? "%s%u" : "%s%u-%u", n ? "," : "", c, last);
    }
}

// The CPUs this machine has, as a cpu-affinity mask.
u32 machine_cpus() {
    const u32 cpus = plat::cpu_count();
    return cpus >= kMaxPcpus ? ~u32{0} : (u32{1} << cpus) - 1;
}

// An LPAR's cpu-affinity against the machine: false (the LPAR is stopped and reported, the
// others go on) when it names none of the machine's CPUs; CPUs it names that the machine lacks
// are reported and left out.
bool check_affinity(Lpar& lpar) {
    if (lpar.cpu_affinity == 0) return true;
    const u32 have = machine_cpus();
    char named[64], cpus[64];
    format_cpus(named, sizeof named, lpar.cpu_affinity);
    format_cpus(cpus, sizeof cpus, have);
    if ((lpar.cpu_affinity & have) == 0) {
        char why[kStopReasonMax];
        rt::format(why, sizeof why, "cpu-affinity %s names no CPU of this machine (CPUs %s)", named,
                   cpus);
        lpar.crash(why);
        return false;
    }
    if ((lpar.cpu_affinity & ~have) != 0) {
        lpar.cpu_affinity &= have;
        char kept[64];
        format_cpus(kept, sizeof kept, lpar.cpu_affinity);
        log("lpar %s: cpu-affinity %s: the machine has CPUs %s; it runs on %s\n", lpar.name, named,
            cpus, kept);
    }
    return true;
}

void finish(Lpar& lpar, ChunkPool& pool) {
    if (lpar.released) return; // the management hcalls released it already (forced stop)
    log("lpar %s: %s (%s)\n", lpar.name, to_string(lpar.state), lpar.stop_reason);
    if (run.smp) {
        u32 used = 0;
        for (u32 i = 0; i < lpar.vcpu_count; ++i) used |= lpar.vcpus[i].ran_on;
        char cpus[64];
        format_cpus(cpus, sizeof cpus, used);
        if (used != 0) log("lpar %s: ran on physical CPUs %s\n", lpar.name, cpus);
        u64 cedes = 0, polled = 0;
        for (u32 i = 0; i < lpar.vcpu_count; ++i) {
            cedes += lpar.vcpus[i].cedes;
            polled += lpar.vcpus[i].cedes_polled;
        }
        if (cedes != 0)
            log("lpar %s: cedes %llu, resumed by cede polling %llu\n", lpar.name,
                static_cast<unsigned long long>(cedes), static_cast<unsigned long long>(polled));
    }
    release_lpar(lpar, pool);
}

bool any_live(LparTable& lpars) {
    for (Lpar& lpar : lpars)
        if (lpar.is_live()) return true;
    return false;
}

// An LPAR that ended is torn down by the CPU that hands back its last vcpu; CPUs that still run
// one of its vcpus are kicked out of the guest first (its memory must not be reused under
// them).
void reap_if_ended(Lpar& lpar, u32 self) {
    if (!lpar.has_ended()) return;
    bool elsewhere = false;
    for (u32 i = 0; i < lpar.vcpu_count; ++i) {
        const u32 cpu = lpar.vcpus[i].pcpu;
        if (cpu == kNoPcpu) continue;
        elsewhere = true;
        if (cpu != self) plat::kick_cpu(cpu);
    }
    if (!elsewhere) finish(lpar, *run.pool);
}

// Vcpus other than `v` that may want a CPU: Runnable, or Ceded (a timer or an interrupt wakes
// them).
usize contenders(const Vcpu& v) {
    usize n = 0;
    for (Lpar& lpar : *run.lpars) {
        if (!lpar.is_live()) continue;
        for (u32 i = 0; i < lpar.vcpu_count; ++i) {
            const Vcpu& o = lpar.vcpus[i];
            if (&o != &v && (o.state == VcpuState::Runnable || o.state == VcpuState::Ceded)) ++n;
        }
    }
    return n;
}

// How long a CPU keeps a vcpu that ceded, waiting for its wake-up (cede_poll).
constexpr u64 kCedePollUs = 100;

// A vcpu that ceded keeps its CPU for up to kCedePollUs, as long as no other vcpu waits for
// the CPU: the CPU waits for a kick (wake_ready kicks the CPU of a vcpu that is still picked
// when it gets an interrupt; powernv polls the kick flag, pc halts) and the vcpu runs again at
// once when it has an interrupt, a prod or its timer. KVM's halt polling: in a 2-vcpu Linux whose
// tasks hand the CPU to each other, every cede used to go back to the scheduler, the CPU to
// idle, and the wake-up through a pick (stress-ng switch 0.48 × native; 3.5 × with a guest that
// never cedes, `powersave=off`). True: run it again.
bool cede_poll(Vcpu& v, u32 self) {
    const u64 hz = plat::timebase_hz();
    if (!run.smp || hz == 0) return false;
    ++v.cedes;
    u64 until = arch::timebase() + hz / 1'000'000 * kCedePollUs;
    if (const u64 timer = arch::timer_deadline(v); timer != 0 && timer < until) until = timer;
    for (;;) {
        if (!v.lpar->is_live()) return false;
        // wake_pending: a wake-up while it was picked (Scheduler::wake), for this cede.
        if (take_wake_reason(v, v.wake_pending)) {
            v.wake_pending = false;
            ++v.cedes_polled;
            return true;
        }
        if (sched.waiting_for(self) > 0 || static_cast<i64>(arch::timebase() - until) >= 0)
            return false;
        // As an extended slice: a vcpu that becomes ready for this CPU meanwhile has it kicked
        // (tickle), and the CPU gives way.
        run.extended[self] = true;
        core_lock().unlock();
        plat::idle_cpu(until);
        core_lock().lock();
        run.extended[self] = false;
    }
}

// One time slice of `v` on this CPU (more while cede_poll keeps it), and what follows from how
// it ended.
void run_slice(Vcpu& v, u32 self) {
    const u64 housekeeping =
        plat::timebase_hz() ? plat::timebase_hz() / 1000 * kHousekeepingMs : sched.slice();
    VcpuExit exit;
    do {
        const SliceNeed need = slice_need(sched.slice(), contenders(v), housekeeping);
        run.extended[self] = need.extended;
        vpa::count_dispatch(v); // even: running
        exit = arch::vcpu_run(v, need.ticks);
        vpa::count_dispatch(v); // odd: not running
        run.extended[self] = false;
    } while (exit == VcpuExit::Ceded && cede_poll(v, self));
    Lpar& lpar = *v.lpar;
    switch (exit) {
    case VcpuExit::Ceded:
        sched.put_back(v, Scheduler::Outcome::Ceded);
        break;
    case VcpuExit::Preempted:
    case VcpuExit::Yielded:
        sched.put_back(v, Scheduler::Outcome::Preempted);
        break;
    case VcpuExit::Stopped:
    case VcpuExit::Offline:
    case VcpuExit::Fault:
        sched.put_back(v, Scheduler::Outcome::Offline);
        break;
    }
    reap_if_ended(lpar, self);
}

// An idle CPU other than the boot CPU (which serves the console every millisecond) zeroes one
// chunk that an LPAR being created asked for (ChunkPool::want: ppc64's VRMA needs all of them at
// once), without the lock. One chunk is some milliseconds under QEMU; then the CPU looks for
// work again. False when there was none to zero. Other memory is zeroed at its first use.
bool idle_scrub() {
    core_lock().unlock();
    const bool did = scrub_in_background();
    core_lock().lock();
    return did;
}

// The scheduler loop of one physical CPU, until every LPAR has ended. Entered and left with
// the core lock held. The boot CPU (0) also serves the console and the firmware; an idle CPU
// waits in plat::idle_cpu until it is kicked or a sleeping vcpu's timer is due (the boot CPU
// at most about a millisecond).
TESSERA_HOT void cpu_loop(u32 self) {
    LparTable& lpars = *run.lpars;
    while (any_live(lpars)) {
        if (self == 0) {
            plat::service_firmware();
            console::mux().poll_input();
            manage::machine().tick(arch::timebase()); // graceful stops past their deadline
        }
        wake_ready(lpars, self);
        Vcpu* v = sched.pick(self);
        if (!v) {
            if (!run.smp) { // alone: poll again at once
                core_lock().unlock();
                core_lock().lock();
                continue;
            }
            // Nothing here may run on this CPU, but what this CPU just woke (a timer, an IPI)
            // may be waiting for another one that sleeps: kick it before sleeping too.
            tickle(self);
            // Idle without the lock until kicked, or until the next timer of a sleeping vcpu
            // that may run here: the CPUs that run guests look at the clock only at their
            // exits.
            u64 until = sched.next_timer(self, arch::timer_deadline);
            if (self == 0) { // back within a millisecond for the console and the firmware
                const u64 hz = plat::timebase_hz();
                const u64 poll = arch::timebase() + (hz ? hz / 1000 : 1'000'000);
                if (until == 0 || poll < until) until = poll;
            }
            if (self != 0 && idle_scrub()) continue;
            sched.set_idle(self, true);
            core_lock().unlock();
            plat::idle_cpu(until);
            core_lock().lock();
            sched.set_idle(self, false);
            continue;
        }
        if (run.smp) tickle(self); // the rest of the queue goes to idle CPUs
        run_slice(*v, self);
    }
}

} // namespace

void core_events() {
    if (!run.lpars) return;
    const u32 self = arch::cpu_index();
    wake_ready(*run.lpars, self);
    tickle(self);
}

bool leave_cpus(Lpar& lpar, const Lpar* waiter, bool wait) {
    if (lpar.is_live()) return false; // its vcpus would just be picked again
    const u32 self = arch::cpu_index();
    for (bool kicked = false;; kicked = true) {
        bool elsewhere = false;
        for (u32 i = 0; i < lpar.vcpu_count; ++i) {
            const u32 cpu = lpar.vcpus[i].pcpu;
            if (cpu == kNoPcpu) continue;
            if (cpu == self) return false; // this CPU hands it back only after returning
            elsewhere = true;
            if (!kicked) plat::kick_cpu(cpu); // vcpu_run sees the LPAR ended and returns
        }
        if (!elsewhere) return true;
        if (!wait || (waiter != nullptr && !waiter->is_live())) return false;
        core_lock().unlock(); // the other CPU needs the lock to hand the vcpu back
        core_lock().lock();
    }
}

TESSERA_HOT bool core_slice_contended() {
    if (!run.lpars) return false;
    const u32 self = arch::cpu_index();
    return self < kMaxPcpus && run.extended[self] && sched.waiting_for(self) > 0;
}

[[noreturn]] void secondary_main(u32 cpu) {
    core_lock().lock();
    while (!run.go) {
        core_lock().unlock();
        if (!scrub_in_background()) plat::idle_cpu(0); // the boot CPU kicks at go
        core_lock().lock();
    }
    cpu_loop(cpu);
    --run.in_loop;
    core_lock().unlock();
    for (;;) plat::idle_cpu(0); // the boot CPU powers the machine off
}

RunSummary run_lpars(LparTable& lpars, const Config& config, ChunkPool& pool) {
    LockGuard guard(core_lock());
    const u32 cpus = plat::cpu_count();
    sched.init(cpus, slice_ticks());
    run.lpars = &lpars;
    run.pool = &pool;
    run.smp = cpus > 1;
    for (Lpar& lpar : lpars) {
        if (lpar.state == LparState::Loaded && (!check_affinity(lpar) || !start_lpar(lpar)))
            finish(lpar, pool);
        else if (lpar.has_ended())
            finish(lpar, pool); // could not be loaded
    }
    run.in_loop = cpus;
    run.go = true;
    for (u32 c = 1; c < cpus; ++c) plat::kick_cpu(c);
    cpu_loop(0);
    // The other CPUs hand back what they still run (an ended LPAR's vcpus) and leave their loop.
    --run.in_loop;
    for (u32 c = 1; c < cpus; ++c) plat::kick_cpu(c);
    while (run.in_loop != 0) {
        core_lock().unlock();
        core_lock().lock();
    }
    run.go = false;
    run.lpars = nullptr;
    // Every ended LPAR gave its chunks back: a leak shows as fewer free than usable (scripts/soak).
    log("chunks: %zu of %zu free after the run (%llu KiB zeroed since boot)\n", pool.free_count(),
        pool.total(), static_cast<unsigned long long>(pool.zeroed_bytes() / KiB));

    RunSummary sum;
    bool any_test = false;
    for (Lpar& lpar : lpars) {
        const LparConfig* lc = config.find(lpar.name);
        // A client that is not a test program may report through H_TESSERA_TEST_EXIT too.
        any_test |= (lc && lc->kind == LparKind::Test) || lpar.test.reported;
        bool expect_crash = lc && lc->expect == LparExpect::Crash;
        if (expect_crash) {
            bool ok = lpar.state == LparState::Crashed;
            (ok ? sum.passed : sum.failed) += 1;
            log("lpar %s: %s, as expected: %s\n", lpar.name, to_string(lpar.state),
                ok ? "yes" : "no");
        } else if (lpar.test.reported) {
            sum.passed += lpar.test.passed;
            sum.failed += lpar.test.failed;
            log("lpar %s: %llu passed, %llu failed\n", lpar.name, ull(lpar.test.passed),
                ull(lpar.test.failed));
        } else if (lpar.state == LparState::Crashed) {
            sum.failed += 1;
            log("lpar %s: crashed: %s\n", lpar.name, lpar.stop_reason);
        }
    }
    // The checks' summary, for runs with test LPARs or reporting clients, and for any run in
    // which something failed (a client that crashed or could not be loaded), so that a failed
    // run never ends like a clean power-off; a good Linux run ends with its LPARs' lines.
    if (any_test || sum.failed != 0)
        log("%llu passed, %llu failed\n", ull(sum.passed), ull(sum.failed));
    return sum;
}

} // namespace tessera
