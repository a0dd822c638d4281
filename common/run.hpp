// Running the loaded LPARs: ISA setup of each LPAR, the scheduler loop on this physical CPU, and
// the end-of-run report.
#pragma once

#include <tessera/types.hpp>

namespace tessera {

class ChunkPool;
class Lpar;
class LparTable;
struct Config;

struct RunSummary {
    u64 passed = 0; // test checks passed (+1 per LPAR that ended as its config expected)
    u64 failed = 0; // test checks failed (+1 per LPAR that did not)
};

// Starts every Loaded LPAR and runs them, time-sliced, until all have ended; then prints a
// line per LPAR and the summary `N passed, M failed`.
// Enters a Loaded LPAR's vcpus as loading decided (Lpar::boot) and hands them to the scheduler:
// at the start of run_lpars, and for the management hcalls (TLPAR_START) while it runs.
bool start_lpar(Lpar& lpar);

RunSummary run_lpars(LparTable& lpars, const Config& config, ChunkPool& pool);

} // namespace tessera
