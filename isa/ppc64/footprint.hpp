// ppc64's side of the footprint line (arch::runtime_footprint, isa/ppc64/footprint.cpp): what the
// LPARs' HTABs took from the HTAB arena (isa/ppc64/lpar.cpp), which lives in the image's .bss.
#pragma once

#include <tessera/types.hpp>

namespace tessera::arch {

struct HtabArenaUse {
    u64 arena_bytes = 0; // the arena's size (all of it in .bss)
    u64 htab_bytes = 0;  // the most that HTABs held at once (the peak)
    u32 htabs = 0;       // how many were handed out since boot
    u64 held_bytes = 0;  // what HTABs hold now
};
HtabArenaUse htab_arena_use();

} // namespace tessera::arch
