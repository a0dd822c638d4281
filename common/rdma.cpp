#include "common/rdma.hpp"

#include "common/crq.hpp"
#include "common/tce.hpp"
#include "common/vio.hpp"

namespace tessera::rdma {

using namespace hcall;

const tce::Window* window(const vio::Bus& bus, u64 liobn) {
    if (const tce::Window* w = bus.window(liobn)) return w;
    if (liobn >> 32 != 0 || liobn == 0) return nullptr;
    for (usize i = 0; i < vio::kMaxVscsiPerLpar; ++i) {
        const crq::Device* d = bus.crq_at(i);
        if (d != nullptr && d->role() == crq::Role::Server && d->remote_liobn() == liobn)
            return d->remote_window();
    }
    return nullptr;
}

Ret copy(const vio::Bus& bus, u64 len, u64 src_liobn, u64 src_ioba, u64 dst_liobn, u64 dst_ioba) {
    const tce::Window* src = window(bus, src_liobn);
    if (src == nullptr) return H_SOURCE_PARM;
    const tce::Window* dst = window(bus, dst_liobn);
    if (dst == nullptr) return H_DEST_PARM;
    const tce::CopyResult r = tce::copy(*src, src_ioba, *dst, dst_ioba, len);
    // Range errors first (they say which side), then access bits.
    if (r.src == tce::Fault::OutOfWindow || r.src == tce::Fault::Unbacked) return H_SOURCE_PARM;
    if (r.dst == tce::Fault::OutOfWindow || r.dst == tce::Fault::Unbacked) return H_DEST_PARM;
    if (!r.ok()) return H_PERMISSION;
    return H_SUCCESS;
}

} // namespace tessera::rdma
