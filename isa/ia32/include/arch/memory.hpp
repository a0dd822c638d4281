// How the ia32 backend wants LPAR memory handled by the core (common/chunks.hpp).
#pragma once

#include <tessera/types.hpp>

namespace tessera::arch {

// Chunks are zeroed a 4 KiB page at a time, at the page's first use: every guest mapping is a
// shadow entry the hypervisor fills page by page, so a page the LPAR never touches is never
// zeroed (nor backed by the host under QEMU), as on a machine without a hypervisor.
inline constexpr u32 kZeroGranuleShift = 12;

} // namespace tessera::arch
