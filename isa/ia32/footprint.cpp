// The run-time footprint on ia32: the translation structures handed out for the LPARs at their
// peak: paging-off page directories (one per LPAR) and shadow page tables (isa/ia32/shadow.cpp).
// Both come from static pools in the image's .bss (16 directories, kShadowPoolPages tables), so
// they are part of the image figure too.
#include "common/rt/format.hpp"
#include "isa/ia32/cpu.hpp"
#include "isa/ia32/shadow.hpp"

#include <tessera/arch.hpp>

namespace tessera::arch {

void runtime_footprint(Footprint& out) {
    const usize dirs = page_dirs_peak(), tables = shadow_pages_peak();
    out.runtime = u64{dirs + tables} * 4096;
    out.runtime_known = true;
    out.runtime_held = u64{page_dirs_held() + shadow_pages_in_use()} * 4096;
    rt::format(out.runtime_note, sizeof(out.runtime_note),
               "%zu LPAR page directories + %zu shadow page tables at peak, of the %zu-page "
               "pool in the .bss",
               dirs, tables, shadow_pool_pages());
}

} // namespace tessera::arch
