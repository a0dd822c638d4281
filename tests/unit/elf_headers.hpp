// ELF headers for test images (the loader tests and the management tests' staged kernels).
#pragma once

#include <tessera/types.hpp>

#include <cstring>
#include <elf.h>

namespace tessera::test {

// A little-endian ppc64 ELF header of `type` with `phnum` program headers right after it.
inline Elf64_Ehdr header64(u16 type, u64 entry, u16 phnum) {
    Elf64_Ehdr h{};
    std::memcpy(h.e_ident, ELFMAG, SELFMAG);
    h.e_ident[EI_CLASS] = ELFCLASS64;
    h.e_ident[EI_DATA] = ELFDATA2LSB;
    h.e_ident[EI_VERSION] = EV_CURRENT;
    h.e_type = type;
    h.e_machine = EM_PPC64;
    h.e_version = EV_CURRENT;
    h.e_ehsize = sizeof(h);
    h.e_entry = entry;
    h.e_phoff = sizeof(h);
    h.e_phentsize = sizeof(Elf64_Phdr);
    h.e_phnum = phnum;
    return h;
}

} // namespace tessera::test
