// The scheduler: decides which logical CPU each physical CPU runs next. It does no hardware work
// (the core's run loop calls arch::vcpu_run with slice() ticks), so its decisions are unit-tested.
//
// Policy: plain round-robin over the vcpus of all LPARs, first come first served. Every vcpu
// gets the same slice, so an LPAR's share of the machine is proportional to its number of
// runnable vcpus (an LPAR with 3 busy vcpus gets three times the time of one with 1). A vcpu
// that became Runnable outside the scheduler (Lpar::start, Lpar::start_vcpu) goes before the
// queued ones, so a started CPU gets its first slice promptly; ties go in order of add().
//
// Several physical CPUs: one global run queue for all of them (every Runnable vcpu may run on
// any CPU; the oldest ready one goes first), as Xen's credit2 shares one runqueue among the
// CPUs of a group. A CPU with nothing to run marks itself idle; whoever makes a vcpu Runnable
// claims an idle CPU for it (claim_idle) and kicks it (plat::kick_cpu), like Xen's tickle_cpu.
// Soft affinity: the claim goes to the CPU the vcpu last ran on when that one is idle, and the
// other CPUs leave a claimed vcpu to its CPU. A vcpu that moves costs its new CPU a cold TLB
// (under QEMU also every software-TLB entry of the hypervisor and the guest), which is more
// than the wait for the kicked CPU: without the claims, two vcpus that woke each other swapped
// CPUs at almost every slice, as the CPU that was awake took the woken vcpu first.
// An LPAR's `cpu-affinity` (Lpar::cpu_affinity) limits the CPUs that pick its vcpus and the idle
// CPUs claimed for them, as Xen's hard affinity does; without one a vcpu may run anywhere.
//
// Invariants: a vcpu is picked only when Runnable and its LPAR Running, and a picked vcpu is
// Running on exactly one physical CPU until put_back(). Lock: the core lock
// (common/core_lock.hpp) around every call; the class itself does no locking.
#pragma once

#include <tessera/types.hpp>

#include "common/lpar.hpp"

namespace tessera {

inline constexpr u32 kMaxPcpus = 32; // fits Scheduler::idle_
inline constexpr usize kMaxSchedVcpus = kMaxLpars * kMaxVcpusPerLpar;

class Scheduler {
  public:
    // How a slice ended, as the run loop tells put_back().
    enum class Outcome : u8 {
        Preempted, // slice used up (or a host interrupt): back to the tail, Runnable
        Ceded,     // H_CEDE / hlt: sleeps (Ceded) until wake()
        Offline,   // the guest stopped this CPU (RTAS stop-self): Offline until Lpar::start_vcpu
    };

    // Forgets everything. False (and unusable) for 0 or more than kMaxPcpus CPUs, or slice 0.
    bool init(u32 pcpus, u64 slice_ticks);
    u32 pcpus() const { return pcpus_; }
    u64 slice() const { return slice_; }
    bool set_slice(u64 ticks);

    // Registers a vcpu that belongs to an LPAR; false when already registered, full, or the vcpu
    // has no LPAR. Offline/Ceded vcpus stay registered and are picked once they are Runnable.
    bool add(Vcpu& v);
    usize add_lpar(Lpar& lpar); // every vcpu of the LPAR; returns how many were added
    usize count() const { return count_; }

    // The next Runnable vcpu for physical CPU `pcpu`, now Running there; nullptr to idle (or for
    // a bad pcpu number): one claimed for it first, then the oldest unclaimed one. The CPU's
    // claims end here (whatever it picks, it is no longer on its way to the others). The CPU
    // must have handed back its previous vcpu.
    Vcpu* pick(u32 pcpu);
    // The vcpu the CPU is running, or nullptr.
    Vcpu* current(u32 pcpu) const { return pcpu < pcpus_ ? current_[pcpu] : nullptr; }
    // The end of a picked vcpu's slice. When its LPAR has ended meanwhile, the vcpu is removed
    // whatever the outcome.
    void put_back(Vcpu& v, Outcome outcome);
    // An interrupt is pending for the vcpu: a Ceded one becomes Runnable (at the tail), a Running
    // one will not sleep at its next cede. False when it cannot run: Offline, Stopped, or its
    // LPAR is not Running.
    bool wake(Vcpu& v);

    // Idle CPUs: `pcpu` waits in plat::idle_cpu for work (true) or is back (false).
    void set_idle(u32 pcpu, bool idle);
    bool is_idle(u32 pcpu) const { return pcpu < pcpus_ && ((idle_ >> pcpu) & 1); }
    // An idle CPU other than `self`, now claimed for one waiting vcpu without a claim and no
    // longer counted idle (the caller kicks it); kNoPcpu when no such vcpu may run on an idle
    // CPU. The vcpu's last CPU when it is idle, else the oldest waiting vcpu gets the first idle
    // CPU it may run on.
    u32 claim_idle(u32 self);
    // Runnable vcpus of live LPARs that wait for a CPU; waiting_for: those that `pcpu` may pick
    // (its cpu-affinity allows it, and no other CPU was claimed for it).
    usize waiting() const;
    usize waiting_for(u32 pcpu) const;
    // The earliest timer of a Ceded vcpu of a live LPAR that may run on `pcpu`, as `deadline`
    // (arch::timer_deadline) gives it in timebase ticks; 0 when there is none. An idle CPU sleeps
    // no longer than that: no other CPU may look at the clock meanwhile (another CPU runs a guest
    // for a whole slice, and idle CPUs other than the boot CPU wait only for kicks).
    u64 next_timer(u32 pcpu, u64 (*deadline)(const Vcpu&)) const;

  private:
    void reap(); // drops vcpus of ended LPARs that no CPU holds
    // Runnable, of a live LPAR, and allowed on `pcpu` (kNoPcpu: any CPU).
    static bool ready(const Vcpu& v, u32 pcpu);
    // The oldest ready vcpu without a claim whose last CPU is `last`, or nullptr.
    Vcpu* oldest_unclaimed(u32 last) const;
    // The first idle CPU other than `self` that `v` may run on, or kNoPcpu.
    u32 idle_cpu_for(const Vcpu& v, u32 self) const;

    Vcpu* vcpus_[kMaxSchedVcpus] = {};
    usize count_ = 0;
    Vcpu* current_[kMaxPcpus] = {};
    u32 pcpus_ = 0;
    u32 idle_ = 0; // bit n: CPU n is idle
    u64 slice_ = 0;
    u64 seq_ = 0;
};

const char* to_string(Scheduler::Outcome o);

} // namespace tessera
