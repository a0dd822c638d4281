// The ppc64 backend's own hcalls (the HTAB calls, isa/ppc64/mmu_hcalls.hpp) merged into the
// dispatch table. Each entry finds the calling LPAR's HTAB and logical memory and runs the
// handler on them; an LPAR without an HTAB (not set up by lpar_init) gets H_FUNCTION.
#pragma once

#include "common/lpar.hpp"
#include "hcall/dispatch.hpp"
#include "isa/ppc64/cpu_hcalls.hpp"
#include "isa/ppc64/mmu_hcalls.hpp"
#include <tessera/hot.hpp>

// Lets a test that is compiled against either <arch/hcalls.hpp> see which one it got.
#define TESSERA_ARCH_PPC64_HCALLS 1

namespace tessera::arch {

namespace detail {
template <hcall::Ret (*Fn)(MmuContext&, hcall::Frame&)>
TESSERA_HOT hcall::Ret on_htab(hcall::Env& env, hcall::Frame& frame) {
    Htab& htab = env.lpar.arch.htab;
    if (!htab.ready()) return hcall::H_FUNCTION;
    MmuContext m{htab, env.lpar.memory};
    return Fn(m, frame);
}
} // namespace detail

// The first kHtabHcallCount entries are the HTAB calls (changes_only_htab below).
// clang-format off
inline constexpr hcall::Entry kIsaHcalls[] = {
    {hcall::H_REMOVE,      &detail::on_htab<&h_remove>},
    {hcall::H_ENTER,       &detail::on_htab<&h_enter>},
    {hcall::H_READ,        &detail::on_htab<&h_read>},
    {hcall::H_CLEAR_MOD,   &detail::on_htab<&h_clear_mod>},
    {hcall::H_CLEAR_REF,   &detail::on_htab<&h_clear_ref>},
    {hcall::H_PROTECT,     &detail::on_htab<&h_protect>},
    {hcall::H_BULK_REMOVE, &detail::on_htab<&h_bulk_remove>},
    {hcall::H_SET_MODE,    &h_set_mode},
    {hcall::H_SET_SPRG0,   &h_set_sprg0},
    {hcall::H_GET_CPU_CHARACTERISTICS, &h_get_cpu_characteristics},
};
// clang-format on
inline constexpr usize kHtabHcallCount = 7;

namespace detail {
// The HTAB calls' numbers by number / 4 (they are all architected): a test is one load.
struct HtabHcalls {
    bool is_htab[hcall::H_MAX_ARCHITECTED / 4 + 1];
};
consteval HtabHcalls make_htab_hcalls() {
    HtabHcalls t{};
    for (usize i = 0; i < kHtabHcallCount; ++i) t.is_htab[kIsaHcalls[i].number / 4] = true;
    return t;
}
inline constexpr HtabHcalls kHtabHcalls = make_htab_hcalls();
} // namespace detail

// The HTAB calls change only the caller's HTAB and the TLBs: they raise no interrupt, wake no
// vcpu, never block and never end the LPAR, so no other CPU has anything new to take after one
// and its caller just resumes (isa/ppc64/run.cpp, hcall_exit.cpp).
constexpr bool changes_only_htab(u64 opcode) {
    return opcode <= hcall::H_MAX_ARCHITECTED && opcode % 4 == 0 &&
           detail::kHtabHcalls.is_htab[opcode / 4];
}
static_assert(changes_only_htab(hcall::H_ENTER) && changes_only_htab(hcall::H_BULK_REMOVE) &&
              changes_only_htab(hcall::H_PROTECT) && !changes_only_htab(hcall::H_SET_MODE) &&
              !changes_only_htab(hcall::H_ENTER + 1) && !changes_only_htab(~u64{0}));

// The interrupt controller's hcalls (PAPR XICS: H_XIRR, H_XIRR_X, H_EOI, H_CPPR, H_IPI,
// H_IPOLL) change only the LPAR's ICPs: they never block and never end the LPAR, but may present
// an interrupt to any of its vcpus (the caller's own included), which the run loop or another
// CPU must then take (hcall_exit.cpp).
constexpr bool is_xics_hcall(u64 opcode) {
    return opcode == hcall::H_XIRR || opcode == hcall::H_XIRR_X || opcode == hcall::H_EOI ||
           opcode == hcall::H_CPPR || opcode == hcall::H_IPI || opcode == hcall::H_IPOLL;
}
static_assert(is_xics_hcall(hcall::H_EOI) && !is_xics_hcall(hcall::H_CEDE) &&
              !is_xics_hcall(hcall::H_ENTER));

} // namespace tessera::arch
