// An LPAR's virtual I/O bus: its TCE windows by LIOBN and its devices by unit address, as the
// hcalls name them. It holds pointers only: windows and devices live in static device tables
// (common/vio_devices.hpp), tests make their own. Owned by the LPAR (today: the run loop's CPU).
#pragma once

#include <tessera/types.hpp>

#include "common/xics.hpp"

namespace tessera::tce {
class Window;
}
namespace tessera::llan {
class Adapter;
}
namespace tessera::crq {
class Device;
}

namespace tessera::vio {

inline constexpr usize kMaxLansPerLpar = 4;
inline constexpr usize kMaxVscsiPerLpar = 8; // v-scsi clients and servers together
// One per device (a v-scsi server's remote window is not on the bus: see Bus).
inline constexpr usize kMaxWindowsPerLpar = kMaxLansPerLpar + kMaxVscsiPerLpar;
// Unit addresses of an LPAR's l-lan devices: kLanUnitBase + the LAN's index in its config, after
// the vty's customary 0x30000000 (libvirt/PowerVM style numbering). Their LIOBN is the unit
// address (as QEMU's SPAPR_VIO_LIOBN) and their interrupt source kLanFirstIrq + the index.
inline constexpr u32 kLanUnitBase = 0x3000'0002;
inline constexpr u32 kLanFirstIrq = xics::kFirstSource + 1; // after the vty's (kVtyIrq)
// v-scsi devices (clients and servers, in the order the configuration creates them): unit address
// and LIOBN kVscsiUnitBase + i, interrupt source kVscsiFirstIrq + i.
inline constexpr u32 kVscsiUnitBase = 0x3000'0010;
inline constexpr u32 kVscsiFirstIrq = kLanFirstIrq + kMaxLansPerLpar;

// Every window on an LPAR's bus is its own (bound to its own memory): the TCE hcalls change any
// window they find here. A virtual SCSI server's second, "remote" window (the client's, for
// H_COPY_RDMA) must therefore be kept apart from this list and reached only through tce::copy.
class Bus {
  public:
    // False when full or when the LIOBN is taken already.
    bool add_window(tce::Window& w);
    bool add_lan(llan::Adapter& a); // false when full or its unit address is taken
    bool add_crq(crq::Device& d);   // false when full or its unit address is taken
    // Null for a LIOBN or unit address this LPAR does not have (a 64-bit hcall argument: the upper
    // 32 bits must be zero).
    tce::Window* window(u64 liobn) const;
    llan::Adapter* lan(u64 unit_address) const;
    llan::Adapter* lan_at(usize i) const { return i < kMaxLansPerLpar ? lans_[i] : nullptr; }
    crq::Device* crq(u64 unit_address) const;
    crq::Device* crq_at(usize i) const { return i < kMaxVscsiPerLpar ? crqs_[i] : nullptr; }
    // Whether any device (LAN or CRQ) has this unit address.
    bool has_unit(u64 unit_address) const { return lan(unit_address) || crq(unit_address); }
    // The LPAR stopped or crashed: each CRQ partner gets a transport event (common/crq.hpp).
    void owner_ended();
    void clear();

  private:
    tce::Window* windows_[kMaxWindowsPerLpar] = {};
    llan::Adapter* lans_[kMaxLansPerLpar] = {};
    crq::Device* crqs_[kMaxVscsiPerLpar] = {};
};

} // namespace tessera::vio
