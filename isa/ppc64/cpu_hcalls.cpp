#include "isa/ppc64/cpu_hcalls.hpp"

#include "common/lpar.hpp"
#include "isa/ppc64/cpu_char.hpp"
#include "isa/ppc64/spr.hpp"

namespace tessera::arch {

using namespace hcall;

Ret h_set_mode(Env& env, Frame& frame) {
    const u64 mflags = frame.args[0], resource = frame.args[1];
    switch (resource) {
    case kSetModeLe:
    case kSetModeAddrTransMode:
        if (frame.args[2] != 0) return H_P3;
        if (frame.args[3] != 0) return H_P4;
        break;
    default:
        return H_P2;
    }
    u64& lpcr = env.lpar.arch.lpcr;
    if (resource == kSetModeLe) {
        if (mflags > 1) return H_UNSUPPORTED_FLAG;
        lpcr = mflags ? (lpcr | lpcr::ILE) : (lpcr & ~lpcr::ILE);
        return H_SUCCESS;
    }
    // Relocation-on interrupts: AIL 0 (off) or 3 (at 0xc000000000004000), for every vcpu of the
    // LPAR, as on PowerVM and KVM-HV; AIL 1 is reserved and AIL 2 (0x18000) is not offered.
    if (mflags == 0) {
        lpcr &= ~lpcr::AIL;
        return H_SUCCESS;
    }
    if (mflags != 3) return H_UNSUPPORTED_FLAG;
    lpcr = (lpcr & ~lpcr::AIL) | lpcr::AIL_3;
    return H_SUCCESS;
}

Ret h_get_cpu_characteristics(Env&, Frame& frame) {
    const CpuCharacteristics& c = current_cpu_characteristics();
    frame.rets[0] = c.character;
    frame.rets[1] = c.behaviour;
    return H_SUCCESS;
}

Ret h_set_sprg0(Env& env, Frame& frame) {
    set_live_sprg0(env.vcpu, frame.args[0]);
    return H_SUCCESS;
}

} // namespace tessera::arch
