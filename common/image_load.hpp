// Loading an LPAR's images (bundle entries, or what is already in its memory) the way its kind
// boots: shared by the boot flow (common/boot.cpp) and the management hcalls (common/manage.cpp).
#pragma once

#include <tessera/addr.hpp>
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

// The same for a kernel and initrd its creator staged in the LPAR's own memory
// (TLPAR_LOAD_STAGED): the ranges lie inside the LPAR (the caller checked); initrd_size 0: none.
bool load_linux_staged(Lpar& lpar, LogicalAddr kernel, u64 kernel_size, LogicalAddr initrd,
                       u64 initrd_size, const char* cmdline, char* why, usize why_len);

} // namespace tessera
