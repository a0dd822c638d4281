// printf-style formatting into a caller's buffer, the same code hosted and freestanding.
// Supports flags '-', '0', '+', ' ', '#', a width and precision (or '*'), the length modifiers
// hh h l ll z j t, and the conversions d i u x X o p s c %.
#pragma once

#include <stdarg.h>
#include <tessera/types.hpp>

namespace tessera::rt {

// Like vsnprintf: writes at most cap-1 characters plus a terminator (when cap > 0) and returns
// the length the full output would have had.
usize vformat(char* buf, usize cap, const char* fmt, va_list ap);
usize format(char* buf, usize cap, const char* fmt, ...) __attribute__((format(printf, 3, 4)));

} // namespace tessera::rt
