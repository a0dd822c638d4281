// managed (any vcpus): the LPAR that the `manage` test LPAR creates at run time from this
// program's bundle entry (no configuration names it). It prints `managed: up ...`, then echoes
// each console line as `managed: got LINE`; SysRq o (Ctrl-O o, what a graceful TLPAR_STOP
// types) powers it off, as Linux's hvc console does. Silence for kIdleLimitMs ends it.
#include "lpar.hpp"

using namespace lpar;
using namespace tessera::hcall;

namespace {

constexpr u64 kIdleLimitMs = 120000;
constexpr u64 kPowerOff = 0; // H_TESSERA_SHUTDOWN's "how"

} // namespace

void lpar_main(const Boot& b) {
    if (b.vcpu != 0) return;
    print("managed: up, %u vcpu%s, %" PRIu64 " MiB\n", b.vcpu_count, b.vcpu_count == 1 ? "" : "s",
          b.memory_size >> 20);
    char line[64];
    usize len = 0;
    bool sysrq = false;
    Deadline silence = Deadline::ms(kIdleLimitMs);
    while (!silence.expired()) {
        char batch[16];
        const usize n = read_some(batch, sizeof batch);
        if (n == 0) {
            idle(5 * ticks_per_ms());
            continue;
        }
        silence = Deadline::ms(kIdleLimitMs);
        for (usize i = 0; i < n; ++i) {
            const char c = batch[i];
            if (sysrq) {
                sysrq = false;
                if (c == 'o') {
                    print("managed: power off\n");
                    hcall(H_TESSERA_SHUTDOWN, kPowerOff, 0, 0);
                }
                continue;
            }
            if (c == '\x0f') {
                sysrq = true;
            } else if (c == '\r' || c == '\n') {
                line[len] = '\0';
                if (len) print("managed: got %s\n", line);
                len = 0;
            } else if (len + 1 < sizeof line) {
                line[len++] = c;
            }
        }
    }
}
