// The guest's breakpoints on the CPU (docs/ia32.md, "Debug registers"): DR0-DR3 and the safe
// DR7 (isa/ia32/debug_regs.hpp) armed by the switcher after the cr3 switch, cleared by it at
// every exit before the hypervisor's own code runs; DR6 read and cleared after a #DB.
#include "common/lpar.hpp"
#include "isa/ia32/cpu.hpp"
#include "isa/ia32/debug_regs.hpp"
#include "isa/ia32/pcpu.hpp"

#include <tessera/arch.hpp>
#include <tessera/hot.hpp>

extern "C" {
// The DR7 that sw_resume loads after the cr3 switch (0: leave DR7 0); isa/ia32/switcher.S.
extern tessera::u32 sw_guest_dr7;
}

namespace tessera::arch {
namespace {

template <unsigned N>
void write_dr(u32 value) {
    asm volatile("mov %0, %%dr%c1" ::"r"(value), "i"(N));
}

} // namespace

TESSERA_HOT void debug_enter(const Vcpu& v) {
    const GuestDebug& d = v.arch.debug;
    const u32 dr7 = debug_dr7_for_cpu(d);
    // What this CPU's DR0-DR3 hold now (only written when a guest's differ).
    u32(&loaded)[4] = this_pcpu().dr_loaded;
    if (dr7 != 0) {
        // DR7 is 0 here: writing the addresses arms nothing yet.
        if (loaded[0] != d.dr[0]) write_dr<0>(loaded[0] = d.dr[0]);
        if (loaded[1] != d.dr[1]) write_dr<1>(loaded[1] = d.dr[1]);
        if (loaded[2] != d.dr[2]) write_dr<2>(loaded[2] = d.dr[2]);
        if (loaded[3] != d.dr[3]) write_dr<3>(loaded[3] = d.dr[3]);
    }
    *reinterpret_cast<u32*>(switcher_va(&sw_guest_dr7)) = dr7; // this CPU's
}

u32 debug_take_dr6() {
    u32 dr6;
    asm volatile("mov %%dr6, %0" : "=r"(dr6));
    write_dr<6>(kDr6Fixed);
    return dr6;
}

} // namespace tessera::arch
