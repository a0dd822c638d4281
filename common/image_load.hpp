// Loading an LPAR's images (bundle entries, or what is already in its memory) the way its kind
// boots: shared by the boot flow (common/boot.cpp) and the management hcalls (common/manage.cpp).
#pragma once

#include <tessera/types.hpp>

namespace tessera {

class Lpar;

struct Image {
    const u8* data = nullptr; // null: none
    usize size = 0;
};

// A test program: a flat binary run in place at logical 0 (tests/lpar); the initrd, if any, at
// the top of memory. Every vcpu enters at 0 with (index, memory size, vcpu count). A null
// program means it is in the LPAR's memory already (copied in).
bool load_program(Lpar& lpar, Image program, Image initrd, char* why, usize why_len);

// A Linux kernel (an ELF) with its initrd and command line, through the ISA's boot protocol
// (arch::linux_load); only vcpu 0 enters.
bool load_linux(Lpar& lpar, Image kernel, Image initrd, const char* cmdline, char* why,
                usize why_len);

} // namespace tessera
