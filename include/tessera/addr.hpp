// Strong address types. Three address spaces meet in a hypervisor and must never be mixed:
//   EffAddr     - effective/virtual: what guest code uses (translated by HTAB / shadow tables);
//   LogicalAddr - the LPAR's "physical" addresses, starting at 0 (guest-physical);
//   RealAddr    - host physical memory.
// The core owns logical -> real (chunks); each ISA owns effective -> logical -> real hardware.
// All three are 64-bit wide on every ISA so that the core's arithmetic is the same everywhere.
#pragma once

#include <tessera/types.hpp>

namespace tessera {

template <class Tag>
class Addr {
  public:
    constexpr Addr() = default;
    constexpr explicit Addr(u64 v) : v_(v) {}

    constexpr u64 value() const { return v_; }

    // Offsets move within one address space; the difference of two addresses is a plain size.
    constexpr Addr operator+(u64 off) const { return Addr(v_ + off); }
    constexpr Addr operator-(u64 off) const { return Addr(v_ - off); }
    constexpr Addr& operator+=(u64 off) {
        v_ += off;
        return *this;
    }
    constexpr u64 operator-(Addr o) const { return v_ - o.v_; }

    constexpr bool is_aligned(u64 a) const { return tessera::is_aligned(v_, a); }
    constexpr Addr align_down(u64 a) const { return Addr(tessera::align_down(v_, a)); }
    constexpr Addr align_up(u64 a) const { return Addr(tessera::align_up(v_, a)); }

    // Spelled out rather than <=>: the freestanding build has no <compare>.
    constexpr bool operator==(const Addr&) const = default;
    constexpr bool operator<(Addr o) const { return v_ < o.v_; }
    constexpr bool operator<=(Addr o) const { return v_ <= o.v_; }
    constexpr bool operator>(Addr o) const { return v_ > o.v_; }
    constexpr bool operator>=(Addr o) const { return v_ >= o.v_; }

  private:
    u64 v_ = 0;
};

struct EffTag {};
struct LogicalTag {};
struct RealTag {};

using EffAddr = Addr<EffTag>;
using LogicalAddr = Addr<LogicalTag>;
using RealAddr = Addr<RealTag>;

static_assert(sizeof(RealAddr) == 8);

} // namespace tessera
