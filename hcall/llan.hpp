// The logical LAN hcalls (PAPR ILLAN, "hcall-lLAN"; Linux's ibmveth) and H_VIO_SIGNAL, over the
// adapter model (common/llan.hpp) and the virtual switch (common/vswitch.hpp). r4 is always the
// adapter's unit address; one the caller's LPAR does not have: H_PARAMETER.
//   H_REGISTER_LOGICAL_LAN(ua, buffer list, rx queue descriptor, filter list, mac)
//   H_FREE_LOGICAL_LAN(ua)
//   H_ADD_LOGICAL_LAN_BUFFER(ua, descriptor)
//   H_SEND_LOGICAL_LAN(ua, d0..d5, continuation token) -> r4 = continuation token (always 0)
//   H_MULTICAST_CTRL(ua, flags, mac) -> r4 = 0 (no filter table)
//   H_CHANGE_LOGICAL_LAN_MAC(ua, mac)
//   H_VIO_SIGNAL(ua, mode): bit 0 enables the device's interrupt
// H_ILLAN_ATTRIBUTES is not implemented (H_FUNCTION): no checksum offload or large send, which
// ibmveth accepts when the device tree has no ibm,illan-options.
#pragma once

#include "hcall/dispatch.hpp"

namespace tessera::hcall {

Ret h_register_logical_lan(Env& env, Frame& frame);
Ret h_free_logical_lan(Env& env, Frame& frame);
Ret h_add_logical_lan_buffer(Env& env, Frame& frame);
Ret h_send_logical_lan(Env& env, Frame& frame);
Ret h_multicast_ctrl(Env& env, Frame& frame);
Ret h_change_logical_lan_mac(Env& env, Frame& frame);
Ret h_vio_signal(Env& env, Frame& frame);

} // namespace tessera::hcall
