// Console output and input through the LPAR's vty (H_PUT_TERM_CHAR / H_GET_TERM_CHAR), and the
// console lock that keeps the lines of several vcpus whole.
#include "common/rt/format.hpp"
#include "lpar.hpp"
#include "lpar_internal.hpp"

namespace lpar {

using namespace tessera::hcall;

namespace {

constinit u32 g_console_owner = 0; // vcpu index + 1 of the holder, 0 = free

constexpr usize kTermBytes = 16; // per H_PUT_TERM_CHAR / H_GET_TERM_CHAR

} // namespace

// Recursive per vcpu: an unexpected-trap report may come while this vcpu holds the lock.
void console_lock() {
    Vcpu& v = this_vcpu();
    const u32 me = v.index + 1;
    if (__atomic_load_n(&g_console_owner, __ATOMIC_RELAXED) == me) {
        ++v.lock_depth;
        return;
    }
    u32 expected = 0;
    while (!__atomic_compare_exchange_n(&g_console_owner, &expected, me, false, __ATOMIC_ACQUIRE,
                                        __ATOMIC_RELAXED)) {
        expected = 0;
        isa::cpu_relax();
    }
    v.lock_depth = 1;
}

void console_unlock() {
    Vcpu& v = this_vcpu();
    if (--v.lock_depth == 0) __atomic_store_n(&g_console_owner, 0u, __ATOMIC_RELEASE);
}

void write(const char* s, usize n) {
    while (n > 0) {
        const usize len = n < kTermBytes ? n : kTermBytes;
        u64 hi = 0, lo = 0;
        for (usize i = 0; i < len; ++i) {
            const u64 byte = static_cast<u8>(s[i]);
            (i < 8 ? hi : lo) |= byte << (56 - 8 * (i % 8));
        }
        HcallResult r;
        for (int tries = 0; tries < 100; ++tries) {
            r = hcall(H_PUT_TERM_CHAR, kVtyTermno, len, hi, lo);
            if (r.status != H_BUSY) break;
        }
        if (r.status != H_SUCCESS) return; // nowhere to report it
        s += len;
        n -= len;
    }
}

usize format(char* buf, usize cap, const char* fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    const usize n = tessera::rt::vformat(buf, cap, fmt, ap);
    va_end(ap);
    return n;
}

void vprint(const char* fmt, va_list ap) {
    char line[256];
    usize n = tessera::rt::vformat(line, sizeof(line), fmt, ap);
    if (n >= sizeof(line)) n = sizeof(line) - 1;
    console_lock();
    write(line, n);
    console_unlock();
}

void print(const char* fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vprint(fmt, ap);
    va_end(ap);
}

usize read_some(char* buf, usize cap) {
    const HcallResult r = hcall(H_GET_TERM_CHAR, kVtyTermno);
    if (r.status != H_SUCCESS) return 0;
    usize n = r.ret[0] < kTermBytes ? static_cast<usize>(r.ret[0]) : kTermBytes;
    if (n > cap) n = cap; // cannot happen with cap >= 16; the rest would be lost
    for (usize i = 0; i < n; ++i)
        buf[i] = static_cast<char>((i < 8 ? r.ret[1] : r.ret[2]) >> (56 - 8 * (i % 8)));
    return n;
}

bool read_line(char* buf, usize cap, u64 timeout_ticks) {
    usize len = 0;
    buf[0] = '\0';
    Deadline d(timeout_ticks);
    for (;;) {
        char chunk[kTermBytes];
        const usize n = read_some(chunk, sizeof(chunk));
        for (usize i = 0; i < n; ++i) {
            const char c = chunk[i];
            if (c == '\r' || c == '\n') {
                if (len == 0) continue; // the '\n' of a "\r\n", or an empty line
                buf[len] = '\0';
                return true;
            }
            if (len + 1 < cap) buf[len++] = c;
        }
        buf[len] = '\0';
        if (n == 0) {
            if (d.expired()) return false;
            idle(10 * ticks_per_ms());
        }
    }
}

} // namespace lpar
