// Host unit tests' stand-in for an ISA's own hcall list (see hcall/dispatch.hpp): one fake
// H_ENTER whose effect a test can see, proving ISA entries reach the dispatch table.
#pragma once

#include "hcall/dispatch.hpp"

namespace tessera::arch {

namespace fake {
inline u64 h_enter_calls = 0;
// Counts the call and returns args[0] + 1 in rets[0].
inline hcall::Ret h_enter(hcall::Env&, hcall::Frame& frame) {
    ++h_enter_calls;
    frame.rets[0] = frame.args[0] + 1;
    return hcall::H_SUCCESS;
}
} // namespace fake

inline constexpr hcall::Entry kIsaHcalls[] = {
    {hcall::H_ENTER, &fake::h_enter},
};

} // namespace tessera::arch
