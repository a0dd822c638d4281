#include "common/rt/format.hpp"

namespace tessera::rt {
namespace {

struct Out {
    char* buf;
    usize cap;
    usize len = 0;
    void put(char c) {
        if (len + 1 < cap) buf[len] = c;
        ++len;
    }
    void repeat(char c, int n) {
        while (n-- > 0) put(c);
    }
};

struct Spec {
    bool left = false, zero = false, plus = false, space = false, alt = false;
    int width = 0;
    int precision = -1;
};

void emit_number(Out& o, const Spec& sp, u64 mag, bool negative, unsigned base, bool upper,
                 const char* prefix) {
    char digits[24];
    int n = 0;
    const char* set = upper ? "0123456789ABCDEF" : "0123456789abcdef";
    do {
        digits[n++] = set[mag % base];
        mag /= base;
    } while (mag);
    if (sp.precision == 0 && n == 1 && digits[0] == '0') n = 0;
    char sign = negative ? '-' : sp.plus ? '+' : sp.space ? ' ' : '\0';
    int plen = 0;
    while (prefix[plen]) ++plen;
    int zeros = sp.precision > n ? sp.precision - n : 0;
    int body = n + zeros + plen + (sign ? 1 : 0);
    int pad = sp.width > body ? sp.width - body : 0;
    if (sp.zero && !sp.left && sp.precision < 0) {
        zeros += pad;
        pad = 0;
    }
    if (!sp.left) o.repeat(' ', pad);
    if (sign) o.put(sign);
    for (int i = 0; i < plen; ++i) o.put(prefix[i]);
    o.repeat('0', zeros);
    while (n) o.put(digits[--n]);
    if (sp.left) o.repeat(' ', pad);
}

void emit_string(Out& o, const Spec& sp, const char* s) {
    if (!s) s = "(null)";
    int n = 0;
    while ((sp.precision < 0 || n < sp.precision) && s[n]) ++n; // no read past the precision
    int pad = sp.width > n ? sp.width - n : 0;
    if (!sp.left) o.repeat(' ', pad);
    for (int i = 0; i < n; ++i) o.put(s[i]);
    if (sp.left) o.repeat(' ', pad);
}

} // namespace

usize vformat(char* buf, usize cap, const char* fmt, va_list ap) {
    Out o{buf, cap};
    for (const char* p = fmt; *p; ++p) {
        if (*p != '%') {
            o.put(*p);
            continue;
        }
        Spec sp;
        for (bool more = true; more;) {
            switch (*++p) {
            case '-':
                sp.left = true;
                break;
            case '0':
                sp.zero = true;
                break;
            case '+':
                sp.plus = true;
                break;
            case ' ':
                sp.space = true;
                break;
            case '#':
                sp.alt = true;
                break;
            default:
                more = false;
            }
        }
        if (*p == '*') {
            sp.width = va_arg(ap, int);
            if (sp.width < 0) {
                sp.left = true;
                sp.width = -sp.width;
            }
            ++p;
        } else {
            while (*p >= '0' && *p <= '9') sp.width = sp.width * 10 + (*p++ - '0');
        }
        if (*p == '.') {
            ++p;
            sp.precision = 0;
            if (*p == '*') {
                sp.precision = va_arg(ap, int);
                ++p;
            } else {
                while (*p >= '0' && *p <= '9') sp.precision = sp.precision * 10 + (*p++ - '0');
            }
        }
        int size = 0; // -2 hh, -1 h, 0 int, 1 long, 2 long long, 3 size_t/intmax/ptrdiff
        for (;; ++p) {
            if (*p == 'h')
                --size;
            else if (*p == 'l')
                ++size;
            else if (*p == 'z' || *p == 'j' || *p == 't')
                size = 3;
            else
                break;
        }
        auto get_signed = [&]() -> i64 {
            switch (size) {
            case 1:
                return va_arg(ap, long);
            case 2:
                return va_arg(ap, long long);
            case 3:
                return static_cast<i64>(va_arg(ap, ptrdiff_t));
            case -1:
                return static_cast<short>(va_arg(ap, int));
            case -2:
                return static_cast<signed char>(va_arg(ap, int));
            default:
                return va_arg(ap, int);
            }
        };
        auto get_unsigned = [&]() -> u64 {
            switch (size) {
            case 1:
                return va_arg(ap, unsigned long);
            case 2:
                return va_arg(ap, unsigned long long);
            case 3:
                return va_arg(ap, size_t);
            case -1:
                return static_cast<unsigned short>(va_arg(ap, unsigned));
            case -2:
                return static_cast<unsigned char>(va_arg(ap, unsigned));
            default:
                return va_arg(ap, unsigned);
            }
        };
        switch (*p) {
        case 'd':
        case 'i': {
            i64 v = get_signed();
            u64 mag = v < 0 ? 0 - static_cast<u64>(v) : static_cast<u64>(v);
            emit_number(o, sp, mag, v < 0, 10, false, "");
            break;
        }
        case 'u':
            emit_number(o, sp, get_unsigned(), false, 10, false, "");
            break;
        case 'x':
        case 'X': {
            u64 v = get_unsigned();
            const char* prefix = sp.alt && v ? (*p == 'x' ? "0x" : "0X") : "";
            emit_number(o, sp, v, false, 16, *p == 'X', prefix);
            break;
        }
        case 'o':
            emit_number(o, sp, get_unsigned(), false, 8, false, sp.alt ? "0" : "");
            break;
        case 'p': {
            auto v = reinterpret_cast<uptr>(va_arg(ap, void*));
            emit_number(o, sp, v, false, 16, false, "0x");
            break;
        }
        case 's':
            emit_string(o, sp, va_arg(ap, const char*));
            break;
        case 'c': {
            char c[2] = {static_cast<char>(va_arg(ap, int)), '\0'};
            Spec one = sp;
            one.precision = 1;
            if (c[0] == '\0') { // a NUL character still occupies its place
                o.repeat(' ', sp.left ? 0 : sp.width - 1);
                o.put('\0');
                o.repeat(' ', sp.left ? sp.width - 1 : 0);
            } else {
                emit_string(o, one, c);
            }
            break;
        }
        case '%':
            o.put('%');
            break;
        case '\0':
            --p;
            break; // a lone '%' at the end
        default:   // unknown conversion: print it verbatim
            o.put('%');
            o.put(*p);
        }
    }
    if (cap) buf[o.len < cap ? o.len : cap - 1] = '\0';
    return o.len;
}

usize format(char* buf, usize cap, const char* fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    usize n = vformat(buf, cap, fmt, ap);
    va_end(ap);
    return n;
}

} // namespace tessera::rt
