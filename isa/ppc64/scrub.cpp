// Zeroing chunks for ChunkPool: dcbz establishes a whole 128-byte line as zeros without reading
// it (under QEMU one helper call per line instead of sixteen emulated stores).
#include <tessera/arch.hpp>

namespace tessera::arch {

inline constexpr uptr kCacheLine = 128; // POWER8

void scrub(void* host, usize len) {
    const uptr end = reinterpret_cast<uptr>(host) + len;
    for (uptr p = reinterpret_cast<uptr>(host); p < end; p += kCacheLine)
        asm volatile("dcbz 0,%0" : : "r"(p) : "memory");
    asm volatile("sync" ::: "memory");
}

} // namespace tessera::arch
