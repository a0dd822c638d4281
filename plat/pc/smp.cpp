// The pc platform starts no application processors yet: one physical CPU, nothing to kick.
// TODO(bring-up): INIT-SIPI-SIPI and LAPIC IPIs (issue 15).
#include <tessera/arch.hpp>

namespace tessera::plat {

u32 cpu_count() {
    return 1;
}
void kick_cpu(u32) {}
void idle_cpu() {}
void ack_kick() {}

} // namespace tessera::plat
