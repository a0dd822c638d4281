#include "hcall/crq.hpp"

#include "common/crq.hpp"
#include "common/lpar.hpp"
#include "common/rdma.hpp"

namespace tessera::hcall {
namespace {

crq::Device* device(Env& env, const Frame& frame) {
    return env.lpar.vio.crq(frame.args[0]);
}

} // namespace

Ret h_reg_crq(Env& env, Frame& frame) {
    crq::Device* d = device(env, frame);
    return d ? d->reg(frame.args[1], frame.args[2]) : H_PARAMETER;
}

Ret h_free_crq(Env& env, Frame& frame) {
    crq::Device* d = device(env, frame);
    return d ? d->free() : H_PARAMETER;
}

Ret h_send_crq(Env& env, Frame& frame) {
    crq::Device* d = device(env, frame);
    return d ? d->send(frame.args[1], frame.args[2]) : H_PARAMETER;
}

Ret h_enable_crq(Env& env, Frame& frame) {
    crq::Device* d = device(env, frame);
    return d ? d->enable() : H_PARAMETER;
}

Ret h_copy_rdma(Env& env, Frame& frame) {
    return rdma::copy(env.lpar.vio, frame.args[0], frame.args[1], frame.args[2], frame.args[3],
                      frame.args[4]);
}

} // namespace tessera::hcall
