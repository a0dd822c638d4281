// The ia32 backend's own hcalls (page-table and segment helpers) merged into the dispatch table.
#pragma once

#include "hcall/dispatch.hpp"

namespace tessera::arch {

// None yet: they arrive with ring compression and shadow paging (the pc bring-up).
inline constexpr hcall::EntryList kIsaHcalls{};

} // namespace tessera::arch
