// Zeroing chunks for ChunkPool: one rep stosl.
#include <tessera/arch.hpp>

namespace tessera::arch {

void scrub(void* host, usize len) {
    usize words = len / 4;
    asm volatile("cld; rep stosl" : "+D"(host), "+c"(words) : "a"(0) : "memory", "cc");
}

} // namespace tessera::arch
