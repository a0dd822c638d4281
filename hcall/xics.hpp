// XICS hcalls: the guest's interrupt presentation controller (common/xics.hpp), PAPR style.
// The caller's server is its logical CPU index (env.vcpu.index).
//
// H_XIRR()            -> rets[0] = XIRR; accepts the presented interrupt (CPPR := its priority).
//                        Linux passes its CPPR in args[0]; it is ignored, as in QEMU.
// H_XIRR_X()          -> as H_XIRR, and rets[1] = 0: Tessera reports no timebase here.
// H_IPOLL(server)     -> rets[0] = that server's XIRR, rets[1] = its MFRR; no side effect.
// H_EOI(xirr)         CPPR := xirr >> 24, ends the service of source xirr & 0xffffff.
// H_CPPR(cppr)        sets the caller's CPPR; may reject the presented interrupt.
// H_IPI(server, mfrr) sets that server's MFRR; an IPI is presented while MFRR < CPPR.
// H_PARAMETER (nothing changes): a server that is not a vcpu of the LPAR, cppr or mfrr > 0xff,
// an xirr above 32 bits or whose source is neither the IPI (2) nor a source in service.
//
// Presentations to other vcpus (H_IPI, or an EOI/CPPR change freeing an interrupt) are recorded
// in the controller: the run loop wakes the vcpus in lpar.xics.take_presented() after dispatch.
#pragma once

#include "hcall/dispatch.hpp"

namespace tessera::hcall {

Ret h_xirr(Env& env, Frame& frame);
Ret h_xirr_x(Env& env, Frame& frame);
Ret h_ipoll(Env& env, Frame& frame);
Ret h_eoi(Env& env, Frame& frame);
Ret h_cppr(Env& env, Frame& frame);
Ret h_ipi(Env& env, Frame& frame);

} // namespace tessera::hcall
