#include "hcall/llan.hpp"

#include "common/crq.hpp"
#include "common/llan.hpp"
#include "common/lpar.hpp"

namespace tessera::hcall {
namespace {

llan::Adapter* adapter(Env& env, const Frame& frame) {
    return env.lpar.vio.lan(frame.args[0]);
}

} // namespace

Ret h_register_logical_lan(Env& env, Frame& frame) {
    llan::Adapter* a = adapter(env, frame);
    if (!a) return H_PARAMETER;
    return a->register_lan(frame.args[1], frame.args[2], frame.args[3], frame.args[4]);
}

Ret h_free_logical_lan(Env& env, Frame& frame) {
    llan::Adapter* a = adapter(env, frame);
    return a ? a->free_lan() : H_PARAMETER;
}

Ret h_add_logical_lan_buffer(Env& env, Frame& frame) {
    llan::Adapter* a = adapter(env, frame);
    return a ? a->add_buffer(frame.args[1]) : H_PARAMETER;
}

Ret h_send_logical_lan(Env& env, Frame& frame) {
    frame.rets[0] = 0; // continuation token: frames go out synchronously
    llan::Adapter* a = adapter(env, frame);
    // r12 (args[8]) is the MSS, meaningful only with large send (not offered): ignored.
    return a ? a->send(&frame.args[1], frame.args[1 + llan::kMaxSendDescs]) : H_PARAMETER;
}

Ret h_multicast_ctrl(Env& env, Frame& frame) {
    frame.rets[0] = 0;
    llan::Adapter* a = adapter(env, frame);
    return a ? a->multicast_ctrl(frame.args[1], frame.args[2], frame.rets[0]) : H_PARAMETER;
}

Ret h_change_logical_lan_mac(Env& env, Frame& frame) {
    llan::Adapter* a = adapter(env, frame);
    return a ? a->change_mac(frame.args[1]) : H_PARAMETER;
}

// Any virtual device with an interrupt: a LAN adapter or a CRQ device.
Ret h_vio_signal(Env& env, Frame& frame) {
    if (llan::Adapter* a = adapter(env, frame)) return a->signal(frame.args[1]);
    if (crq::Device* d = env.lpar.vio.crq(frame.args[0])) return d->signal(frame.args[1]);
    return H_PARAMETER;
}

} // namespace tessera::hcall
