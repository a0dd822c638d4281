// arch::footprint on ppc64: the image from plat/powernv/image.lds's symbols, the run-time part
// from the HTAB arena (the only thing the ppc64 backend hands out per LPAR; chunk metadata and
// the LPAR table are static, in .bss).
#include "isa/ppc64/footprint.hpp"

#include "common/rt/format.hpp"

#include <tessera/arch.hpp>

extern "C" char _image_start[], _image_end[], __bss_start[], __bss_end[];

namespace tessera::arch {

void footprint(Footprint& out) {
    out = Footprint{};
    out.image = static_cast<u64>(_image_end - _image_start);
    out.image_bss = static_cast<u64>(__bss_end - __bss_start);
    const HtabArenaUse use = htab_arena_use();
    out.runtime = use.htab_bytes;
    out.runtime_known = true;
    rt::format(out.runtime_note, sizeof(out.runtime_note),
               "%u HTAB%s, carved from htab_arena: %llu KiB of the .bss", use.htabs,
               use.htabs == 1 ? "" : "s", static_cast<unsigned long long>(use.arena_bytes / KiB));
}

} // namespace tessera::arch
