#include "common/log.hpp"

#include "common/rt/format.hpp"
#include <stdarg.h>
#include <tessera/arch.hpp>

namespace tessera {

void log_write(const char* s, usize n) { plat::console_write(s, n); }

void log(const char* fmt, ...) {
    char buf[512];
    va_list ap;
    va_start(ap, fmt);
    usize n = rt::vformat(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    log_write(buf, n < sizeof(buf) ? n : sizeof(buf) - 1);
}

} // namespace tessera
