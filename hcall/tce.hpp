// The TCE hcalls (PAPR "Translation Control Entry Access", hcall-tce and hcall-multi-tce): the
// guest fills the DMA windows of its own virtual I/O devices (common/tce.hpp).
//   H_PUT_TCE(liobn, ioba, tce)
//   H_GET_TCE(liobn, ioba) -> r4 = tce
//   H_STUFF_TCE(liobn, ioba, tce, count)
//   H_PUT_TCE_INDIRECT(liobn, ioba, list, count): list = logical address of a 4 KiB-aligned page
//       of up to 512 big-endian TCEs.
// A LIOBN the caller's LPAR does not have (another LPAR's included), an IOBA outside the window,
// or a TCE naming a page outside the caller's memory: H_PARAMETER, nothing changes.
#pragma once

#include "hcall/dispatch.hpp"

namespace tessera::hcall {

Ret h_put_tce(Env& env, Frame& frame);
Ret h_get_tce(Env& env, Frame& frame);
Ret h_stuff_tce(Env& env, Frame& frame);
Ret h_put_tce_indirect(Env& env, Frame& frame);

} // namespace tessera::hcall
