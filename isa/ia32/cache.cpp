// x86 keeps instruction fetches coherent with stores (self-modifying code is detected by the CPU):
// nothing to do after the hypervisor writes guest code.
#include <tessera/arch.hpp>

namespace tessera::arch {

void sync_icache(void*, usize) {}

} // namespace tessera::arch
