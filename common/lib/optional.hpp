// A value or nothing, for results that can legitimately be absent (a translation that fails, a
// lookup that misses). Freestanding: no <optional>. Meant for small trivially copyable values.
#pragma once

#include "common/rt/panic.hpp"

namespace tessera {

template <class T>
class Optional {
  public:
    constexpr Optional() = default;
    constexpr Optional(T v) : value_(v), has_(true) {} // NOLINT: implicit on purpose

    constexpr bool has_value() const { return has_; }
    constexpr explicit operator bool() const { return has_; }

    // Reading an empty Optional is a hypervisor bug, not bad input: check first.
    constexpr const T& value() const {
        TESSERA_ASSERT(has_);
        return value_;
    }
    constexpr const T& operator*() const { return value(); }
    constexpr const T* operator->() const { return &value(); }
    constexpr T value_or(T fallback) const { return has_ ? value_ : fallback; }

  private:
    T value_{};
    bool has_ = false;
};

} // namespace tessera
