// H_PAGE_INIT(flags, dest, src): the hypervisor zeroes or copies one 4 KiB logical page of the
// caller's LPAR and, when asked, makes the instruction cache coherent with it (PAPR; the same as
// QEMU's pseries).
//   flags: kZeroPage, kCopyPage (copy wins when both are set), kIcacheInvalidate,
//          kIcacheSynchronize; any other bit -> H_PARAMETER.
//   dest (and src with kCopyPage): 4 KiB-aligned logical addresses inside the LPAR, else
//          H_PARAMETER; nothing is written then.
#pragma once

#include "hcall/dispatch.hpp"

namespace tessera::hcall {

namespace page_init {
inline constexpr u64 kIcacheInvalidate = u64{1} << (63 - 40);
inline constexpr u64 kIcacheSynchronize = u64{1} << (63 - 41);
inline constexpr u64 kZeroPage = u64{1} << (63 - 48);
inline constexpr u64 kCopyPage = u64{1} << (63 - 49);
inline constexpr u64 kPageSize = 4096;
} // namespace page_init

Ret h_page_init(Env& env, Frame& frame);

} // namespace tessera::hcall
