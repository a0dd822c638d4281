// The ppc64 backend's own hcalls (the HTAB calls) merged into the dispatch table.
#pragma once

#include "hcall/dispatch.hpp"

namespace tessera::arch {

// None yet: the HTAB hcalls (isa/ppc64/mmu_hcalls) arrive with the pseries bring-up.
inline constexpr hcall::EntryList kIsaHcalls{};

} // namespace tessera::arch
