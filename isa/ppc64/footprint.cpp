// The run-time footprint on ppc64: the HTAB arena (the only thing the ppc64 backend hands out
// per LPAR; chunk metadata and the LPAR table are static, in .bss).
#include "isa/ppc64/footprint.hpp"

#include "common/rt/format.hpp"

#include <tessera/arch.hpp>

namespace tessera::arch {

void runtime_footprint(Footprint& out) {
    const HtabArenaUse use = htab_arena_use();
    out.runtime = use.htab_bytes;
    out.runtime_known = true;
    out.runtime_held = use.held_bytes;
    rt::format(out.runtime_note, sizeof(out.runtime_note),
               "%u HTAB%s, carved from htab_arena: %llu KiB of the .bss", use.htabs,
               use.htabs == 1 ? "" : "s", static_cast<unsigned long long>(use.arena_bytes / KiB));
}

} // namespace tessera::arch
