// vty hcalls: H_PUT_TERM_CHAR and H_GET_TERM_CHAR on the caller's LPAR's terminal.
//
// H_PUT_TERM_CHAR(termno, len, hi, lo): len <= 16 bytes packed most-significant byte first:
//   byte 0 is bits 63..56 of `hi`, byte 7 bits 7..0 of `hi`, byte 8 bits 63..56 of `lo`.
// H_GET_TERM_CHAR(termno) -> rets[0] = count, rets[1] / rets[2] = the bytes packed the same way
//   (unused bytes are 0). No input waiting: count 0 and H_SUCCESS.
// termno 0 is the LPAR's first vty too (QEMU's spapr does the same for early consoles).
// Another terminal number, or len > 16: H_PARAMETER.
// H_VTERM_PARTNER_INFO is not implemented (H_FUNCTION): there are no partner terminals.
#pragma once

#include <tessera/types.hpp>

#include "hcall/dispatch.hpp"

namespace tessera::hcall {

Ret h_put_term_char(Env& env, Frame& frame);
Ret h_get_term_char(Env& env, Frame& frame);

// The register packing above; len <= 16.
constexpr void unpack_term_bytes(u64 hi, u64 lo, u8* out, usize len) {
    for (usize i = 0; i < len; ++i)
        out[i] = static_cast<u8>((i < 8 ? hi : lo) >> (56 - 8 * (i % 8)));
}
constexpr void pack_term_bytes(const u8* in, usize len, u64& hi, u64& lo) {
    hi = 0;
    lo = 0;
    for (usize i = 0; i < len; ++i) (i < 8 ? hi : lo) |= u64{in[i]} << (56 - 8 * (i % 8));
}

} // namespace tessera::hcall
