// C-ABI entry points the compiler and libfdt expect in a freestanding image, backed by
// common/rt. Only linked into hypervisor images, never into host tests.
#include "common/rt/panic.hpp"
#include "common/rt/string.hpp"
#include <tessera/hot.hpp>

using namespace tessera;

extern "C" {

void* memcpy(void* d, const void* s, size_t n) {
    return rt::mem_copy(d, s, n);
}
void* memmove(void* d, const void* s, size_t n) {
    return rt::mem_move(d, s, n);
}
TESSERA_HOT void* memset(void* d, int c, size_t n) {
    return rt::mem_set(d, c, n);
}
int memcmp(const void* a, const void* b, size_t n) {
    return rt::mem_compare(a, b, n);
}
void* memchr(const void* s, int c, size_t n) {
    return const_cast<void*>(rt::mem_find(s, c, n));
}
size_t strlen(const char* s) {
    return rt::str_length(s);
}
size_t strnlen(const char* s, size_t max) {
    return rt::str_length_max(s, max);
}
int strcmp(const char* a, const char* b) {
    return rt::str_compare(a, b);
}
int strncmp(const char* a, const char* b, size_t n) {
    return rt::str_compare_n(a, b, n);
}
char* strchr(const char* s, int c) {
    return const_cast<char*>(rt::str_find(s, c));
}
char* strrchr(const char* s, int c) {
    return const_cast<char*>(rt::str_find_last(s, c));
}
unsigned long strtoul(const char* s, char** end, int base) {
    return rt::str_to_ulong(s, end, base);
}

// Stack-protector failure in libfdt (the only code built with a guard).
[[noreturn]] void __stack_chk_fail() {
    panic("stack smashing detected");
}
[[noreturn]] void __stack_chk_fail_local() {
    panic("stack smashing detected");
}

// A pure virtual call can only come from a corrupted object: Tessera has no virtual dispatch.
[[noreturn]] void __cxa_pure_virtual() {
    panic("pure virtual call");
}
}
