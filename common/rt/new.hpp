// Placement new for the freestanding build (no <new> without libstdc++); hosted builds use <new>.
#pragma once

#include <tessera/types.hpp>

#if defined(TESSERA_FREESTANDING)
inline void* operator new(size_t, void* where) noexcept {
    return where;
}
inline void* operator new[](size_t, void* where) noexcept {
    return where;
}
#else
#include <new>
#endif
