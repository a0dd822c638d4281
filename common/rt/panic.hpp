// Fatal hypervisor errors. panic() is for broken hypervisor invariants only, never for bad guest
// input: guests get error codes, misbehaving LPARs are stopped (Lpar::crash), configs get errors.
// Hosted (unit tests, tools): prints to stderr and aborts. Freestanding: prints on the machine
// console and powers the machine off with a failure code.
#pragma once

namespace tessera {

[[noreturn]] void panic(const char* fmt, ...) __attribute__((format(printf, 1, 2)));

} // namespace tessera

#define TESSERA_ASSERT(cond)                                                                       \
    do {                                                                                           \
        if (!(cond)) ::tessera::panic("assertion failed: %s (%s:%d)", #cond, __FILE__, __LINE__);  \
    } while (0)
