#include "common/sched.hpp"

#include "common/rt/panic.hpp"
#include <tessera/hot.hpp>

namespace tessera {

const char* to_string(Scheduler::Outcome o) {
    switch (o) {
    case Scheduler::Outcome::Preempted:
        return "preempted";
    case Scheduler::Outcome::Ceded:
        return "ceded";
    case Scheduler::Outcome::Offline:
        return "offline";
    }
    return "?";
}

bool Scheduler::init(u32 pcpus, u64 slice_ticks) {
    *this = Scheduler{};
    if (pcpus == 0 || pcpus > kMaxPcpus || slice_ticks == 0) return false;
    pcpus_ = pcpus;
    slice_ = slice_ticks;
    return true;
}

bool Scheduler::set_slice(u64 ticks) {
    if (ticks == 0) return false;
    slice_ = ticks;
    return true;
}

bool Scheduler::add(Vcpu& v) {
    if (v.lpar == nullptr || count_ == kMaxSchedVcpus) return false;
    for (usize i = 0; i < count_; ++i) {
        if (vcpus_[i] == &v) return false;
    }
    v.claimed_by = kNoPcpu;
    vcpus_[count_++] = &v;
    return true;
}

usize Scheduler::add_lpar(Lpar& lpar) {
    usize added = 0;
    for (u32 i = 0; i < lpar.vcpu_count; ++i) added += add(lpar.vcpus[i]) ? 1 : 0;
    return added;
}

TESSERA_HOT void Scheduler::reap() {
    usize kept = 0;
    for (usize i = 0; i < count_; ++i) {
        Vcpu* v = vcpus_[i];
        if (v->lpar->has_ended() && v->pcpu == kNoPcpu) {
            v->claimed_by = kNoPcpu; // its LPAR may start again: no claim may hold it back then
            continue;
        }
        vcpus_[kept++] = v; // keeps add() order for ties
    }
    for (usize i = kept; i < count_; ++i) vcpus_[i] = nullptr;
    count_ = kept;
}

bool Scheduler::ready(const Vcpu& v, u32 pcpu) {
    return v.state == VcpuState::Runnable && v.lpar->is_live() &&
           (pcpu == kNoPcpu || v.lpar->may_run_on(pcpu));
}

Vcpu* Scheduler::pick(u32 pcpu) {
    if (pcpu >= pcpus_) return nullptr;
    TESSERA_ASSERT(current_[pcpu] == nullptr); // the run loop must put_back() first
    reap();
    Vcpu* best = nullptr;
    for (usize i = 0; i < count_; ++i) {
        Vcpu* v = vcpus_[i];
        if (!ready(*v, pcpu)) continue;
        if (v->claimed_by != kNoPcpu && v->claimed_by != pcpu) continue; // that CPU is on its way
        if (best == nullptr) {
            best = v;
            continue;
        }
        const bool mine = v->claimed_by == pcpu, best_mine = best->claimed_by == pcpu;
        if (mine != best_mine ? mine : v->ready_seq < best->ready_seq) best = v;
    }
    for (usize i = 0; i < count_; ++i) {
        if (vcpus_[i]->claimed_by == pcpu) vcpus_[i]->claimed_by = kNoPcpu;
    }
    if (best == nullptr) return nullptr;
    TESSERA_ASSERT(best->pcpu == kNoPcpu);
    best->state = VcpuState::Running;
    best->pcpu = pcpu;
    best->ran_on |= u32{1} << pcpu;
    ++best->slices;
    current_[pcpu] = best;
    return best;
}

TESSERA_HOT void Scheduler::put_back(Vcpu& v, Outcome outcome) {
    // Only a vcpu this scheduler picked can come back, and only from the CPU it was given to.
    TESSERA_ASSERT(v.pcpu < pcpus_ && current_[v.pcpu] == &v);
    current_[v.pcpu] = nullptr;
    v.last_pcpu = v.pcpu;
    v.pcpu = kNoPcpu;
    v.claimed_by = kNoPcpu;
    const bool woken = v.wake_pending;
    v.wake_pending = false;

    if (!v.lpar->is_live()) {
        v.state = VcpuState::Stopped;
        reap();
        return;
    }
    if (outcome == Outcome::Offline) {
        v.state = VcpuState::Offline;
    } else if (outcome == Outcome::Ceded && !woken) {
        v.state = VcpuState::Ceded;
    } else {
        v.state = VcpuState::Runnable;
        v.ready_seq = ++seq_;
    }
}

bool Scheduler::wake(Vcpu& v) {
    if (v.lpar == nullptr || !v.lpar->is_live()) return false;
    switch (v.state) {
    case VcpuState::Ceded:
        v.state = VcpuState::Runnable;
        v.ready_seq = ++seq_;
        return true;
    case VcpuState::Running:
        v.wake_pending = true;
        return true;
    case VcpuState::Runnable:
        return true;
    case VcpuState::Offline:
    case VcpuState::Stopped:
        return false;
    }
    return false;
}

void Scheduler::set_idle(u32 pcpu, bool idle) {
    if (pcpu >= pcpus_) return;
    if (idle)
        idle_ |= u32{1} << pcpu;
    else
        idle_ &= ~(u32{1} << pcpu);
}

Vcpu* Scheduler::oldest_unclaimed(u32 last) const {
    Vcpu* best = nullptr;
    for (usize i = 0; i < count_; ++i) {
        Vcpu* v = vcpus_[i];
        if (v->last_pcpu != last || v->claimed_by != kNoPcpu || !ready(*v, last)) continue;
        if (best == nullptr || v->ready_seq < best->ready_seq) best = v;
    }
    return best;
}

u32 Scheduler::claim_idle(u32 self) {
    // First a vcpu whose last CPU idles: it goes back there.
    for (u32 c = 0; c < pcpus_; ++c) {
        if (c == self || !is_idle(c)) continue;
        Vcpu* v = oldest_unclaimed(c);
        if (v == nullptr) continue;
        set_idle(c, false);
        v->claimed_by = c;
        return c;
    }
    // Then the oldest waiting vcpu that an idle CPU may run (cpu-affinity): the first such CPU.
    Vcpu* oldest = nullptr;
    u32 cpu = kNoPcpu;
    for (usize i = 0; i < count_; ++i) {
        Vcpu* v = vcpus_[i];
        if (!ready(*v, kNoPcpu) || v->claimed_by != kNoPcpu) continue;
        if (oldest != nullptr && oldest->ready_seq <= v->ready_seq) continue;
        const u32 c = idle_cpu_for(*v, self);
        if (c == kNoPcpu) continue;
        oldest = v;
        cpu = c;
    }
    if (oldest == nullptr) return kNoPcpu;
    set_idle(cpu, false);
    oldest->claimed_by = cpu;
    return cpu;
}

u32 Scheduler::idle_cpu_for(const Vcpu& v, u32 self) const {
    for (u32 c = 0; c < pcpus_; ++c) {
        if (c != self && is_idle(c) && v.lpar->may_run_on(c)) return c;
    }
    return kNoPcpu;
}

usize Scheduler::waiting() const {
    usize n = 0;
    for (usize i = 0; i < count_; ++i) {
        const Vcpu* v = vcpus_[i];
        if (v->state == VcpuState::Runnable && v->lpar->is_live()) ++n;
    }
    return n;
}

TESSERA_HOT usize Scheduler::waiting_for(u32 pcpu) const {
    usize n = 0;
    for (usize i = 0; i < count_; ++i) {
        const Vcpu* v = vcpus_[i];
        if (ready(*v, pcpu) && (v->claimed_by == kNoPcpu || v->claimed_by == pcpu)) ++n;
    }
    return n;
}

u64 Scheduler::next_timer(u32 pcpu, u64 (*deadline)(const Vcpu&)) const {
    u64 next = 0;
    for (usize i = 0; i < count_; ++i) {
        const Vcpu* v = vcpus_[i];
        if (v->state != VcpuState::Ceded || !v->lpar->is_live() || !v->lpar->may_run_on(pcpu))
            continue;
        const u64 at = deadline(*v);
        if (at != 0 && (next == 0 || at < next)) next = at;
    }
    return next;
}

} // namespace tessera
