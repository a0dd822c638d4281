// The shadow's range hcalls: H_IA32_INVALIDATE, the invlpg of every page of a range in one
// hcall (Linux flushes a range after munmap, mprotect or a COW break one page at a time, up to 33
// invlpgs, each a trap into the hypervisor), and H_IA32_PROTECT, which takes write permission
// from a range of the loaded space (Linux's flush of a parent after fork). docs/ia32.md,
// "Shadow paging".
#include "isa/ia32/shadow.hpp"

#include <arch/hcalls.hpp>

namespace tessera::arch {
namespace {

bool valid_range(const hcall::Frame& frame) {
    return frame.args[1] >= frame.args[0] && frame.args[1] <= 0x1'0000'0000ull;
}

} // namespace

hcall::Ret h_ia32_invalidate(hcall::Env& env, hcall::Frame& frame) {
    if (!valid_range(frame)) return hcall::H_PARAMETER;
    shadow_invalidate(env.vcpu, static_cast<u32>(frame.args[0]), frame.args[1]);
    return hcall::H_SUCCESS;
}

hcall::Ret h_ia32_protect(hcall::Env& env, hcall::Frame& frame) {
    if (!valid_range(frame)) return hcall::H_PARAMETER;
    shadow_protect(env.vcpu, static_cast<u32>(frame.args[0]), frame.args[1]);
    return hcall::H_SUCCESS;
}

} // namespace tessera::arch
