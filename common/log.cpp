#include "common/log.hpp"

#include "common/console.hpp"
#include "common/rt/format.hpp"

#include <stdarg.h>

namespace tessera {

// Through the multiplexer, so that an LPAR's partial line is ended cleanly before our message.
void log_write(const char* s, usize n) {
    console::mux().write_hypervisor(s, n);
}

void log(const char* fmt, ...) {
    char buf[512];
    va_list ap;
    va_start(ap, fmt);
    usize n = rt::vformat(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    log_write(buf, n < sizeof(buf) ? n : sizeof(buf) - 1);
}

} // namespace tessera
