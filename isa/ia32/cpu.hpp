// ia32 internals shared by the backend's files (not part of the arch contract).
#pragma once

#include <arch/state.hpp>
#include <tessera/types.hpp>

namespace tessera::arch {

// Address of a switcher object (isa/ia32/switcher.S) in the switcher mapping.
u32 switcher_va(const void* p);
// The page-directory entry that maps the switcher (the last 4 MiB), for every address space.
u32 switcher_pde();
u32 hypervisor_cr3();
const char* exception_name(u32 vector);
bool has_error_code(u32 vector);

} // namespace tessera::arch
