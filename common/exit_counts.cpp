#include "common/exit_counts.hpp"

#include "common/log.hpp"
#include "common/rt/format.hpp"

namespace tessera {

void log_exit_counts(const char* lpar, const ExitCounts& c,
                     const char* const (&names)[kExitReasons]) {
    if (c.exits == 0) return; // never ran
    char line[1024];
    usize n = rt::format(line, sizeof(line), "lpar %s: exits %llu:", lpar,
                         static_cast<unsigned long long>(c.exits));
    for (usize i = 0; i < kExitReasons; ++i) {
        if (!names[i] || c.count[i] == 0 || n >= sizeof(line)) continue;
        n += rt::format(line + n, sizeof(line) - n, " %s %llu", names[i],
                        static_cast<unsigned long long>(c.count[i]));
    }
    log("%s\n", line);
}

} // namespace tessera
