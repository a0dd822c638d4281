// The run-time footprint on ppc64: the HTABs (the only thing the ppc64 backend hands out per
// LPAR, from chunks it takes from the pool; chunk metadata and the LPAR table are static).
#include "isa/ppc64/footprint.hpp"

#include "common/rt/format.hpp"

#include <tessera/arch.hpp>

namespace tessera::arch {

void runtime_footprint(Footprint& out) {
    const ChunkArena::Use& use = htab_arena_use();
    out.runtime = use.bytes_most;
    out.runtime_known = true;
    out.runtime_held = use.bytes;
    rt::format(out.runtime_note, sizeof(out.runtime_note),
               "%u HTAB%s, carved from chunks of the pool: at most %u held at once, %u now",
               use.tables, use.tables == 1 ? "" : "s", use.chunks_most, use.chunks);
}

} // namespace tessera::arch
