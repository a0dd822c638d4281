// Host versions of what the ia32 logic under test (descriptor, guest_mmu, shadow, trap, emulate)
// reaches but the image defines elsewhere (isa/ia32/gdt.cpp, lpar.cpp, shadow_pool.cpp, the
// TSC): a fixed switcher PDE, a small real GDT with the hypervisor's and the flat guest
// selectors of arch/x86.hpp, a shadow pool with fake low real addresses, a settable TSC.
#include "tests/unit/ia32/host_hooks.hpp"

#include "common/lpar.hpp"
#include "isa/ia32/cpu.hpp"
#include "isa/ia32/shadow.hpp"

#include <arch/x86.hpp>

namespace tessera::arch {

namespace fake {

u64 tsc = 0;

namespace {
alignas(4096) u32 pool[kShadowPoolPages][1024];
} // namespace

u32* shadow_page_at(u32 real) {
    if (real < kShadowRealBase || (real & 0xfff) != 0) return nullptr;
    const usize index = (real - kShadowRealBase) / 4096;
    return index < kShadowPoolPages ? pool[index] : nullptr;
}

} // namespace fake

u32* shadow_pool_page(usize index) {
    return fake::pool[index];
}
u32 shadow_page_real(usize index) {
    return fake::kShadowRealBase + static_cast<u32>(index) * 4096;
}

u32 switcher_pde() {
    return fake::kSwitcherPde;
}

// Indices kGuestGdtEntries.. of the real GDT (below them is the guest's window, which the logic
// reads from the vcpu's own copy).
u64 gdt_descriptor(unsigned index) {
    switch (index * 8) {
    case X86_HV_CODE:
        return fake::kFlatCode0;
    case X86_HV_DATA:
        return fake::kFlatData0;
    case X86_TSS:
        return 0x0000890000000067ull; // a 32-bit available TSS at DPL 0
    case X86_GUEST_KCODE & ~3u:
        return fake::kFlatCode1;
    case X86_GUEST_KDATA & ~3u:
        return fake::kFlatData1;
    case X86_GUEST_UCODE & ~3u:
        return fake::kFlatCode3;
    case X86_GUEST_UDATA & ~3u:
        return fake::kFlatData3;
    default:
        return 0;
    }
}

u64 timebase() {
    return fake::tsc;
}

u32 cpu_index() { // these tests run on the boot CPU
    return 0;
}

void vcpu_init(Vcpu& vcpu, LogicalAddr entry, const u64* args, usize nargs) {
    vcpu.arch.regs.eip = static_cast<u32>(entry.value());
    u32* const regs[3] = {&vcpu.arch.regs.eax, &vcpu.arch.regs.edx, &vcpu.arch.regs.ecx};
    for (usize i = 0; i < nargs && i < 3; ++i) *regs[i] = static_cast<u32>(args[i]);
}

} // namespace tessera::arch

namespace tessera::arch {
// The LPAR management hcalls (common/manage.cpp) create and end LPARs through these; no test
// here manages LPARs.
bool lpar_init(Lpar&) {
    return false;
}
void lpar_teardown(Lpar&) {}
bool linux_load(Lpar&, const LinuxImages&, BootEntry&, char*, usize) {
    return false;
}
} // namespace tessera::arch
