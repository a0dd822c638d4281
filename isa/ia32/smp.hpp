// ia32 side of several physical CPUs: the application processors' start code and tables. The
// platform (plat/pc/smp.cpp) sends INIT-SIPI-SIPI and owns the local APIC.
#pragma once

#include <tessera/types.hpp>

namespace tessera::arch {

// Set in the arrivals word once the boot CPU stops counting: a later processor parks itself.
inline constexpr u32 kApClosed = 0x80000000u;

// Builds the tables of CPUs 1..kMaxCpus-1 and copies the real-mode start code to
// X86_AP_TRAMPOLINE with its parameters: each processor that runs it takes the next index
// (1, 2, ...) and its stack, or parks (cli; hlt) past `max_index` or once closed. False when
// the code does not fit its page.
bool install_trampoline(u32 max_index);
// How many processors took an index so far.
u32 trampoline_arrivals();
// Stops the counting: returns how many took an index (each of them goes on to
// pc_secondary_main); any later one parks.
u32 close_trampoline();

} // namespace tessera::arch

extern "C" {
// The application processor's entry (isa/ia32/ap_boot.S -> smp.cpp), and the platform's part,
// called once its tables are loaded and paging is on.
[[noreturn]] void ia32_ap_main(tessera::u32 index);
[[noreturn]] void pc_secondary_main(tessera::u32 index);
}
