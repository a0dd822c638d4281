// How long a soak test LPAR runs: the decimal number in its kSoakSeconds string, which
// scripts/soak rewrites in a copy of the image (every soak program defines its own string).
#pragma once

#include <tessera/types.hpp>

namespace lpar {

inline tessera::u64 soak_seconds(const volatile char* text) {
    tessera::u64 s = 0;
    for (tessera::usize i = 0; text[i] != '\0'; ++i) {
        const char c = text[i];
        if (c >= '0' && c <= '9') s = s * 10 + static_cast<tessera::u64>(c - '0');
    }
    return s;
}

} // namespace lpar
