// vcpus, trap dispatch, idling and the default timer / external interrupt handlers.
#include "lpar.hpp"
#include "lpar_internal.hpp"

namespace lpar {

using namespace tessera::hcall;

namespace {

constinit Vcpu g_vcpus[kMaxVcpus];
constinit TrapHandler g_handlers[isa::kTrapSlots] = {};

inline constexpr u64 kIpiSource = 2; // XICS: the IPI's source number
inline constexpr u64 kXisrMask = 0xffffff;
inline constexpr u64 kNoMfrr = 0xff; // MFRR: no IPI

void unexpected_trap(isa::TrapFrame& frame) {
    char what[160];
    isa::describe_trap(frame, what, sizeof(what));
    check(false, Detail("%s", what), "vcpu %u: no unexpected interrupt", this_vcpu().index);
    note("ending the LPAR after an unexpected interrupt");
    exit_lpar();
}

} // namespace

Vcpu& this_vcpu() {
    return *static_cast<Vcpu*>(isa::this_cpu_ptr());
}
Vcpu& vcpu(unsigned index) {
    return g_vcpus[index % kMaxVcpus];
}
const Boot& boot() {
    return this_vcpu().boot;
}

u64 ticks_per_ms() {
    return isa::kTimebaseHz / 1000;
}
u64 now() {
    return isa::timebase();
}

void idle(u64 ticks) {
    Vcpu& v = this_vcpu();
    const bool was_enabled = isa::irq_enabled();
    isa::irq_disable();
    store_release(v.timer_period, u64{0});
    isa::timer_set(ticks ? ticks : 1);
    // Returns once an interrupt is pending, with interrupts enabled: it is taken right here.
    hcall(H_CEDE);
    if (!was_enabled) isa::irq_disable();
}

void set_trap_handler(u64 vector, TrapHandler h) {
    __atomic_store_n(&g_handlers[isa::trap_slot(vector)], h, __ATOMIC_RELEASE);
}

void default_timer_handler(isa::TrapFrame&) {
    Vcpu& v = this_vcpu();
    fetch_add(v.timer_ticks, u64{1});
    const u64 period = load_acquire(v.timer_period);
    isa::timer_set(period ? period : isa::kTimerMax);
}

void default_external_handler(isa::TrapFrame&) {
    Vcpu& v = this_vcpu();
    const HcallResult x = hcall(H_XIRR);
    store_release(v.last_xirr_status, x.status);
    store_release(v.last_xirr, x.ret[0]);
    const u64 source = x.ret[0] & kXisrMask;
    if (x.status != H_SUCCESS || source == 0) {
        fetch_add(v.ext_spurious, u64{1});
        return;
    }
    if (source == kIpiSource) hcall(H_IPI, v.index, kNoMfrr); // or it is presented again
    store_release(v.last_eoi_status, hcall(H_EOI, x.ret[0]).status);
    fetch_add(v.ext_count, u64{1});
}

[[noreturn]] void start(const Boot& b) {
    Vcpu& v = g_vcpus[b.vcpu];
    v.index = b.vcpu;
    v.boot = b;
    isa::set_this_cpu_ptr(&v);
    isa::timer_set(isa::kTimerMax);

    lpar_main(b);

    if (b.vcpu == 0) finish();
    store_release(v.done, u32{1});
    for (;;) idle(isa::kTimerMax); // until vcpu 0 ends the LPAR
}

} // namespace lpar

extern "C" void lpar_trap(lpar::isa::TrapFrame* frame) {
    using namespace lpar;
    TrapHandler h = __atomic_load_n(&g_handlers[isa::trap_slot(frame->vector)], __ATOMIC_ACQUIRE);
    if (h == nullptr && frame->vector == isa::kTimerVector) h = default_timer_handler;
    if (h == nullptr && frame->vector == isa::kExternalVector) h = default_external_handler;
    if (h == nullptr) h = unexpected_trap;
    h(*frame);
}
