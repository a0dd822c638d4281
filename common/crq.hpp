// Command/response queues between partner devices (PAPR "Command/Response Queue" and "Reliable
// Command/Response Transport"; Linux's ibmvscsi client and ibmvscsis server) and the remote
// window their H_COPY_RDMA uses.
//
// A partner pair is one server device (v-scsi-host) in one LPAR and one client device (v-scsi) in
// another, joined by the configuration (`vscsi-server =` / `vscsi =`). Each device has its own
// TCE window (LIOBN = unit address); the server also has a second, "remote" LIOBN that resolves
// to the client's window while the pair is connected (both queues registered) and to nothing
// otherwise. The remote LIOBN is not on the server's bus: the TCE hcalls never reach it.
//
// A queue is a ring of 16-byte entries in the owner's window, registered with H_REG_CRQ. The
// hypervisor enqueues only into a free entry (first byte 0); the receiver frees an entry by
// writing 0 there. An entry is written body first (bytes 8..15), then its first 8 bytes:
//   0x80 command/response   0xC0 initialization (0x01 init, 0x02 init complete)
//   0xFF transport event (kEventPartnerFailed: its LPAR ended; kEventPartnerClosed: H_FREE_CRQ)
// A transport event goes into the next entry, or over the last one written when the queue is
// full (a reset the receiver must see). Each enqueue pulses the receiver's edge XICS source if
// it enabled it with H_VIO_SIGNAL. Payloads are never interpreted.
//
// Storage: static device tables (common/vio_devices.cpp). Owned by the run loop's CPU today; on
// SMP a pair's lock will cover both devices, their queues and the remote window resolution.
#pragma once

#include <tessera/hcall.hpp>
#include <tessera/types.hpp>

#include "common/tce.hpp"

namespace tessera {
class Lpar;
}

namespace tessera::crq {

inline constexpr u64 kEntrySize = 16;
inline constexpr u8 kHeaderValid = 0x80;     // a message's first byte has bit 7 set ...
inline constexpr u8 kHeaderTransport = 0xFF; // ... and only the hypervisor sends 0xFF
inline constexpr u8 kEventPartnerFailed = 0x01;
inline constexpr u8 kEventPartnerClosed = 0x02;
inline constexpr u64 kSignalEnable = 1; // H_VIO_SIGNAL mode: the device's interrupt on
// Both windows of a pair are 256 MiB (as QEMU's): ibmvscsis maps 800 IUs of one 64 KiB kernel
// page each at probe (Linux rounds every coherent DMA allocation up to a page), more than a
// 64 MiB window's allocator gives it (the probe fails with ENOMEM).
inline constexpr u64 kWindowSize = 256 * MiB;
// The server's remote LIOBN: its unit address with this bit (LIOBNs are opaque to the guest).
inline constexpr u32 kRemoteLiobnBit = 0x0100'0000;

enum class Role : u8 { Client, Server };

class Device {
  public:
    constexpr Device() = default;
    Device(const Device&) = delete;
    Device& operator=(const Device&) = delete;

    // The device as configured; binds its window to the LPAR's memory. Unregistered, unpaired.
    void init(Lpar& lpar, Role role, u32 unit_address, u32 irq);
    // Joins a server and a client (two LPARs).
    static void pair(Device& server, Device& client);

    Role role() const { return role_; }
    u32 unit_address() const { return unit_address_; }
    u32 irq() const { return irq_; }
    Lpar* lpar() const { return lpar_; }
    Device* partner() const { return partner_; }
    tce::Window& window() { return window_; }
    const tce::Window& window() const { return window_; }
    // The remote LIOBN (servers only; 0 for a client).
    u32 remote_liobn() const { return role_ == Role::Server ? unit_address_ | kRemoteLiobnBit : 0; }
    // What the remote LIOBN resolves to now: the client's window while connected, else null.
    const tce::Window* remote_window() const;

    // ---- The guest's hcalls (PAPR validation; docs/hcalls.md) ----------------------------
    hcall::Ret reg(u64 ioba, u64 len);
    hcall::Ret free();
    hcall::Ret send(u64 msg_hi, u64 msg_lo);
    hcall::Ret enable() const;
    hcall::Ret signal(u64 mode);

    // The device's LPAR stopped or crashed: the queue is gone, the partner gets
    // kEventPartnerFailed.
    void owner_ended();
    // The device is gone (its LPAR is destroyed): closed as owner_ended() does, unpaired on both
    // sides (the partner answers H_NOT_FOUND to a new registration, as a device never paired),
    // the window unbound, no LPAR. init() may give it to another.
    void release();

    bool registered() const { return registered_; }
    bool connected() const; // both queues registered
    bool signal_enabled() const { return signal_; }
    u64 queue_offset() const { return at_; }

  private:
    enum class Enq : u8 { Ok, Full, Fault };
    Enq enqueue(u64 hi, u64 lo, bool overwrite_when_full);
    void post_event(u8 format); // a transport event into this device's queue
    void close(u8 event_for_partner);

    Lpar* lpar_ = nullptr;
    Device* partner_ = nullptr;
    Role role_ = Role::Client;
    u32 unit_address_ = 0;
    u32 irq_ = 0;
    bool registered_ = false;
    bool signal_ = false;
    u32 queue_ioba_ = 0;
    u32 queue_len_ = 0;
    u64 at_ = 0;   // the next entry to fill
    u64 last_ = 0; // the last entry filled (a full queue's event goes there)
    tce::SizedWindow<static_cast<u32>(kWindowSize >> tce::kPageShift)> window_;
};

} // namespace tessera::crq
