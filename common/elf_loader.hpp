// Loading an ELF image (ELF64 or ELF32, little-endian) into an LPAR's logical memory: how both
// ISAs load a Linux vmlinux, and how pseries loads any other client program.
//
// An executable (ET_EXEC) goes at its segments' physical addresses (p_paddr). A
// position-independent one (ET_DYN: a PIE or a relocatable kernel) has no fixed address: it goes
// at `dyn_base`, the caller's choice, moved as one block (every p_vaddr and e_entry plus the same
// bias, so the distances between segments are kept), and relocates itself when it runs.
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
    bool position_independent = false; // ET_DYN, loaded at dyn_base
    u64 bias = 0; // ET_DYN: what was added to every link address (modulo 2^64); 0 for ET_EXEC
};

// Validates the image completely before writing anything: identification, header sizes,
// program headers inside the file, segments inside the file and inside the LPAR's memory,
// the entry inside a loaded segment; for ET_DYN also no interpreter, power-of-two segment
// alignments that `dyn_base` keeps, and no segment that wraps around. Copies each PT_LOAD and
// zeroes its bss. On failure returns false with a message in `why` (e.g. "segment 2 does not
// fit in the LPAR's 256 MiB").
bool load_elf(LogicalMap& memory, const u8* image, usize size, u16 expected_machine, ElfLoaded& out,
              char* why, usize why_len, LogicalAddr dyn_base = LogicalAddr(0));

} // namespace tessera
