// H_COPY_RDMA (PAPR "Logical Remote DMA"): a virtual SCSI server copies between its own windows
// and the remote window of one of its server devices, which is the client's window while the
// pair is connected (common/crq.hpp). Only TCEs decide what moves: both sides are checked page
// by page (tce::copy) before a byte is written, so nothing outside either LPAR is reachable.
#pragma once

#include <tessera/hcall.hpp>
#include <tessera/types.hpp>

namespace tessera::tce {
class Window;
}
namespace tessera::vio {
class Bus;
}

namespace tessera::rdma {

// The window a LIOBN names for the caller's RDMA: one of its own (on its bus), or a server
// device's remote LIOBN while connected. Null otherwise (another LPAR's LIOBN included).
const tce::Window* window(const vio::Bus& bus, u64 liobn);

// Copies len bytes. An unknown LIOBN or a range outside a window (or through a TCE whose page the
// owner no longer has): H_SOURCE_PARM / H_DEST_PARM; a page without read (source) or write
// (destination) access: H_PERMISSION. Nothing is written unless both sides pass.
hcall::Ret copy(const vio::Bus& bus, u64 len, u64 src_liobn, u64 src_ioba, u64 dst_liobn,
                u64 dst_ioba);

} // namespace tessera::rdma
