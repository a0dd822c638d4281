// The end of an LPAR's life as far as machine resources go: its translation structures (HTAB
// and LPID, ia32 page directory and shadow tables) and its chunks go back to the machine, and
// its vty leaves the machine console. Called by the run loop when an LPAR ends and by the
// management hcalls (forced stop, destroy); safe to call more than once.
#pragma once

namespace tessera {

class ChunkPool;
class Lpar;

// Releases what the LPAR holds; the second and later calls do nothing. The chunks are zeroed
// again before anyone else gets them (ChunkPool::allocate).
void release_lpar(Lpar& lpar, ChunkPool& pool);

} // namespace tessera
