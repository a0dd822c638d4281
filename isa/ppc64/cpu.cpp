// ppc64 CPU hooks of the arch contract.
#include <tessera/arch.hpp>

namespace tessera::arch {

u64 timebase() {
    u64 tb;
    asm volatile("mftb %0" : "=r"(tb));
    return tb;
}

void early_init() {
    // TODO(bring-up): hypervisor vectors and OPAL_REINIT_CPUS(HILE_LE) arrive with the pseries
    // bring-up (issue 3); until then any exception is taken big-endian and hangs in skiboot.
}

} // namespace tessera::arch
