#include "hcall/page.hpp"

#include <tessera/arch.hpp>

#include "common/lpar.hpp"
#include "common/rt/string.hpp"

namespace tessera::hcall {
namespace {

// The host pointer of an aligned logical page of the LPAR (an aligned page never straddles a
// chunk: one contiguous piece of real memory), or null.
void* page(const LogicalMap& memory, u64 addr) {
    const LogicalAddr la(addr);
    if (!memory.translate_aligned(la, page_init::kPageSize)) return nullptr;
    return memory.host_ptr(la, page_init::kPageSize);
}

} // namespace

Ret h_page_init(Env& env, Frame& frame) {
    using namespace page_init;
    const u64 flags = frame.args[0], dest = frame.args[1], src = frame.args[2];
    constexpr u64 kKnown = kIcacheInvalidate | kIcacheSynchronize | kZeroPage | kCopyPage;
    if (flags & ~kKnown) return H_PARAMETER;
    LogicalMap& memory = env.lpar.memory;
    void* to = page(memory, dest);
    if (to == nullptr) return H_PARAMETER;
    if (flags & kCopyPage) {
        const void* from = page(memory, src);
        if (from == nullptr) return H_PARAMETER;
        if (from != to) rt::mem_copy(to, from, kPageSize);
    } else if (flags & kZeroPage) {
        rt::mem_set(to, 0, kPageSize);
    }
    if (flags & (kIcacheInvalidate | kIcacheSynchronize)) arch::sync_icache(to, kPageSize);
    return H_SUCCESS;
}

} // namespace tessera::hcall
