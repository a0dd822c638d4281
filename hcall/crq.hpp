// The CRQ hcalls (PAPR "hcall-crq", Linux's ibmvscsi and ibmvscsis) over common/crq.hpp, and
// H_COPY_RDMA ("hcall-rdma") over common/rdma.hpp. r4 is the device's unit address; one the
// caller's LPAR does not have: H_PARAMETER.
//   H_REG_CRQ(ua, ioba, len)     -> H_SUCCESS (partner registered) or H_CLOSED (not yet)
//   H_FREE_CRQ(ua)               the partner gets a transport event 0xFF02
//   H_SEND_CRQ(ua, msg_hi, msg_lo)
//   H_ENABLE_CRQ(ua)
//   H_COPY_RDMA(len, src liobn, src ioba, dst liobn, dst ioba)
// H_VIOCTL is not implemented (H_FUNCTION): ibmvscsis tolerates it.
#pragma once

#include "hcall/dispatch.hpp"

namespace tessera::hcall {

Ret h_reg_crq(Env& env, Frame& frame);
Ret h_free_crq(Env& env, Frame& frame);
Ret h_send_crq(Env& env, Frame& frame);
Ret h_enable_crq(Env& env, Frame& frame);
Ret h_copy_rdma(Env& env, Frame& frame);

} // namespace tessera::hcall
