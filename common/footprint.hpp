// The hypervisor's memory footprint, printed once at the end of a run (common/boot.cpp) as one
// line that scripts/compare parses:
//   tessera: footprint image 33536 KiB, runtime 512 KiB (image: 511 KiB text+data+alignment,
//   33025 KiB .bss; runtime: NOTE)                                   <- one line in reality
// `runtime` is "n/a" when the ISA does not count it; NOTE is arch::Footprint::runtime_note.
// Sizes are rounded up to whole KiB.
#pragma once

#include <tessera/arch.hpp>
#include <tessera/types.hpp>

namespace tessera {

// Like rt::format: writes at most cap-1 characters plus a terminator (cap > 0), no newline,
// and returns the length the full line would have had.
usize format_footprint(char* buf, usize cap, const Footprint& f);

// The accounting line printed after it (scripts/soak checks it):
//   tessera: translation structures held after the run: 0 bytes (NOTE)
// or, when the ISA does not count them, "... held after the run: n/a". As format_footprint.
usize format_held(char* buf, usize cap, const Footprint& f);

} // namespace tessera
