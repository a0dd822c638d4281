// The shadow page-table pool's storage in the image: static, identity-mapped (real = address).
#include "isa/ia32/shadow.hpp"
#include <tessera/hot.hpp>

namespace tessera::arch {
namespace {
alignas(4096) u32 pool[kShadowPoolPages][1024];
}

TESSERA_HOT u32* shadow_pool_page(usize index) {
    return pool[index];
}

TESSERA_HOT u32 shadow_page_real(usize index) {
    return static_cast<u32>(reinterpret_cast<uptr>(pool[index]));
}

} // namespace tessera::arch
