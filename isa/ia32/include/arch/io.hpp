// x86 port I/O.
#pragma once

#include <tessera/types.hpp>

namespace tessera::arch {

inline void outb(u16 port, u8 v) {
    asm volatile("outb %0, %1" ::"a"(v), "Nd"(port));
}
inline void outw(u16 port, u16 v) {
    asm volatile("outw %0, %1" ::"a"(v), "Nd"(port));
}
inline void outl(u16 port, u32 v) {
    asm volatile("outl %0, %1" ::"a"(v), "Nd"(port));
}
inline u8 inb(u16 port) {
    u8 v;
    asm volatile("inb %1, %0" : "=a"(v) : "Nd"(port));
    return v;
}

} // namespace tessera::arch
