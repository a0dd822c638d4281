#include "common/rt/string.hpp"
#include <tessera/hot.hpp>

namespace tessera::rt {

// Word-at-a-time when both pointers share their alignment: loading guest images and scrubbing
// 16 MiB chunks under an emulator is dominated by these loops.
void* mem_copy(void* dst, const void* src, usize n) {
    auto* d = static_cast<u8*>(dst);
    const auto* s = static_cast<const u8*>(src);
    if (((reinterpret_cast<uptr>(d) ^ reinterpret_cast<uptr>(s)) & (sizeof(uptr) - 1)) == 0) {
        while (n && (reinterpret_cast<uptr>(d) & (sizeof(uptr) - 1))) {
            *d++ = *s++;
            --n;
        }
        for (; n >= sizeof(uptr); n -= sizeof(uptr), d += sizeof(uptr), s += sizeof(uptr))
            *reinterpret_cast<uptr*>(d) = *reinterpret_cast<const uptr*>(s);
    }
    while (n--) *d++ = *s++;
    return dst;
}

void* mem_move(void* dst, const void* src, usize n) {
    auto* d = static_cast<u8*>(dst);
    const auto* s = static_cast<const u8*>(src);
    if (d == s || n == 0) return dst;
    if (d < s || d >= s + n) {
        while (n--) *d++ = *s++;
    } else {
        d += n;
        s += n;
        while (n--) *--d = *--s;
    }
    return dst;
}

TESSERA_HOT void* mem_set(void* dst, int c, usize n) {
    auto* d = static_cast<u8*>(dst);
    while (n && (reinterpret_cast<uptr>(d) & (sizeof(uptr) - 1))) {
        *d++ = static_cast<u8>(c);
        --n;
    }
    uptr pattern = static_cast<u8>(c);
    pattern *= ~uptr{0} / 0xff; // the byte repeated in every byte of a word
    for (; n >= sizeof(uptr); n -= sizeof(uptr), d += sizeof(uptr))
        *reinterpret_cast<uptr*>(d) = pattern;
    while (n--) *d++ = static_cast<u8>(c);
    return dst;
}

int mem_compare(const void* a, const void* b, usize n) {
    const auto* x = static_cast<const u8*>(a);
    const auto* y = static_cast<const u8*>(b);
    for (; n; --n, ++x, ++y)
        if (*x != *y) return *x < *y ? -1 : 1;
    return 0;
}

const void* mem_find(const void* s, int c, usize n) {
    const auto* p = static_cast<const u8*>(s);
    for (; n; --n, ++p)
        if (*p == static_cast<u8>(c)) return p;
    return nullptr;
}

usize str_length(const char* s) {
    usize n = 0;
    while (s[n]) ++n;
    return n;
}

usize str_length_max(const char* s, usize max) {
    usize n = 0;
    while (n < max && s[n]) ++n;
    return n;
}

int str_compare(const char* a, const char* b) {
    for (;; ++a, ++b) {
        auto x = static_cast<u8>(*a), y = static_cast<u8>(*b);
        if (x != y) return x < y ? -1 : 1;
        if (!x) return 0;
    }
}

int str_compare_n(const char* a, const char* b, usize n) {
    for (; n; --n, ++a, ++b) {
        auto x = static_cast<u8>(*a), y = static_cast<u8>(*b);
        if (x != y) return x < y ? -1 : 1;
        if (!x) return 0;
    }
    return 0;
}

const char* str_find(const char* s, int c) {
    for (;; ++s) {
        if (*s == static_cast<char>(c)) return s;
        if (!*s) return nullptr;
    }
}

const char* str_find_last(const char* s, int c) {
    const char* last = nullptr;
    for (;; ++s) {
        if (*s == static_cast<char>(c)) last = s;
        if (!*s) return last;
    }
}

usize str_copy(char* dst, const char* src, usize cap) {
    usize n = str_length(src);
    if (cap) {
        usize k = n < cap - 1 ? n : cap - 1;
        mem_copy(dst, src, k);
        dst[k] = '\0';
    }
    return n;
}

static int digit_value(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'z') return c - 'a' + 10;
    if (c >= 'A' && c <= 'Z') return c - 'A' + 10;
    return 99;
}

unsigned long str_to_ulong(const char* s, char** end, int base) {
    const char* p = s;
    while (*p == ' ' || (*p >= '\t' && *p <= '\r')) ++p;
    bool neg = false;
    if (*p == '+' || *p == '-') neg = *p++ == '-';
    if ((base == 0 || base == 16) && p[0] == '0' && (p[1] == 'x' || p[1] == 'X') &&
        digit_value(p[2]) < 16) {
        p += 2;
        base = 16;
    } else if (base == 0) {
        base = p[0] == '0' ? 8 : 10;
    }
    const unsigned long max = ~0UL;
    unsigned long v = 0;
    bool any = false, overflow = false;
    for (int d; (d = digit_value(*p)) < base; ++p) {
        any = true;
        if (v > (max - static_cast<unsigned long>(d)) / static_cast<unsigned long>(base))
            overflow = true;
        else
            v = v * static_cast<unsigned long>(base) + static_cast<unsigned long>(d);
    }
    if (end) *end = const_cast<char*>(any ? p : s);
    if (overflow) return max;
    return neg ? -v : v;
}

} // namespace tessera::rt
