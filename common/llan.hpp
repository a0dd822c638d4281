// The interpartition logical LAN adapter (PAPR ILLAN, Linux's ibmveth): one per LPAR and LAN.
//
// Guest side (hcall/llan.cpp): the guest registers three areas in the adapter's TCE window
// (H_REGISTER_LOGICAL_LAN) — a 4 KiB buffer-list page whose last 8 bytes count frames dropped for
// want of a buffer, a receive queue of 16-byte entries, a filter-list page — posts receive buffers
// (H_ADD_LOGICAL_LAN_BUFFER, kept here in RxPools), sends frames (H_SEND_LOGICAL_LAN, forwarded
// by its Lan, common/vswitch.hpp) and gates its interrupt (H_VIO_SIGNAL).
//
// Receiving a frame (receive()): the smallest buffer of at least frame + 8 bytes is taken, the
// frame copied to its IOBA + 8 straight from the sender's window (tce::copy: both sides' TCEs
// checked), and a receive-queue entry written at the enqueue pointer:
//   bytes 0..3   big-endian: 0x80000000 toggle | 0x40000000 valid | offset (8)
//   bytes 4..7   big-endian frame length
//   bytes 8..15  the buffer's first 8 bytes (the driver's correlator), copied verbatim
// Bytes 4..15 are written before bytes 0..3, so the driver never sees a half-written entry. The
// toggle is 1 on the first pass over the queue after registration, then flips at every wrap; the
// driver consumes entries whose toggle matches its own. Then, if enabled, the adapter's edge
// interrupt is raised on its LPAR's XICS.
//
// Storage: static device tables (common/vio_devices.cpp); owned by the run loop's CPU today (on
// SMP: the LAN's lock, which covers every member adapter of a Lan).
#pragma once

#include <tessera/hcall.hpp>
#include <tessera/types.hpp>

#include "common/llan_pools.hpp"
#include "common/tce.hpp"

namespace tessera {
class Lpar;
}

namespace tessera::llan {

class Lan;

inline constexpr u64 kMacMask = 0xffff'ffff'ffff; // MACs as u64: mac[0] in bits 47..40
inline constexpr u32 kRxOffset = 8;               // frames start after the correlator
inline constexpr u32 kRxEntrySize = 16;
inline constexpr u32 kRxToggle = 0x8000'0000;
inline constexpr u32 kRxValid = 0x4000'0000;
inline constexpr u64 kMaxFrame = 64 * KiB; // ibmveth's MAX_PACKET_SIZE
inline constexpr u64 kMinFrame = 14;       // an Ethernet header
inline constexpr usize kMaxSendDescs = 6;  // r5..r10 of H_SEND_LOGICAL_LAN
inline constexpr u64 kSignalEnable = 1;    // H_VIO_SIGNAL mode: the first interrupt on
// H_MULTICAST_CTRL flag bits (Linux ibmveth.h): reception/filter modify and enable, and the
// filter-table operation in the low 2 bits.
inline constexpr u64 kMcastKnownFlags = 0x80000 | 0x40000 | 0x20000 | 0x10000 | 0x3;

// A frame to send: up to six pieces in the sender's window, checked readable.
struct TxFrame {
    struct Piece {
        u32 ioba = 0;
        u32 len = 0;
    };
    const tce::Window* window = nullptr;
    Piece pieces[kMaxSendDescs];
    usize count = 0;
    u64 len = 0;
    u64 dst_mac = 0;
};

constexpr bool is_group_mac(u64 mac) { // broadcast or multicast: the I/G bit of mac[0]
    return (mac >> 40) & 1;
}

class Adapter {
  public:
    enum class Rx : u8 { Delivered, NotRegistered, NoBuffer, Fault };

    constexpr Adapter() = default;
    Adapter(const Adapter&) = delete;
    Adapter& operator=(const Adapter&) = delete;

    // The device as configured: unit address (= its window's LIOBN), XICS source, MAC. Binds the
    // window to the LPAR's memory; the adapter starts unregistered.
    void init(Lpar& lpar, u32 unit_address, u32 irq, u64 mac);
    // The device is gone (its LPAR is destroyed and it left its LAN): unregistered, no receive
    // buffers, the window unbound (every TCE cleared), no LPAR. init() may give it to another.
    void release();
    u32 unit_address() const { return unit_address_; }
    u32 irq() const { return irq_; }
    u64 mac() const { return mac_; }
    Lpar* lpar() const { return lpar_; }
    tce::Window& window() { return window_; }
    const tce::Window& window() const { return window_; }
    Lan* lan() const { return lan_; }
    void set_lan(Lan* lan) { lan_ = lan; }

    // ---- The guest's hcalls (validation per PAPR; see docs/hcalls.md) ----------------------
    hcall::Ret register_lan(u64 buffer_list, u64 rx_queue, u64 filter_list, u64 mac);
    hcall::Ret free_lan();
    hcall::Ret add_buffer(u64 desc);
    hcall::Ret send(const u64* descs, u64 token); // descs: kMaxSendDescs register values
    hcall::Ret signal(u64 mode);
    hcall::Ret change_mac(u64 mac);
    hcall::Ret multicast_ctrl(u64 flags, u64 mac, u64& result);

    // ---- The switch's side ----------------------------------------------------------------
    bool registered() const { return registered_; }
    bool accepts(u64 dst_mac) const { return is_group_mac(dst_mac) || dst_mac == mac_; }
    Rx receive(const TxFrame& frame);

    // Introspection (tests, diagnostics).
    bool signal_enabled() const { return signal_; }
    u64 rx_queue_offset() const { return rxq_at_; }
    bool toggle() const { return toggle_; }
    const RxPools& pools() const { return pools_; }
    u64 dropped() const { return dropped_; }

  private:
    void count_drop();

    Lpar* lpar_ = nullptr;
    Lan* lan_ = nullptr;
    u32 unit_address_ = 0;
    u32 irq_ = 0;
    u64 mac_ = 0;
    bool registered_ = false;
    bool signal_ = false;
    bool toggle_ = true;
    u32 buffer_list_ = 0; // IOBA of the buffer-list page
    u32 rxq_ioba_ = 0;
    u32 rxq_len_ = 0;
    u64 rxq_at_ = 0; // enqueue offset
    u64 dropped_ = 0;
    RxPools pools_;
    tce::DefaultWindow window_;
};

} // namespace tessera::llan
