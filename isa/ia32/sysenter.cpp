#include "isa/ia32/sysenter.hpp"

#include "common/lpar.hpp"
#include "isa/ia32/cpu.hpp"
#include "isa/ia32/descriptor.hpp"

namespace tessera::arch {
namespace {

constexpr u8 kConforming = 0x04;
constexpr u64 kDefault32 = u64{1} << 54; // the D bit of a code segment: 32-bit
constexpr u32 kSelTi = 4;

} // namespace

SysenterTarget sysenter_target(u32 cs_msr, u32 eip, u32 esp, u64 code, u64 stack) {
    // SYSENTER_CS 0 is #GP(0) on the CPU; an LDT selector would name what the CPU's LDT holds
    // while the vcpu runs, which the trampoline's iret does not check against our validation.
    if ((cs_msr & 0xfff8) == 0 || (cs_msr & kSelTi)) return {};
    const bool code_ok = desc::present(code) && desc::is_code(code) && desc::dpl(code) == 1 &&
                         !(desc::access(code) & kConforming) && (code & kDefault32) &&
                         eip <= desc::limit_bytes(code);
    const bool stack_ok = desc::present(stack) && desc::is_data(stack) &&
                          (desc::access(stack) & desc::kWritable) && desc::dpl(stack) == 1;
    if (!code_ok || !stack_ok) return {};
    const u32 cs = (cs_msr & 0xfff8) | 1;
    return {eip, cs, esp, cs + 8};
}

SysenterTarget sysenter_for(const Vcpu& v) {
    const u32 cs_msr = v.arch.sysenter_cs & 0xffff;
    const u32 cs = (cs_msr & 0xfff8) | 1;
    return sysenter_target(cs_msr, v.arch.sysenter_eip, v.arch.sysenter_esp, descriptor_of(v, cs),
                           descriptor_of(v, cs + 8));
}

} // namespace tessera::arch
