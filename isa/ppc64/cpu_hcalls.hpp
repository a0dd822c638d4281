// POWER-specific processor hcalls: H_SET_MODE (interrupt endianness, relocation-on interrupts)
// and H_GET_CPU_CHARACTERISTICS (speculation-related facts for the guest's mitigations).
#pragma once

#include "hcall/dispatch.hpp"

namespace tessera::arch {

// Resources of H_SET_MODE(mflags, resource, value1, value2).
inline constexpr u64 kSetModeCiabr = 1;
inline constexpr u64 kSetModeDawr = 2;
inline constexpr u64 kSetModeAddrTransMode = 3; // mflags = AIL: 0 (off) or 3 (relocation-on)
inline constexpr u64 kSetModeLe = 4;            // mflags 1: little-endian interrupts, 0: big

// H_SET_MODE: LE sets or clears the LPAR's LPCR[ILE] (every vcpu: the LPCR is the LPAR's);
// ADDR_TRANS_MODE sets the LPAR's LPCR[AIL] to 0 or 3 (H_UNSUPPORTED_FLAG for 1 and 2), so its
// interrupts taken with IR and DR on start relocation-on at 0xc000000000004000 + vector
// (guest_interrupt.hpp); CIABR and DAWR are not offered (H_P2); value1/value2 must be 0
// (H_P3/H_P4).
hcall::Ret h_set_mode(hcall::Env& env, hcall::Frame& frame);

// H_GET_CPU_CHARACTERISTICS: rets[0] = characteristics, rets[1] = behaviours, as this machine's
// processor and firmware state them (cpu_char.hpp): the mitigations a kernel running natively
// here would pick.
hcall::Ret h_get_cpu_characteristics(hcall::Env& env, hcall::Frame& frame);

// H_SET_SPRG0(value): the caller's SPRG0 becomes value (the guest may also write it itself with
// mtsprg0; PAPR offers the call for kernels that keep SPRG0 in the hypervisor's hands).
hcall::Ret h_set_sprg0(hcall::Env& env, hcall::Frame& frame);

// Writes the calling vcpu's SPRG0 where it lives while an hcall runs: the CPU's register (the
// image, isa/ppc64/cpu_ops.cpp) or a host test's record of it.
void set_live_sprg0(Vcpu& vcpu, u64 value);

} // namespace tessera::arch
