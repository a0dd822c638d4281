// arch::footprint on ia32: the image from plat/pc/image.lds's symbols; at run time, the
// translation structures handed out for the LPARs at their peak: paging-off page directories
// (one per LPAR) and shadow page tables (isa/ia32/shadow.cpp). Both come from static pools in
// the image's .bss (16 directories, kShadowPoolPages tables), so they are part of the image
// figure too.
#include "common/rt/format.hpp"
#include "isa/ia32/cpu.hpp"
#include "isa/ia32/shadow.hpp"

#include <tessera/arch.hpp>

extern "C" char _image_start[], _image_end[], __bss_start[], __bss_end[];

namespace tessera::arch {

void footprint(Footprint& out) {
    out = Footprint{};
    out.image = static_cast<u64>(_image_end - _image_start);
    out.image_bss = static_cast<u64>(__bss_end - __bss_start);
    const usize dirs = page_dirs_peak(), tables = shadow_pages_peak();
    out.runtime = u64{dirs + tables} * 4096;
    out.runtime_known = true;
    rt::format(out.runtime_note, sizeof(out.runtime_note),
               "%zu LPAR page directories + %zu shadow page tables at peak, of the %zu-page "
               "pool in the .bss",
               dirs, tables, shadow_pool_pages());
}

} // namespace tessera::arch
