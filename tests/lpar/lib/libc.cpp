// The C names the compiler may call in a freestanding program (struct copies, zeroing), backed
// by the project's own runtime (common/rt/string.cpp, compiled into every test LPAR).
#include "common/rt/string.hpp"

using namespace tessera;

extern "C" {

void* memcpy(void* d, const void* s, size_t n) {
    return rt::mem_copy(d, s, n);
}
void* memmove(void* d, const void* s, size_t n) {
    return rt::mem_move(d, s, n);
}
void* memset(void* d, int c, size_t n) {
    return rt::mem_set(d, c, n);
}
int memcmp(const void* a, const void* b, size_t n) {
    return rt::mem_compare(a, b, n);
}
size_t strlen(const char* s) {
    return rt::str_length(s);
}
}
