// DMA and logical LAN attacks for the soak LPAR (tests/lpar/programs/soak.cpp), from an LPAR with
// an l-lan adapter (`lan =`, unit address and LIOBN 0x30000002): random TCE hcalls (IOBAs inside,
// at and past the window's end; TCEs naming its DMA pages, the page past its memory, huge
// addresses, reserved bits, and other pages of its own without access), registrations with good
// and bad areas, receive buffers and frames with random descriptors to the other soak LPARs, to
// broadcast and to no one. Only the DMA pages are ever mapped with access; a canary area next to
// them must never change, whatever the other LPARs send. Every status must be a PAPR code.
#pragma once

#include "lpar.hpp"

namespace lpar::vio_attack {

struct Counts {
    u64 hcalls = 0;     // TCE and LAN hcalls made
    u64 accepted = 0;   // of them H_SUCCESS
    u64 frames = 0;     // H_SEND_LOGICAL_LAN that returned H_SUCCESS
    u64 bad_status = 0; // not a PAPR code
    u64 canary_hit = 0; // rounds after which the canary had changed
};

// Whether this LPAR has the adapter (H_VIO_SIGNAL on it answers H_SUCCESS).
bool available();
// Fills the canary; call once before the first round.
void prepare();
// One round of `calls` hcalls; adds to `c`.
void round(Lcg& rng, const Boot& b, unsigned calls, Counts& c);

} // namespace lpar::vio_attack
