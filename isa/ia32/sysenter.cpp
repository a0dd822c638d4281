#include "isa/ia32/sysenter.hpp"

#include "common/lpar.hpp"
#include "isa/ia32/cpu.hpp"
#include "isa/ia32/descriptor.hpp"
#include <tessera/hot.hpp>

namespace tessera::arch {
namespace {

constexpr u32 kSelTi = 4;

} // namespace

SysenterTarget sysenter_target(u32 cs_msr, u32 eip, u32 esp, const SysenterSegments& seg) {
    // SYSENTER_CS 0 is #GP(0) on the CPU; an LDT selector would name what the CPU's LDT holds
    // while the vcpu runs, which the trampoline's iret does not check against our validation.
    if ((cs_msr & 0xfff8) == 0 || (cs_msr & kSelTi)) return {};
    using namespace desc;
    // The trampoline's iret loads cs and cs + 8 (sysexit's user segments are the CPU's fixed
    // ones): neither may be an entry the switcher's GDT rows change.
    const u32 cs = (cs_msr & 0xfff8) | 1;
    if (tls_selector(cs) || tls_selector(cs + 8)) return {};
    if (!code32_for_ring(seg.code, 1) || eip > limit_bytes(seg.code) ||
        !stack_for_ring(seg.stack, 1) || !code32_for_ring(seg.user_code, 3) ||
        !stack_for_ring(seg.user_data, 3))
        return {};
    return {eip, cs, esp, cs + 8};
}

TESSERA_HOT SysenterTarget sysenter_for(Vcpu& v) {
    VcpuState& s = v.arch;
    // The same MSRs checked against the same descriptor tables: the same target.
    if (s.sysenter_checked_gen == s.tables_gen && s.tables_gen != 0 &&
        s.sysenter_checked_msrs[0] == s.sysenter_cs &&
        s.sysenter_checked_msrs[1] == s.sysenter_eip &&
        s.sysenter_checked_msrs[2] == s.sysenter_esp)
        return {s.sysenter_checked[0], s.sysenter_checked[1], s.sysenter_checked[2],
                s.sysenter_checked[3]};
    const u32 cs_msr = s.sysenter_cs & 0xffff;
    const u32 cs = cs_msr & 0xfff8;
    const SysenterSegments seg{descriptor_of(v, cs | 1), descriptor_of(v, (cs + 8) | 1),
                               descriptor_of(v, (cs + 16) | 3), descriptor_of(v, (cs + 24) | 3)};
    const SysenterTarget t = sysenter_target(cs_msr, s.sysenter_eip, s.sysenter_esp, seg);
    s.sysenter_checked[0] = t.eip;
    s.sysenter_checked[1] = t.cs;
    s.sysenter_checked[2] = t.esp;
    s.sysenter_checked[3] = t.ss;
    s.sysenter_checked_msrs[0] = s.sysenter_cs;
    s.sysenter_checked_msrs[1] = s.sysenter_eip;
    s.sysenter_checked_msrs[2] = s.sysenter_esp;
    s.sysenter_checked_gen = s.tables_gen;
    return t;
}

} // namespace tessera::arch
