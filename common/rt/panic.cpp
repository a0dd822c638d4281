#include "common/rt/panic.hpp"

#include <stdarg.h>

#if defined(TESSERA_FREESTANDING)
#include "common/rt/format.hpp"
#include <tessera/arch.hpp>
#else
#include <cstdio>
#include <cstdlib>
#endif

namespace tessera {

void panic(const char* fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
#if defined(TESSERA_FREESTANDING)
    static char buf[256];
    static const char head[] = "\nTESSERA PANIC: ";
    plat::console_write(head, sizeof(head) - 1);
    usize n = rt::vformat(buf, sizeof(buf), fmt, ap);
    plat::console_write(buf, n < sizeof(buf) ? n : sizeof(buf) - 1);
    plat::console_write("\n", 1);
    va_end(ap);
    plat::power_off(1);
#else
    std::fputs("TESSERA PANIC: ", stderr);
    std::vfprintf(stderr, fmt, ap);
    std::fputc('\n', stderr);
    va_end(ap);
    std::abort();
#endif
}

} // namespace tessera
