#include "common/lifecycle.hpp"

#include "common/chunks.hpp"
#include "common/console.hpp"
#include "common/lpar.hpp"

#include <tessera/arch.hpp>

namespace tessera {

void release_lpar(Lpar& lpar, ChunkPool& pool) {
    if (lpar.released) return;
    lpar.released = true;
    arch::lpar_teardown(lpar);
    lpar.memory.release(pool);
    console::mux().detach(lpar.vty);
}

} // namespace tessera
