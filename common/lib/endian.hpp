// Big-endian loads and stores of guest-memory bytes. PAPR structures in guest memory (RX queue
// entries, TCE lists, counters, device-tree cells) are big-endian whatever the guest's endianness.
#pragma once

#include <tessera/types.hpp>

namespace tessera::lib {

template <class T>
constexpr T load_be(const u8* p) {
    T v = 0;
    for (usize i = 0; i < sizeof(T); ++i) v = static_cast<T>(v << 8 | p[i]);
    return v;
}

template <class T>
constexpr void store_be(u8* p, T v) {
    for (usize i = sizeof(T); i-- > 0;) {
        p[i] = static_cast<u8>(v);
        v = static_cast<T>(v >> 8);
    }
}

} // namespace tessera::lib
