// managed (any vcpus): the LPAR that the `manage` test LPAR creates at run time from this
// program's bundle entry (no configuration names it). It prints `managed: up ...`, checks that
// every byte of its memory past its image is zero (`managed: memory past the image: all zero`)
// and then marks all of it, so that an LPAR given these chunks next would see the mark if the
// hypervisor handed them out without zeroing them (the manage test creates one after another
// on the same chunks). Then it echoes
// each console line as `managed: got LINE`; SysRq o (Ctrl-O o, what a graceful TLPAR_STOP
// types) powers it off, as Linux's hvc console does. Silence for kIdleLimitMs ends it.
#include "lpar.hpp"

extern "C" char _end[]; // the linker script's end of the image, .bss and stacks

using namespace lpar;
using namespace tessera::hcall;

namespace {

constexpr u64 kIdleLimitMs = 120000;
constexpr u64 kPowerOff = 0; // H_TESSERA_SHUTDOWN's "how"
constexpr u64 kMark = 0x5a5a'5a5a'5a5a'5a5aull;

// Memory past the image (its .bss and stacks end at _end; the test LPAR runs at logical =
// its address, real mode on ppc64, paging off on ia32).
void check_and_mark_memory(const Boot& b) {
    const u64 from = (reinterpret_cast<u64>(_end) + 7) & ~u64{7};
    auto* words = reinterpret_cast<volatile u64*>(from);
    const u64 n = (b.memory_size - from) / 8;
    u64 bad = n;
    for (u64 i = 0; i < n && bad == n; ++i)
        if (words[i] != 0) bad = i;
    if (bad == n)
        print("managed: memory past the image: all zero (%" PRIu64 " KiB)\n", (n * 8) >> 10);
    else
        print("managed: memory past the image: %#" PRIx64 " at logical %#" PRIx64 "\n",
              static_cast<u64>(words[bad]), from + bad * 8);
    for (u64 i = 0; i < n; ++i) words[i] = kMark;
}

} // namespace

void lpar_main(const Boot& b) {
    if (b.vcpu != 0) return;
    print("managed: up, %u vcpu%s, %" PRIu64 " MiB\n", b.vcpu_count, b.vcpu_count == 1 ? "" : "s",
          b.memory_size >> 20);
    check_and_mark_memory(b);
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
