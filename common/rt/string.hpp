// Freestanding memory and string primitives. The hypervisor image exports them under their C
// names (common/rt/abi/libc.cpp) for the compiler and libfdt; the core calls them by these
// names so that host unit tests exercise exactly this code, not the host's libc.
#pragma once

#include <tessera/types.hpp>

namespace tessera::rt {

void* mem_copy(void* dst, const void* src, usize n);
void* mem_move(void* dst, const void* src, usize n);
void* mem_set(void* dst, int c, usize n);
int mem_compare(const void* a, const void* b, usize n);
const void* mem_find(const void* s, int c, usize n);

usize str_length(const char* s);
usize str_length_max(const char* s, usize max);
int str_compare(const char* a, const char* b);
int str_compare_n(const char* a, const char* b, usize n);
const char* str_find(const char* s, int c);
const char* str_find_last(const char* s, int c);
// Copies at most cap-1 bytes and always terminates (cap > 0); returns str_length(src).
usize str_copy(char* dst, const char* src, usize cap);

// strtoul semantics (base 0 = auto: 0x.. hex, 0.. octal, else decimal; saturates on overflow).
unsigned long str_to_ulong(const char* s, char** end, int base);

} // namespace tessera::rt
