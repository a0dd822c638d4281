// The x87/SSE state of the vcpus (docs/ia32.md): the hypervisor itself never touches it
// (-mgeneral-regs-only), so the physical registers hold the state of the last vcpu that ran; it
// is saved and the next vcpu's restored only when a different vcpu runs. The guest's own CR0.TS
// (emulated, clts) is applied to the real CR0 while it runs, so its #NM lazy switching works.
#include "common/log.hpp"
#include "common/lpar.hpp"
#include "isa/ia32/cpu.hpp"

namespace tessera::arch {
namespace {

constexpr u32 kCr0Mp = 1u << 1, kCr0Em = 1u << 2, kCr0TsBit = 1u << 3, kCr0Ne = 1u << 5;
constexpr u32 kCr4Osfxsr = 1u << 9, kCr4Osxmmexcpt = 1u << 10;
constexpr u32 kCpuidFxsr = 1u << 24, kCpuidSse = 1u << 25;

bool have_fxsr = false, have_sse = false;
const Vcpu* owner = nullptr; // whose state the physical registers hold

u32 read_cr0() {
    u32 v;
    asm volatile("mov %%cr0, %0" : "=r"(v));
    return v;
}
void write_cr0(u32 v) {
    asm volatile("mov %0, %%cr0" ::"r"(v) : "memory");
}

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
    write_cr0((read_cr0() & ~(kCr0Em | kCr0TsBit)) | kCr0Mp | kCr0Ne);
    if (have_fxsr) {
        u32 cr4;
        asm volatile("mov %%cr4, %0" : "=r"(cr4));
        cr4 |= kCr4Osfxsr | (have_sse ? kCr4Osxmmexcpt : 0);
        asm volatile("mov %0, %%cr4" ::"r"(cr4));
    }
    asm volatile("fninit" ::: "memory");
    log("ia32: FPU state switched with %s%s\n", have_fxsr ? "fxsave/fxrstor" : "fnsave/frstor",
        have_sse ? " (SSE enabled for guests)" : "");
}

void fpu_enter(Vcpu& v) {
    const u32 cr0 = read_cr0();
    if (owner != &v) {
        if (cr0 & kCr0TsBit) write_cr0(cr0 & ~kCr0TsBit);
        if (owner != nullptr) save(const_cast<Vcpu&>(*owner));
        restore(v);
        owner = &v;
    }
    const u32 want = (read_cr0() & ~kCr0TsBit) | (v.arch.ctl.cr0 & kCr0TsBit);
    if (want != read_cr0()) write_cr0(want);
}

void fpu_forget(const Vcpu& v) {
    if (owner == &v) owner = nullptr;
}

} // namespace tessera::arch
