// What hcalls ask of the CPU itself. While an hcall runs the vcpu's supervisor SPRs are live in
// the CPU (vcpu_run loads them once and saves them when the vcpu leaves), so a change goes to the
// register itself and reaches the vcpu's saved state at the next save.
#include "common/lpar.hpp"
#include "isa/ppc64/cpu_hcalls.hpp"
#include "isa/ppc64/spr.hpp"

namespace tessera::arch {

void set_live_sprg0(Vcpu& vcpu, u64 value) {
    mtspr<Spr::SPRG0>(value);
    vcpu.arch.sprg[0] = value;
}

// dcbst pushes each line to memory, icbi drops stale copies from every instruction cache; the
// syncs order them (POWER ISA Book II, "instruction storage").
void sync_icache(void* host, usize len) {
    constexpr uptr kLine = 128;
    const uptr start = reinterpret_cast<uptr>(host) & ~(kLine - 1);
    const uptr end = reinterpret_cast<uptr>(host) + len;
    for (uptr p = start; p < end; p += kLine) asm volatile("dcbst 0, %0" ::"r"(p) : "memory");
    asm volatile("sync" ::: "memory");
    for (uptr p = start; p < end; p += kLine) asm volatile("icbi 0, %0" ::"r"(p) : "memory");
    asm volatile("sync; isync" ::: "memory");
}

} // namespace tessera::arch
