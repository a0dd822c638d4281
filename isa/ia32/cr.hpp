// The real control registers, for the hypervisor's own use (privileged: image only, never in
// host tests). Bit names: arch/state.hpp (kCr0*, kCr4*).
#pragma once

#include <tessera/types.hpp>

namespace tessera::arch::cr {

inline u32 read0() {
    u32 v;
    asm volatile("mov %%cr0, %0" : "=r"(v));
    return v;
}
inline void write0(u32 v) {
    asm volatile("mov %0, %%cr0" ::"r"(v) : "memory");
}
// The linear address of the last page fault.
inline u32 read2() {
    u32 v;
    asm volatile("mov %%cr2, %0" : "=r"(v));
    return v;
}
inline u32 read3() {
    u32 v;
    asm volatile("mov %%cr3, %0" : "=r"(v));
    return v;
}
inline void write3(u32 v) {
    asm volatile("mov %0, %%cr3" ::"r"(v) : "memory");
}
inline u32 read4() {
    u32 v;
    asm volatile("mov %%cr4, %0" : "=r"(v));
    return v;
}
inline void write4(u32 v) {
    asm volatile("mov %0, %%cr4" ::"r"(v) : "memory");
}

} // namespace tessera::arch::cr
