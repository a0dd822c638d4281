// Reading a Linux LPAR's images whether they come from the boot bundle or were staged in the
// LPAR's own memory (arch::LinuxImages): what both ISA loaders (isa/*/linux.cpp) share.
#pragma once

#include <tessera/addr.hpp>
#include <tessera/arch.hpp>
#include <tessera/types.hpp>

#include "common/elf_loader.hpp"

namespace tessera::linux_images {

// The kernel ELF to load into `memory` (the LPAR's own map).
ElfSource kernel(const LogicalMap& memory, const LinuxImages& images);
// What the kernel's segments must not overwrite besides the kernel itself: a staged initrd
// (size 0 when there is none or it is not staged).
LogicalRange keep(const LinuxImages& images);
// Puts the initrd at `to` (a bundle initrd is copied in; a staged one is moved, the two ranges
// may overlap). False when [to, to + initrd_size) is not inside the LPAR.
bool place_initrd(LogicalMap& memory, const LinuxImages& images, LogicalAddr to);

} // namespace tessera::linux_images
