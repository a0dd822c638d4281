// The shadow's range hcalls: H_IA32_INVALIDATE, the invlpg of every page of a range in one
// hcall (Linux flushes a range after munmap, mprotect or a COW break one page at a time, up to 33
// invlpgs, each a trap into the hypervisor), H_IA32_PROTECT, which takes write permission
// from a range of the loaded space (Linux's flush of a parent after fork), and H_IA32_FORK_MM,
// which also gives the child a space made from the parent's (what its first run would fault
// in one exit at a time), and H_IA32_REFILL, a copy-on-write break's invlpg and the fill of the
// new page in one hcall, and H_IA32_MOVE, mremap's flush of a moved range with the entries at
// the new addresses filled. docs/ia32.md, "Shadow paging".
#include "isa/ia32/exit_reason.hpp"
#include "isa/ia32/fast_reflect.hpp"
#include "isa/ia32/guest_mmu.hpp"
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

hcall::Ret h_ia32_fork_mm(hcall::Env& env, hcall::Frame& frame) {
    Vcpu& v = env.vcpu;
    const u64 end = frame.args[0], child_cr3 = frame.args[1], ctx = frame.args[2];
    if (end > 0x1'0000'0000ull || child_cr3 > 0xffff'ffffull || ctx == 0 ||
        ctx == shadow_space(v).ctx)
        return hcall::H_PARAMETER;
    if (!(v.arch.ctl.cr0 & kCr0Pg)) return hcall::H_FUNCTION;
    const u32 made =
        shadow_fork(v, end, static_cast<u32>(child_cr3), ctx, frame.args[3], frame.args[4]);
    count_many(v, Exit::ForkCopied, made);
    fast_reflect_fork(v, static_cast<u32>(child_cr3), ctx);
    return hcall::H_SUCCESS;
}

hcall::Ret h_ia32_refill(hcall::Env& env, hcall::Frame& frame) {
    Vcpu& v = env.vcpu;
    if (frame.args[0] > 0xffff'ffffull) return hcall::H_PARAMETER;
    if (!(v.arch.ctl.cr0 & kCr0Pg)) return hcall::H_FUNCTION;
    shadow_refill(v, static_cast<u32>(frame.args[0]), frame.args[1]);
    return hcall::H_SUCCESS;
}

hcall::Ret h_ia32_move(hcall::Env& env, hcall::Frame& frame) {
    Vcpu& v = env.vcpu;
    const u64 start = frame.args[0], end = frame.args[1], new_start = frame.args[2];
    if (!valid_range(frame) || ((start | end | new_start) & 0xfff) != 0 || end - start > kMoveMax ||
        new_start + (end - start) > 0x1'0000'0000ull)
        return hcall::H_PARAMETER;
    if (!(v.arch.ctl.cr0 & kCr0Pg)) return hcall::H_FUNCTION;
    const u32 made =
        shadow_move(v, static_cast<u32>(start), end, static_cast<u32>(new_start), frame.args[3]);
    count_many(v, Exit::Moved, made);
    return hcall::H_SUCCESS;
}

} // namespace tessera::arch
