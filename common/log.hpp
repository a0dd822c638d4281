// The hypervisor's own messages on the machine console.
#pragma once

#include <tessera/types.hpp>

namespace tessera {

// printf-style; one call is written as one piece (lines longer than 512 bytes are cut).
void log(const char* fmt, ...) __attribute__((format(printf, 1, 2)));
void log_write(const char* s, usize n);

} // namespace tessera
