// The ia32 backend runs on one physical CPU so far: the boot CPU is CPU 0.
// TODO(bring-up): the LAPIC, APs started by INIT-SIPI-SIPI, per-CPU GDT/TSS/IDT (issue 15).
#include <tessera/arch.hpp>

namespace tessera::arch {

u32 cpu_index() {
    return 0;
}

} // namespace tessera::arch
