#include "common/run.hpp"

#include "common/chunks.hpp"
#include "common/console.hpp"
#include "common/lifecycle.hpp"
#include "common/log.hpp"
#include "common/lpar.hpp"
#include "common/lpar_config.hpp"
#include "common/manage.hpp"
#include "common/sched.hpp"
#include "common/vpa.hpp"

#include <tessera/arch.hpp>

namespace tessera {
namespace {

constinit Scheduler sched;

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

void wake_ready(LparTable& lpars) {
    for (Lpar& lpar : lpars) {
        if (!lpar.is_live()) continue;
        lpar.sync_vty_irq();
        xics::ServerMask presented = lpar.xics.take_presented();
        for (u32 i = 0; i < lpar.vcpu_count; ++i) {
            Vcpu& v = lpar.vcpus[i];
            bool woken = (presented >> i) & 1;
            if (v.state != VcpuState::Ceded) continue;
            if (v.prodded || woken || lpar.xics.has_pending(i) || arch::timer_pending(v)) {
                v.prodded = false;
                sched.wake(v);
            }
        }
    }
}

void finish(Lpar& lpar, ChunkPool& pool) {
    if (lpar.released) return; // the management hcalls released it already (forced stop)
    log("lpar %s: %s (%s)\n", lpar.name, to_string(lpar.state), lpar.stop_reason);
    release_lpar(lpar, pool);
}

bool any_live(LparTable& lpars) {
    for (Lpar& lpar : lpars)
        if (lpar.is_live()) return true;
    return false;
}

} // namespace

RunSummary run_lpars(LparTable& lpars, const Config& config, ChunkPool& pool) {
    sched.init(1, slice_ticks());
    for (Lpar& lpar : lpars) {
        if (lpar.state == LparState::Loaded && !start_lpar(lpar))
            finish(lpar, pool);
        else if (lpar.has_ended())
            finish(lpar, pool); // could not be loaded
    }
    while (any_live(lpars)) {
        plat::service_firmware();
        console::mux().poll_input();
        manage::machine().tick(arch::timebase()); // graceful stops past their deadline
        wake_ready(lpars);
        Vcpu* v = sched.pick(0);
        if (!v) continue;        // every vcpu idles: poll again
        vpa::count_dispatch(*v); // even: running
        VcpuExit exit = arch::vcpu_run(*v, sched.slice());
        vpa::count_dispatch(*v); // odd: not running
        Lpar& lpar = *v->lpar;
        switch (exit) {
        case VcpuExit::Ceded:
            sched.put_back(*v, Scheduler::Outcome::Ceded);
            break;
        case VcpuExit::Preempted:
        case VcpuExit::Yielded:
            sched.put_back(*v, Scheduler::Outcome::Preempted);
            break;
        case VcpuExit::Stopped:
        case VcpuExit::Offline:
        case VcpuExit::Fault:
            sched.put_back(*v, Scheduler::Outcome::Offline);
            break;
        }
        if (lpar.has_ended()) finish(lpar, pool);
    }
    // Every ended LPAR gave its chunks back: a leak shows as fewer free than usable (scripts/soak).
    log("chunks: %zu of %zu free after the run\n", pool.free_count(), pool.total());

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
