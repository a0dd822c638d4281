// The ISA side of the bench program's page-mapping figures (programs/bench.cpp,
// docs/compare.md): each ISA's tests/lpar/isa/<isa>/bench_isa.cpp makes guest pages usable
// through new translations and takes them away again, the way that ISA's guests do it:
//   ppc64: H_ENTER of a 4 KiB HPTE into the LPAR's HTAB, then H_REMOVE of it (PAPR);
//   ia32:  a guest PTE written and the page touched, so that the hypervisor fills its shadow
//          entry on the first touch (#PF exit); then the PTE cleared and invlpg (#GP exit).
// The bench times bench_map_page() over all pages, then bench_unmap_page() over all pages, so
// the hooks should do nothing but the mapping work (no checks, no printing).
#pragma once

#include "lpar.hpp"

namespace lpar::isa {

inline constexpr unsigned kBenchMapMaxPages = 64;

// Prepares `pages` (<= kBenchMapMaxPages) distinct page mappings: scratch pages in the LPAR's
// memory, translation slots. Returns false with the reason in `why` when this ISA or build
// cannot map guest pages from a test LPAR (the figure is then "n/a: <why>").
bool bench_map_setup(const Boot& boot, unsigned pages, char* why, usize cap);
// Maps page i (< pages) / takes that mapping away again. False when the hypervisor refused,
// with the reason in `why` (only written on failure).
bool bench_map_page(unsigned i, char* why, usize cap);
bool bench_unmap_page(unsigned i, char* why, usize cap);

} // namespace lpar::isa
