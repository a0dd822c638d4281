// Host unit tests' ISA memory parameters (common/chunks.hpp): 4 KiB zeroing granules, as ia32,
// so the tests exercise chunks that are partly zeroed.
#pragma once

#include <tessera/types.hpp>

namespace tessera::arch {

inline constexpr u32 kZeroGranuleShift = 12;

} // namespace tessera::arch
