// A named logical LAN: the virtual switch between the l-lan adapters of the LPARs on it.
// Forwarding by destination MAC: a unicast frame goes to every other registered member whose MAC
// it names (normally one; none: the frame is dropped silently, like a switch with no such
// port); a broadcast or multicast frame to every other registered member. Never back to the
// sender; never into an LPAR that is not running. An LPAR may sit on several LANs (one adapter
// per LAN).
// Storage: static (common/vio_devices.cpp); owned by the run loop's CPU today (on SMP: one lock
// per LAN, taken around forward()).
#pragma once

#include <tessera/hcall.hpp>
#include <tessera/types.hpp>

#include "common/llan.hpp"

namespace tessera::llan {

inline constexpr usize kLanNameMax = 32; // including the terminator
inline constexpr usize kMaxLanMembers = 16;

class Lan {
  public:
    constexpr Lan() = default;
    Lan(const Lan&) = delete;
    Lan& operator=(const Lan&) = delete;

    void init(const char* name);
    const char* name() const { return name_; }
    bool join(Adapter& a); // false when full
    // Takes the adapter off the LAN (its LPAR is being destroyed); nothing if it is not on it.
    void leave(Adapter& a);
    usize member_count() const { return count_; }
    bool has_mac(u64 mac) const; // whether a member adapter has this MAC

    // H_SEND_LOGICAL_LAN after the sender's checks: H_SUCCESS, or H_DROPPED when some receiver
    // that should have had the frame got nothing (no buffer, or its own TCEs refused it).
    hcall::Ret forward(const Adapter& from, const TxFrame& frame);

  private:
    char name_[kLanNameMax] = {};
    Adapter* members_[kMaxLanMembers] = {};
    usize count_ = 0;
};

} // namespace tessera::llan
