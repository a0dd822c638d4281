// crasher (any vcpus): the LPAR that `restarter` creates, starts and destroys over and over
// during scripts/soak (no configuration names it; it is a bundle entry). vcpu 0 prints one line
// and executes garbage at once: the hypervisor must stop the LPAR (crashed). Other vcpus idle.
#include "lpar.hpp"

using namespace lpar;

void lpar_main(const Boot& b) {
    if (b.vcpu != 0) {
        for (;;) idle(1000 * ticks_per_ms());
    }
    print("crasher: up, %u vcpu%s\n", b.vcpu_count, b.vcpu_count == 1 ? "" : "s");
    isa::execute_garbage();
}
