#include "hcall/processor.hpp"

#include "common/lpar.hpp"

namespace tessera::hcall {
namespace {

constexpr u32 kFuncShift = 45;
enum Func : u64 {
    kRegVpa = 1,
    kRegDtl = 2,
    kRegSlb = 3,
    kDeregVpa = 5,
    kDeregDtl = 6,
    kDeregSlb = 7
};
constexpr u64 kVpaMinSize = 640;
constexpr u64 kDtlMinSize = 48;
constexpr u64 kSlbShadowMinSize = 8;
constexpr u64 kCacheLine = 128;

u64 be16(const u8* p) {
    return (u64{p[0]} << 8) | p[1];
}
u64 be32(const u8* p) {
    return (u64{p[0]} << 24) | (u64{p[1]} << 16) | (u64{p[2]} << 8) | p[3];
}

bool one_page(u64 addr, u64 size) {
    return addr / 4096 == (addr + size - 1) / 4096;
}

// The area's size as the guest wrote it at offset 4 (u16 for the VPA, u32 for the others).
bool area_size(const Lpar& lpar, u64 addr, bool vpa, u64& size) {
    u8 b[4];
    if (!lpar.memory.copy_out(b, LogicalAddr(addr + 4), vpa ? 2 : 4)) return false;
    size = vpa ? be16(b) : be32(b);
    return true;
}

} // namespace

Ret h_register_vpa(Env& env, Frame& frame) {
    const u64 flags = frame.args[0], proc = frame.args[1], addr = frame.args[2];
    Lpar& lpar = env.lpar;
    if (proc >= lpar.vcpu_count) return H_PARAMETER;
    Vcpu& v = lpar.vcpus[proc];
    const u64 func = (flags >> kFuncShift) & 7;
    u64 size = 0;
    switch (func) {
    case kRegVpa:
        if (addr == 0 || addr % kCacheLine != 0 || !area_size(lpar, addr, true, size) ||
            size < kVpaMinSize || !one_page(addr, size) ||
            !lpar.memory.contains(LogicalAddr(addr), size))
            return H_PARAMETER;
        v.vpa = addr;
        return H_SUCCESS;
    case kRegDtl:
    case kRegSlb: {
        const u64 min = func == kRegDtl ? kDtlMinSize : kSlbShadowMinSize;
        if (addr == 0 || !area_size(lpar, addr, false, size) || size < min ||
            !one_page(addr, size) || !lpar.memory.contains(LogicalAddr(addr), size))
            return H_PARAMETER;
        if (v.vpa == 0) return H_RESOURCE;
        (func == kRegDtl ? v.dtl : v.slb_shadow) = addr;
        return H_SUCCESS;
    }
    case kDeregVpa:
        if (v.dtl != 0 || v.slb_shadow != 0) return H_RESOURCE;
        v.vpa = 0;
        return H_SUCCESS;
    case kDeregDtl:
        v.dtl = 0;
        return H_SUCCESS;
    case kDeregSlb:
        v.slb_shadow = 0;
        return H_SUCCESS;
    default:
        return H_PARAMETER;
    }
}

Ret h_prod(Env& env, Frame& frame) {
    const u64 proc = frame.args[0];
    if (proc >= env.lpar.vcpu_count) return H_PARAMETER;
    env.lpar.vcpus[proc].prodded = true; // the run loop wakes it if it is ceded
    return H_SUCCESS;
}

Ret h_confer(Env& env, Frame&) {
    env.after = After::Yield;
    return H_SUCCESS;
}

} // namespace tessera::hcall
