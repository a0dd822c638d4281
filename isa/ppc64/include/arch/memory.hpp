// How the ppc64 backend wants LPAR memory handled by the core (common/chunks.hpp).
#pragma once

#include <tessera/types.hpp>

namespace tessera::arch {

// Chunks are zeroed whole: the VRMA maps all of an LPAR's memory with one 16 MiB page per chunk
// when the LPAR is created (isa/ppc64/lpar.cpp), so every chunk is zeroed then anyway.
inline constexpr u32 kZeroGranuleShift = 24;

} // namespace tessera::arch
