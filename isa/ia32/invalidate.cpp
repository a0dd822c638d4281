// H_IA32_INVALIDATE: the invlpg of every page of a range in one hcall. Linux flushes a range
// after munmap, mprotect or a COW break one page at a time (up to 33 invlpgs, each a trap into
// the hypervisor); its PV kernel makes this call instead (docs/ia32.md, "Shadow paging").
#include "isa/ia32/exit_reason.hpp"
#include "isa/ia32/shadow.hpp"

#include <arch/hcalls.hpp>

namespace tessera::arch {

hcall::Ret h_ia32_invalidate(hcall::Env& env, hcall::Frame& frame) {
    const u64 start = frame.args[0], end = frame.args[1];
    if (end < start || end > 0x1'0000'0000ull) return hcall::H_PARAMETER;
    shadow_invalidate(env.vcpu, static_cast<u32>(start), end);
    return hcall::H_SUCCESS;
}

} // namespace tessera::arch
