// The x87/SSE state of the vcpus (docs/ia32.md): the hypervisor itself never touches it
// (-mgeneral-regs-only), so the physical registers hold the state of the last vcpu that ran; it
// is saved and the next vcpu's restored only when a different vcpu runs. With several physical
// CPUs the owner is per CPU and vcpu_run saves the state at every return (fpu_put_away): the
// vcpu's next slice may be on another CPU. The guest's own CR0.TS
// (emulated, clts) is applied to the real CR0 while it runs, so its #NM lazy switching works.
#include "common/log.hpp"
#include "common/lpar.hpp"
#include "isa/ia32/cpu.hpp"
#include "isa/ia32/cr.hpp"
#include "isa/ia32/pcpu.hpp"

#include <tessera/arch.hpp>
#include <tessera/hot.hpp>

namespace tessera::arch {
namespace {

constexpr u32 kCpuidFxsr = 1u << 24, kCpuidSse = 1u << 25;

bool have_fxsr = false, have_sse = false; // the same on every CPU (set by CPU 0 first)

void save(Vcpu& v) {
    if (have_fxsr)
        asm volatile("fxsave %0" : "=m"(v.arch.fpu));
    else
        asm volatile("fnsave %0" : "=m"(v.arch.fpu));
}

void restore(Vcpu& v) {
    if (!v.arch.fpu_valid) {
        // A fresh vcpu: the state after reset (FCW 0x37f, MXCSR 0x1f80: all exceptions masked).
        asm volatile("fninit" ::: "memory");
        if (have_sse) {
            const u32 mxcsr = 0x1f80;
            asm volatile("ldmxcsr %0" ::"m"(mxcsr));
        }
        v.arch.fpu_valid = true;
        return;
    }
    if (have_fxsr)
        asm volatile("fxrstor %0" ::"m"(v.arch.fpu));
    else
        asm volatile("frstor %0" ::"m"(v.arch.fpu));
}

} // namespace

void fpu_init() {
    u32 a = 1, b, c = 0, d;
    asm volatile("cpuid" : "+a"(a), "=b"(b), "+c"(c), "=d"(d));
    have_fxsr = (d & kCpuidFxsr) != 0;
    have_sse = have_fxsr && (d & kCpuidSse) != 0;
    cr::write0((cr::read0() & ~(kCr0Em | kCr0Ts)) | kCr0Mp | kCr0Ne);
    if (have_fxsr) cr::write4(cr::read4() | kCr4Osfxsr | (have_sse ? kCr4Osxmmexcpt : 0));
    asm volatile("fninit" ::: "memory");
    if (cpu_index() == 0)
        log("ia32: FPU state switched with %s%s\n", have_fxsr ? "fxsave/fxrstor" : "fnsave/frstor",
            have_sse ? " (SSE enabled for guests)" : "");
}

TESSERA_HOT void fpu_enter(Vcpu& v) {
    const Vcpu*& owner = this_pcpu().fpu_owner;
    const u32 cr0 = cr::read0();
    if (owner != &v) {
        if (cr0 & kCr0Ts) cr::write0(cr0 & ~kCr0Ts);
        if (owner != nullptr) save(const_cast<Vcpu&>(*owner));
        restore(v);
        owner = &v;
    }
    const u32 now = cr::read0();
    const u32 want = (now & ~kCr0Ts) | (v.arch.ctl.cr0 & kCr0Ts);
    if (want != now) cr::write0(want);
}

void fpu_forget(const Vcpu& v) {
    for (u32 i = 0; i < kMaxCpus; ++i)
        if (pcpu(i).fpu_owner == &v) pcpu(i).fpu_owner = nullptr;
}

void fpu_put_away(Vcpu& v) {
    const Vcpu*& owner = this_pcpu().fpu_owner;
    if (owner != &v) return;
    const u32 cr0 = cr::read0();
    if (cr0 & kCr0Ts) cr::write0(cr0 & ~kCr0Ts);
    save(v);
    owner = nullptr;
}

} // namespace tessera::arch
