// The L1D flush before every entry to a guest (cpu_char.hpp, hv_l1d_flush): chosen once for the
// machine, kept in each CPU's Pcpu for the vectors (isa/ppc64/vectors.S, L1D_FLUSH).
#pragma once

#include "isa/ppc64/cpu_char.hpp"
#include "isa/ppc64/pcpu.hpp"

namespace tessera::arch {

// The machine's way and its L1D size in bytes (the host tree's d-cache-size; 0: POWER8's 64 KiB).
// Called by the boot CPU before the secondaries start; until then the displacement flush over
// 64 KiB.
void set_l1d_flush(L1dFlush how, u64 l1d_bytes);

// This CPU's Pcpu fields from what set_l1d_flush chose (cpu_init; the boot CPU once more after
// set_l1d_flush).
void load_l1d_flush(Pcpu& pcpu);

} // namespace tessera::arch
