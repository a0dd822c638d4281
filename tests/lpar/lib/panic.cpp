// tessera::panic for test LPARs: common/rt/abi/libc.cpp (the C names the compiler may call, shared
// with the hypervisor image) reports impossible states through it. Here it says so on the
// console and ends the LPAR with one failed check.
#include "common/rt/panic.hpp"
#include "lpar.hpp"

#include <stdarg.h>

namespace tessera {

void panic(const char* fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    lpar::print("FAIL - test LPAR panic: ");
    lpar::vprint(fmt, ap);
    lpar::print("\n");
    va_end(ap);
    lpar::hcall(hcall::H_TESSERA_TEST_EXIT, 0, 1);
    for (;;) {
    }
}

} // namespace tessera
