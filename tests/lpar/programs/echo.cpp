// echo (1 vcpu): console input as a guest's driver sees it, for tests/integration/console.sh.
// Prints `# echo ready`, then for every line typed (ended by '\r' or '\n': Enter in a terminal
// or a pipe; NULs and other control bytes are data) one line `echo: N bytes: XX XX ...` with
// the bytes in hex as they arrived, the line's end included.
// Each H_GET_TERM_CHAR batch first goes through what Linux's hvc_vio does to it (it drops a NUL
// that directly follows a '\r' in the same batch): the hypervisor must never hand out such a
// batch, or a NUL typed after a CR would be lost in Linux. A line "quit" ends the program; so
// does silence for kIdleLimitMs.
#include "lpar.hpp"

using namespace lpar;

namespace {

constexpr u64 kIdleLimitMs = 120000;
constexpr usize kLineMax = 64;

// hvc_vio's rule on one batch: a NUL right after a '\r' (both in the batch) is dropped.
// Returns the new length; counts the dropped bytes in `lost`.
usize hvc_vio_filter(char* batch, usize n, u64& lost) {
    usize out = 0;
    for (usize i = 0; i < n; ++i) {
        if (i > 0 && batch[i] == '\0' && batch[i - 1] == '\r') {
            ++lost;
            continue;
        }
        batch[out++] = batch[i];
    }
    return out;
}

bool is_quit(const char* line, usize len) {
    return len == 5 && line[0] == 'q' && line[1] == 'u' && line[2] == 'i' && line[3] == 't';
}

void echo_line(const char* line, usize len) {
    char text[16 + 3 * kLineMax];
    usize pos = format(text, sizeof(text), "echo: %zu bytes:", len);
    for (usize i = 0; i < len && pos < sizeof(text); ++i)
        pos += format(text + pos, sizeof(text) - pos, " %02x", static_cast<u8>(line[i]));
    print("%s\n", text);
}

} // namespace

void lpar_main(const Boot& b) {
    if (b.vcpu != 0) return;
    note("echo ready: type lines, \"quit\" ends");
    char line[kLineMax];
    usize len = 0;
    u64 lines = 0, lost = 0, bytes = 0;
    bool quit = false;
    Deadline silence = Deadline::ms(kIdleLimitMs);
    while (!quit && !silence.expired()) {
        char batch[16];
        usize n = read_some(batch, sizeof(batch));
        if (n == 0) {
            idle(10 * ticks_per_ms());
            continue;
        }
        silence = Deadline::ms(kIdleLimitMs);
        bytes += n;
        n = hvc_vio_filter(batch, n, lost);
        for (usize i = 0; i < n && !quit; ++i) {
            if (len < kLineMax) line[len++] = batch[i];
            if (batch[i] != '\n' && batch[i] != '\r') continue;
            echo_line(line, len);
            ++lines;
            quit = is_quit(line, len);
            len = 0;
        }
    }
    check(lines > 0, Detail("%llu bytes", static_cast<unsigned long long>(bytes)),
          "console input arrived as lines");
    check_eq(lost, 0, "no input batch had a NUL right after a CR (hvc_vio would drop it)");
    check(quit, "\"quit\" arrived before %llu s of silence",
          static_cast<unsigned long long>(kIdleLimitMs / 1000));
}
