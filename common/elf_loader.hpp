// Loading an ELF executable (ELF64 or ELF32, little-endian) into an LPAR's logical memory at
// its segments' physical addresses (p_paddr): how both ISAs load a Linux vmlinux.
#pragma once

#include <tessera/addr.hpp>
#include <tessera/types.hpp>

namespace tessera {

class LogicalMap;

struct ElfLoaded {
    LogicalAddr entry; // e_entry as a physical (logical) address (translated if it was virtual)
    LogicalAddr low;   // lowest loaded logical address
    LogicalAddr high;  // one past the highest loaded byte (bss included)
    u16 machine = 0;   // e_machine (EM_PPC64, EM_386, ...)
    bool is64 = false;
};

// Validates the image completely before writing anything: identification, header sizes,
// program headers inside the file, segments inside the file and inside the LPAR's memory,
// the entry inside a loaded segment. Copies each PT_LOAD and zeroes its bss. On failure
// returns false with a message in `why` (e.g. "segment 2 ends past the LPAR's 256 MiB").
bool load_elf(LogicalMap& memory, const u8* image, usize size, u16 expected_machine, ElfLoaded& out,
              char* why, usize why_len);

} // namespace tessera
