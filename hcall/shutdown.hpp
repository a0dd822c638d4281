// H_TESSERA_SHUTDOWN: how a guest without RTAS (pc) powers off, restarts or reports its panic.
#pragma once

#include "hcall/dispatch.hpp"

namespace tessera::hcall {

inline constexpr u64 kShutdownPowerOff = 0, kShutdownRestart = 1, kShutdownPanic = 2;
inline constexpr usize kShutdownMessageMax = 64; // bytes of the panic message kept

// H_TESSERA_SHUTDOWN(how, message, length): power off (0) and restart (1) stop the LPAR in
// order ("power-off", "restart": Tessera does not restart guests); panic (2) crashes it with
// "panic: " and up to kShutdownMessageMax bytes read from the logical address `message` (0:
// none). H_PARAMETER for any other `how` or a message outside the LPAR.
Ret h_tessera_shutdown(Env& env, Frame& frame);

} // namespace tessera::hcall
