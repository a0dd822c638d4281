#include "hcall/xics.hpp"

#include "common/lpar.hpp"
#include "common/xics.hpp"

namespace tessera::hcall {

namespace {

// A server number from the guest: one of the LPAR's vcpus and one of its controller's ICPs.
bool valid_server(const Env& env, u64 server) {
    return server < env.lpar.vcpu_count && env.lpar.xics.valid_server(static_cast<u32>(server));
}

Ret to_ret(xics::Error e) {
    return e == xics::Error::None ? H_SUCCESS : H_PARAMETER;
}

Ret accept(Env& env, Frame& frame) {
    if (!valid_server(env, env.vcpu.index)) return H_PARAMETER;
    u32 xirr = 0;
    Ret r = to_ret(env.lpar.xics.accept(env.vcpu.index, xirr));
    frame.rets[0] = xirr;
    return r;
}

} // namespace

Ret h_xirr(Env& env, Frame& frame) {
    return accept(env, frame);
}

Ret h_xirr_x(Env& env, Frame& frame) {
    Ret r = accept(env, frame);
    frame.rets[1] = 0;
    return r;
}

Ret h_ipoll(Env& env, Frame& frame) {
    u64 server = frame.args[0];
    if (!valid_server(env, server)) return H_PARAMETER;
    u32 xirr = 0;
    u8 mfrr = 0;
    Ret r = to_ret(env.lpar.xics.poll(static_cast<u32>(server), xirr, mfrr));
    frame.rets[0] = xirr;
    frame.rets[1] = mfrr;
    return r;
}

Ret h_eoi(Env& env, Frame& frame) {
    u64 xirr = frame.args[0];
    if (xirr > 0xffff'ffff || !valid_server(env, env.vcpu.index)) return H_PARAMETER;
    return to_ret(env.lpar.xics.eoi(env.vcpu.index, static_cast<u32>(xirr)));
}

Ret h_cppr(Env& env, Frame& frame) {
    u64 cppr = frame.args[0];
    if (cppr > xics::kLeastFavoured || !valid_server(env, env.vcpu.index)) return H_PARAMETER;
    return to_ret(env.lpar.xics.set_cppr(env.vcpu.index, static_cast<u32>(cppr)));
}

Ret h_ipi(Env& env, Frame& frame) {
    u64 server = frame.args[0];
    u64 mfrr = frame.args[1];
    if (mfrr > xics::kLeastFavoured || !valid_server(env, server)) return H_PARAMETER;
    return to_ret(env.lpar.xics.set_mfrr(static_cast<u32>(server), static_cast<u32>(mfrr)));
}

} // namespace tessera::hcall
