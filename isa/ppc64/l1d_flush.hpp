// The L1D flush before every entry to a guest (cpu_char.hpp, hv_l1d_flush): chosen once for the
// machine, kept in each CPU's Pcpu for the vectors (isa/ppc64/vectors.S, L1D_FLUSH); and the
// boot-time step that also sets what the guests are told (cpu_char.hpp).
#pragma once

#include "isa/ppc64/cpu_char.hpp"
#include "isa/ppc64/pcpu.hpp"

namespace tessera::arch {

// The machine's speculation facts, applied once by the boot CPU after it read the host tree and
// before the secondaries start: its firmware's fw-features and its L1D size in bytes (the
// tree's d-cache-size; 0: POWER8's 64 KiB), with this CPU's PVR. Sets what
// H_GET_CPU_CHARACTERISTICS answers and how the vectors flush the L1D (this CPU's Pcpu at once),
// and logs both.
void init_speculation(const FwFeatures& fw, u64 l1d_bytes);

// This CPU's Pcpu fields from what init_speculation chose (cpu_init).
void load_l1d_flush(Pcpu& pcpu);

} // namespace tessera::arch
