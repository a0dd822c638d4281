#include "common/llan.hpp"

#include "common/lib/endian.hpp"
#include "common/lpar.hpp"
#include "common/vswitch.hpp"

namespace tessera::llan {
namespace {

using namespace hcall;

// An area of the window the adapter keeps for itself: inside it and with the access it needs.
bool area_ok(const tce::Window& w, u64 ioba, u64 len, u64 access) {
    return ioba < w.size() && w.check(ioba, len, access) == tce::Fault::None;
}

} // namespace

void Adapter::init(Lpar& lpar, u32 unit_address, u32 irq, u64 mac) {
    lpar_ = &lpar;
    unit_address_ = unit_address;
    irq_ = irq;
    mac_ = mac & kMacMask;
    registered_ = false;
    signal_ = false;
    dropped_ = 0;
    pools_.clear();
    window_.bind(unit_address, lpar.memory);
}

void Adapter::release() {
    registered_ = false;
    signal_ = false;
    pools_.clear();
    window_.unbind();
    lpar_ = nullptr;
    lan_ = nullptr;
}

Ret Adapter::register_lan(u64 buffer_list, u64 rx_queue, u64 filter_list, u64 mac) {
    if (registered_) return H_RESOURCE; // ibmveth then frees and registers again (kexec)
    const u32 rxq_ioba = desc_ioba(rx_queue), rxq_len = desc_length(rx_queue);
    if (buffer_list % tce::kPageSize != 0 || filter_list % tce::kPageSize != 0 ||
        !(rx_queue & kDescValid) || rxq_len == 0 || rxq_len % kRxEntrySize != 0 ||
        rxq_ioba % kRxEntrySize != 0)
        return H_PARAMETER;
    // The dropped counter is read and written, the queue written, the filter list only read.
    if (!area_ok(window_, buffer_list, tce::kPageSize, tce::kRead | tce::kWrite) ||
        !area_ok(window_, rxq_ioba, rxq_len, tce::kWrite) ||
        !area_ok(window_, filter_list, tce::kPageSize, tce::kRead))
        return H_PARAMETER;
    buffer_list_ = static_cast<u32>(buffer_list);
    rxq_ioba_ = rxq_ioba;
    rxq_len_ = rxq_len;
    rxq_at_ = 0;
    toggle_ = true;
    signal_ = false;
    mac_ = mac & kMacMask;
    pools_.clear();
    // A clean queue: no stale entry can look valid to the driver.
    static constexpr u8 kZero[256] = {};
    for (u64 off = 0; off < rxq_len; off += sizeof kZero) {
        const u64 n = rxq_len - off < sizeof kZero ? rxq_len - off : sizeof kZero;
        window_.write(rxq_ioba + off, kZero, n);
    }
    registered_ = true;
    return H_SUCCESS;
}

Ret Adapter::free_lan() {
    if (!registered_) return H_RESOURCE;
    registered_ = false;
    signal_ = false;
    pools_.clear();
    return H_SUCCESS;
}

Ret Adapter::add_buffer(u64 desc) {
    if (!registered_) return H_RESOURCE;
    const u64 ioba = desc_ioba(desc), len = desc_length(desc);
    if (!(desc & kDescValid) || len < 16 || ioba % 4 != 0 || ioba + len > window_.size())
        return H_PARAMETER;
    return pools_.add(desc) ? H_SUCCESS : H_RESOURCE;
}

Ret Adapter::signal(u64 mode) {
    if (mode & ~kSignalEnable) return H_PARAMETER;
    signal_ = mode & kSignalEnable;
    return H_SUCCESS;
}

Ret Adapter::change_mac(u64 mac) {
    if (mac & ~kMacMask) return H_PARAMETER;
    mac_ = mac;
    return H_SUCCESS;
}

Ret Adapter::multicast_ctrl(u64 flags, u64 mac, u64& result) {
    result = 0; // no filter table: every multicast frame is received
    if (flags & ~kMcastKnownFlags || mac & ~kMacMask) return H_PARAMETER;
    return H_SUCCESS;
}

Ret Adapter::send(const u64* descs, u64 token) {
    if (!registered_ || lan_ == nullptr) return H_DROPPED;
    if (token != 0) return H_PARAMETER; // frames go out synchronously: no continuation
    TxFrame f;
    f.window = &window_;
    for (usize i = 0; i < kMaxSendDescs; ++i) {
        const u64 d = descs[i];
        if (!(d & kDescValid) || desc_length(d) == 0) break;
        const u64 ioba = desc_ioba(d), len = desc_length(d);
        if (ioba + len > window_.size()) return H_PARAMETER;
        if (window_.check(ioba, len, tce::kRead) != tce::Fault::None) return H_PERMISSION;
        f.pieces[f.count++] = TxFrame::Piece{static_cast<u32>(ioba), static_cast<u32>(len)};
        f.len += len;
    }
    if (f.len < kMinFrame || f.len > kMaxFrame) return H_PARAMETER;
    // The destination MAC: the frame's first 6 bytes, which may span pieces.
    u8 dst[6];
    usize got = 0;
    for (usize i = 0; i < f.count && got < sizeof dst; ++i) {
        const u64 n = f.pieces[i].len < sizeof dst - got ? f.pieces[i].len : sizeof dst - got;
        window_.read(f.pieces[i].ioba, dst + got, n);
        got += n;
    }
    for (u8 b : dst) f.dst_mac = f.dst_mac << 8 | b;
    return lan_->forward(*this, f);
}

void Adapter::count_drop() {
    ++dropped_;
    // The guest's counter: the buffer list's last 8 bytes, big-endian (ibmveth reads it).
    u8 b[8];
    const u64 at = buffer_list_ + tce::kPageSize - 8;
    if (window_.read(at, b, 8) != tce::Fault::None) return;
    lib::store_be<u64>(b, lib::load_be<u64>(b) + 1);
    window_.write(at, b, 8);
}

Adapter::Rx Adapter::receive(const TxFrame& frame) {
    if (!registered_) return Rx::NotRegistered;
    u64 desc = 0;
    if (!pools_.take(frame.len + kRxOffset, desc)) {
        count_drop();
        return Rx::NoBuffer;
    }
    const u64 buf = desc_ioba(desc);
    // Everything this delivery touches on the receiver's side is checked before a byte moves.
    u8 entry[kRxEntrySize];
    const u64 slot = rxq_ioba_ + rxq_at_;
    if (window_.read(buf, entry + 8, 8) != tce::Fault::None ||
        window_.check(buf + kRxOffset, frame.len, tce::kWrite) != tce::Fault::None ||
        window_.check(slot, kRxEntrySize, tce::kWrite) != tce::Fault::None)
        return Rx::Fault; // the guest unmapped its own buffer or queue: the frame is lost
    u64 done = 0;
    for (usize i = 0; i < frame.count; ++i) {
        const TxFrame::Piece& p = frame.pieces[i];
        tce::copy(*frame.window, p.ioba, window_, buf + kRxOffset + done, p.len);
        done += p.len;
    }
    lib::store_be<u32>(entry, (toggle_ ? kRxToggle : 0) | kRxValid | kRxOffset);
    lib::store_be<u32>(entry + 4, static_cast<u32>(frame.len));
    window_.write(slot + 4, entry + 4, kRxEntrySize - 4);
    __atomic_thread_fence(__ATOMIC_RELEASE); // the entry's body before its valid word
    window_.write(slot, entry, 4);
    rxq_at_ += kRxEntrySize;
    if (rxq_at_ + kRxEntrySize > rxq_len_) {
        rxq_at_ = 0;
        toggle_ = !toggle_;
    }
    if (signal_) lpar_->xics.raise(irq_);
    return Rx::Delivered;
}

} // namespace tessera::llan
