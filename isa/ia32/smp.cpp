// The ia32 backend's physical CPUs (isa/ia32/pcpu.hpp): their pages and tables, the index of
// the running CPU, and what the application processors' start code (isa/ia32/ap_boot.S) needs.
// The platform (plat/pc/smp.cpp) starts them with INIT-SIPI-SIPI and owns the local APIC.
#include "isa/ia32/smp.hpp"

#include "common/lpar.hpp"
#include "isa/ia32/cpu.hpp"
#include "isa/ia32/pcpu.hpp"

#include <arch/x86.hpp>
#include <tessera/arch.hpp>
#include <tessera/hot.hpp>

extern "C" {
extern char sw_data[], sw_gdt[], sw_stack[];
extern const char ap_trampoline[], ap_trampoline_end[];
// The trampoline's parameters (isa/ia32/ap_boot.S), in the copy below 1 MiB.
extern tessera::u32 ap_arrivals, ap_max_index, ap_stack_base, ap_stack_size, ap_entry;
}

namespace tessera::arch {
namespace {

constexpr usize kDfStackSize = 8192;

// Written by the boot CPU before the application processors start (they read them only).
Pcpu cpus[kMaxCpus];
alignas(4096) u8 ap_data[kMaxCpus - 1][4096];  // CPU 0's: sw_data in switcher.S
alignas(4096) u8 ap_gdt[kMaxCpus - 1][4096];   // CPU 0's: sw_gdt
alignas(4096) u8 ap_stack[kMaxCpus - 1][4096]; // CPU 0's: sw_stack
alignas(4096) u32 switcher_pts[kMaxCpus][1024];
alignas(4096) u32 hv_switcher_pts[kMaxCpus][1024];
alignas(4096) u32 hv_dirs[kMaxCpus][1024];
alignas(4096) u32 nopg_dirs[kMaxCpus][1024];
alignas(16) u8 df_stacks[kMaxCpus][kDfStackSize];
alignas(16) u8 ap_stacks[kMaxCpus - 1][kApStackSize]; // CPU 0 runs on entry.S's boot stack

// The trampoline's copy below 1 MiB (identity-mapped) and a parameter in it.
u32& param(u32& sym) {
    const uptr off = reinterpret_cast<uptr>(&sym) - reinterpret_cast<uptr>(ap_trampoline);
    return *reinterpret_cast<u32*>(X86_AP_TRAMPOLINE + off);
}

} // namespace

TESSERA_HOT Pcpu& pcpu(u32 index) {
    return cpus[index < kMaxCpus ? index : 0];
}

Pcpu& pcpu_init(u32 index) {
    Pcpu& p = cpus[index];
    p.data = index == 0 ? reinterpret_cast<u8*>(sw_data) : ap_data[index - 1];
    p.gdt_rows = index == 0 ? reinterpret_cast<u8*>(sw_gdt) : ap_gdt[index - 1];
    p.stack = index == 0 ? reinterpret_cast<u8*>(sw_stack) : ap_stack[index - 1];
    p.switcher_pt = switcher_pts[index];
    p.hv_switcher_pt = hv_switcher_pts[index];
    p.hv_dir = hv_dirs[index];
    p.nopg_dir = nopg_dirs[index];
    p.nopg_lpar = nullptr;
    p.df_stack_top = df_stacks[index] + kDfStackSize;
    return p;
}

u8* pcpu_object(u32 index, const void* sym) {
    const uptr a = reinterpret_cast<uptr>(sym);
    const uptr data = reinterpret_cast<uptr>(sw_data), stack = reinterpret_cast<uptr>(sw_stack);
    const uptr gdt = reinterpret_cast<uptr>(sw_gdt);
    const Pcpu& p = cpus[index];
    if (a >= data && a < data + 4096) return p.data + (a - data);
    if (a >= gdt && a < gdt + 4096) return p.gdt_rows + (a - gdt);
    return p.stack + (a - stack);
}

TESSERA_HOT u32 cpu_index() {
    u32 index;
    asm volatile("movl %%gs:0, %0" : "=r"(index));
    return index;
}

bool install_trampoline(u32 max_index) {
    const usize size = static_cast<usize>(ap_trampoline_end - ap_trampoline);
    if (size > 4096) return false;
    for (u32 i = 1; i < kMaxCpus; ++i) build_cpu_tables(i);
    __builtin_memcpy(reinterpret_cast<void*>(X86_AP_TRAMPOLINE), ap_trampoline, size);
    param(ap_arrivals) = 0;
    param(ap_max_index) = max_index < kMaxCpus ? max_index : kMaxCpus - 1;
    param(ap_stack_base) = static_cast<u32>(reinterpret_cast<uptr>(ap_stacks[0]));
    param(ap_stack_size) = kApStackSize;
    param(ap_entry) = static_cast<u32>(reinterpret_cast<uptr>(&ia32_ap_main));
    asm volatile("" ::: "memory");
    return true;
}

u32 trampoline_arrivals() {
    return __atomic_load_n(&param(ap_arrivals), __ATOMIC_ACQUIRE) & ~kApClosed;
}

u32 close_trampoline() {
    return __atomic_fetch_or(&param(ap_arrivals), kApClosed, __ATOMIC_ACQ_REL) & ~kApClosed;
}

u32 nopg_dir_for(const Lpar& lpar, const u32* lpar_dir) {
    Pcpu& p = this_pcpu();
    if (p.nopg_lpar != &lpar) {
        for (u32 i = 0; i < 1023; ++i)
            p.nopg_dir[i] = __atomic_load_n(&lpar_dir[i], __ATOMIC_RELAXED);
        p.nopg_lpar = &lpar;
    }
    p.nopg_dir[1023] = switcher_pde();
    return static_cast<u32>(reinterpret_cast<uptr>(p.nopg_dir));
}

bool nopg_update(const Lpar& lpar, u32 index, u32 pde) {
    Pcpu& p = this_pcpu();
    if (p.nopg_lpar != &lpar || index >= 1023 || p.nopg_dir[index] == pde) return false;
    p.nopg_dir[index] = pde; // was not present: nothing of it is in the TLB
    return true;
}

void nopg_forget(const Lpar& lpar) {
    for (Pcpu& p : cpus)
        if (p.nopg_lpar == &lpar) p.nopg_lpar = nullptr;
}

} // namespace tessera::arch

// An application processor, on its own stack with the trampoline's flat segments, paging off
// (isa/ia32/ap_boot.S): its tables, its FPU, then the platform's part.
extern "C" [[noreturn]] void ia32_ap_main(tessera::u32 index) {
    using namespace tessera;
    arch::load_cpu_tables(index);
    arch::fpu_init();
    pc_secondary_main(index);
}
