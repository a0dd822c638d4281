// Why the hypervisor got control back from a guest, counted by reason for one LPAR. The storage
// and the report are ISA-neutral; each ISA numbers its own reasons (0..kExitReasons-1) and names
// them (isa/ia32/exit_reason.hpp). One line per LPAR when it ends makes every claim about
// exits measurable (docs/benchmarks.md).
#pragma once

#include <tessera/types.hpp>

namespace tessera {

inline constexpr usize kExitReasons = 80;

struct ExitCounts {
    u64 exits = 0; // every trap from the guest into the hypervisor
    u64 count[kExitReasons] = {};

    void add(usize reason) {
        if (reason < kExitReasons) ++count[reason];
    }
};

// Logs "lpar NAME: exits N: name count name count ..." for the reasons that have a name and a
// nonzero count, in reason order; nothing for an LPAR that never ran.
void log_exit_counts(const char* lpar, const ExitCounts& c,
                     const char* const (&names)[kExitReasons]);

} // namespace tessera
