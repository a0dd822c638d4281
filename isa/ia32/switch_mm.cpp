// H_IA32_SWITCH_MM: a cr3 load that names the guest's address space, so that the vcpu's shadow
// of a space it switches back to is kept (isa/ia32/shadow.hpp, docs/ia32.md "Shadow roots per
// address space"). A guest that lies about the generation only sees its own stale entries:
// every shadow entry maps its own LPAR's memory, as any fill does.
#include "isa/ia32/exit_reason.hpp"
#include "isa/ia32/shadow.hpp"

#include <arch/hcalls.hpp>
#include <tessera/hot.hpp>

namespace tessera::arch {

TESSERA_HOT hcall::Ret h_ia32_switch_mm(hcall::Env& env, hcall::Frame& frame) {
    const u64 cr3 = frame.args[0];
    if (cr3 > 0xffffffffull) return hcall::H_PARAMETER;
    Vcpu& v = env.vcpu;
    v.arch.ctl.cr3 = static_cast<u32>(cr3);
    const bool kept = shadow_switch(v, frame.args[1], frame.args[2], frame.args[3]);
    count(v, kept ? Exit::MmKept : Exit::MmNew);
    return hcall::H_SUCCESS;
}

} // namespace tessera::arch
