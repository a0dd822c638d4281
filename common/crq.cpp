#include "common/crq.hpp"

#include "common/lib/endian.hpp"
#include "common/lpar.hpp"

namespace tessera::crq {

using namespace hcall;

void Device::init(Lpar& lpar, Role role, u32 unit_address, u32 irq) {
    lpar_ = &lpar;
    partner_ = nullptr;
    role_ = role;
    unit_address_ = unit_address;
    irq_ = irq;
    registered_ = false;
    signal_ = false;
    at_ = last_ = 0;
    window_.bind(unit_address, lpar.memory);
}

void Device::pair(Device& server, Device& client) {
    server.partner_ = &client;
    client.partner_ = &server;
}

bool Device::connected() const {
    return registered_ && partner_ != nullptr && partner_->registered_;
}

const tce::Window* Device::remote_window() const {
    if (role_ != Role::Server || !connected()) return nullptr;
    return &partner_->window_;
}

Ret Device::reg(u64 ioba, u64 len) {
    if (partner_ == nullptr) return H_NOT_FOUND;
    if (registered_) return H_RESOURCE; // ibmvscsi frees and registers again
    if (ioba % tce::kPageSize != 0 || len == 0 || len % tce::kPageSize != 0 ||
        ioba >= window_.size() || len > window_.size() - ioba)
        return H_PARAMETER;
    // The hypervisor reads headers (is the entry free?) and writes entries.
    if (window_.check(ioba, len, tce::kRead | tce::kWrite) != tce::Fault::None) return H_PARAMETER;
    queue_ioba_ = static_cast<u32>(ioba);
    queue_len_ = static_cast<u32>(len);
    at_ = last_ = 0;
    signal_ = false;
    registered_ = true;
    return partner_->registered_ ? H_SUCCESS : H_CLOSED;
}

void Device::close(u8 event_for_partner) {
    if (!registered_) return;
    const bool was_connected = connected();
    registered_ = false;
    signal_ = false;
    if (was_connected) partner_->post_event(event_for_partner);
}

Ret Device::free() {
    close(kEventPartnerClosed);
    return H_SUCCESS;
}

void Device::owner_ended() {
    close(kEventPartnerFailed);
}

void Device::release() {
    close(kEventPartnerFailed);
    if (partner_ != nullptr) {
        if (partner_->partner_ == this) partner_->partner_ = nullptr;
        partner_ = nullptr;
    }
    window_.unbind();
    lpar_ = nullptr;
}

Ret Device::enable() const {
    return H_SUCCESS; // the partner is never suspended or migrated: nothing to re-enable
}

Ret Device::signal(u64 mode) {
    if (mode & ~kSignalEnable) return H_PARAMETER;
    signal_ = mode & kSignalEnable;
    return H_SUCCESS;
}

Ret Device::send(u64 msg_hi, u64 msg_lo) {
    const u8 header = static_cast<u8>(msg_hi >> 56);
    if (!(header & kHeaderValid) || header == kHeaderTransport) return H_PARAMETER;
    if (!connected()) return H_CLOSED;
    switch (partner_->enqueue(msg_hi, msg_lo, false)) {
    case Enq::Ok:
        return H_SUCCESS;
    case Enq::Full:
        return H_DROPPED;
    case Enq::Fault:
        break;
    }
    return H_DROPPED; // the partner unmapped its own queue: the message is lost
}

void Device::post_event(u8 format) {
    const u64 hi = u64{kHeaderTransport} << 56 | u64{format} << 48;
    enqueue(hi, 0, true);
}

Device::Enq Device::enqueue(u64 hi, u64 lo, bool overwrite_when_full) {
    if (!registered_) return Enq::Fault;
    u64 slot = queue_ioba_ + at_;
    u8 header = 0;
    if (window_.read(slot, &header, 1) != tce::Fault::None) return Enq::Fault;
    const bool full = header != 0;
    if (full) {
        if (!overwrite_when_full) return Enq::Full;
        slot = queue_ioba_ + last_;
    }
    u8 e[kEntrySize];
    lib::store_be<u64>(e, hi);
    lib::store_be<u64>(e + 8, lo);
    if (window_.write(slot + 8, e + 8, 8) != tce::Fault::None) return Enq::Fault;
    __atomic_thread_fence(__ATOMIC_RELEASE); // the body before the header the driver polls
    if (window_.write(slot, e, 8) != tce::Fault::None) return Enq::Fault;
    if (!full) {
        last_ = at_;
        at_ = at_ + kEntrySize >= queue_len_ ? 0 : at_ + kEntrySize;
    }
    if (signal_) lpar_->xics.raise(irq_);
    return Enq::Ok;
}

} // namespace tessera::crq
