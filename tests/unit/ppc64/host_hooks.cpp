// The ISA hooks that the ppc64 logic under test (HTAB, memory hcalls, dispatch) reaches through
// shared code (RTAS start-cpu) but that only the hypervisor image implements: minimal host
// versions so that unit_tests_ppc64 links. None of these tests exercise them.
#include "common/lpar.hpp"

namespace tessera::arch {

void vcpu_init(Vcpu& vcpu, LogicalAddr entry, const u64* args, usize nargs) {
    vcpu.arch.regs.pc = entry.value();
    for (usize i = 0; i < nargs && i < 4; ++i) vcpu.arch.regs.gpr[3 + i] = args[i];
}

} // namespace tessera::arch

namespace tessera::arch {
u64 timebase() {
    static u64 tb = 0;
    return tb += 512; // a timebase that advances: RTAS get-time-of-day reads it
}
} // namespace tessera::arch

namespace tessera::arch {
u32 cpu_index() { // these tests run on the boot CPU
    return 0;
}
} // namespace tessera::arch

namespace tessera::arch {
bool timer_pending(const Vcpu&) {
    return false;
}
} // namespace tessera::arch

namespace tessera::arch {
void sync_icache(void*, usize) {}
} // namespace tessera::arch

namespace tessera::arch {
// The CPU's SPRG0 is not there on the host: the vcpu's record of it is.
void set_live_sprg0(Vcpu& vcpu, u64 value) {
    vcpu.arch.sprg[0] = value;
}
} // namespace tessera::arch

namespace tessera::arch {
// The LPAR management hcalls (common/manage.cpp) create and end LPARs through these; no test
// here manages LPARs.
bool lpar_init(Lpar&) {
    return false;
}
void lpar_teardown(Lpar&) {}
bool linux_load(Lpar&, const LinuxImages&, BootEntry&, char*, usize) {
    return false;
}
} // namespace tessera::arch
