// ppc64's side of the footprint line (arch::runtime_footprint, isa/ppc64/footprint.cpp): what the
// LPARs' HTABs took from the chunk arena (isa/ppc64/lpar.cpp: chunks from the machine's pool).
#pragma once

#include "common/chunk_arena.hpp"

namespace tessera::arch {

const ChunkArena::Use& htab_arena_use();

} // namespace tessera::arch
