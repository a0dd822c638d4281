// Running the loaded LPARs: ISA setup of each LPAR, the scheduler loop on this physical CPU, and
// the end-of-run report.
#pragma once

#include <tessera/types.hpp>

namespace tessera {

class ChunkPool;
class Lpar;
class LparTable;
struct Config;

struct RunSummary {
    u64 passed = 0; // test checks passed (+1 per LPAR that ended as its config expected)
    u64 failed = 0; // test checks failed (+1 per LPAR that did not)
};

// Enters a Loaded LPAR's vcpus as loading decided (Lpar::boot) and hands them to the scheduler:
// at the start of run_lpars, and for the management hcalls (TLPAR_START) while it runs.
bool start_lpar(Lpar& lpar);

// With the core lock held, for an LPAR that is no longer Running (stopped or destroyed by the
// management hcalls): kicks every other physical CPU that runs one of its vcpus and, with
// `wait`, waits for them, dropping the core lock between looks, until each CPU has handed its
// vcpu back (so its memory can go). True once none runs on a CPU; false without `wait` while
// one does, when one runs on this very CPU, or as soon as `waiter` (the LPAR whose hcall
// waits) is no longer Running: its CPU may be the one another waits for.
bool leave_cpus(Lpar& lpar, const Lpar* waiter, bool wait);

// Starts every Loaded LPAR and runs them, time-sliced, until all have ended; then prints a
// line per LPAR and the summary `N passed, M failed`.
// Runs on the boot CPU; with several physical CPUs (plat::cpu_count) every CPU runs the same
// scheduler loop over one global run queue (common/sched.hpp) under the core lock
// (common/core_lock.hpp).
RunSummary run_lpars(LparTable& lpars, const Config& config, ChunkPool& pool);

// A secondary physical CPU's way into the core, once its ISA state is set up (the platform calls
// it right after starting the CPU): it idles until run_lpars starts the LPARs, runs the
// scheduler loop with the others, then idles for good.
[[noreturn]] void secondary_main(u32 cpu);

// With the core lock held, after something may have raised an interrupt or prodded a vcpu
// (arch::vcpu_run calls it after each hcall when there are several CPUs): wakes the ceded vcpus
// concerned, hands them to idle CPUs and kicks the CPUs whose running vcpu got an interrupt.
void core_events();

// With the core lock held, after an hcall on a CPU that runs an extended slice
// (common/slice.hpp): true when a vcpu now waits for the CPU (a started CPU or LPAR, a prodded
// or interrupted vcpu), so vcpu_run should end the slice now.
bool core_slice_contended();

} // namespace tessera
