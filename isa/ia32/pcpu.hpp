// The per-physical-CPU state of the ia32 backend (isa/ia32/smp.cpp). Each CPU has its own copy
// of the switcher's data page (TSS, the double fault's TSS, IDT, LDT, the saved hypervisor esp
// and cr3), GDT rows page and stack page (the trap frame), mapped at the same switcher
// addresses through its own switcher page tables: every address space a CPU runs on (its
// hypervisor directory, a shadow root, its paging-off directory) has directory slot 1023
// pointing at that CPU's table, so the switcher code is the same on every CPU and no guest ever
// maps another CPU's pages.
// In hypervisor context a CPU reaches its own copies at their switcher addresses.
//
// Ownership: a CPU's Pcpu is written only by that CPU, except what the boot CPU sets up before
// it starts the CPU, and nopg_lpar, which lpar_teardown clears under the core lock.
#pragma once

#include <arch/state.hpp>
#include <tessera/types.hpp>

namespace tessera {
class Lpar;
class Vcpu;
} // namespace tessera

namespace tessera::arch {

// Physical CPUs the hypervisor can run on: the boot CPU and up to 7 application processors.
inline constexpr u32 kMaxCpus = 8;
inline constexpr usize kApStackSize = 64 * KiB;

struct Pcpu {
    u8* data = nullptr;            // its switcher data page (identity address)
    u8* gdt_rows = nullptr;        // its GDT rows page (isa/ia32/gdt_rows.hpp)
    u8* stack = nullptr;           // its switcher stack page
    u32* switcher_pt = nullptr;    // the switcher as the guests' address spaces map it here
    u32* hv_switcher_pt = nullptr; // as its hypervisor directory maps it (tables writable)
    u32* hv_dir = nullptr;         // its hypervisor page directory (cr3)
    // The paging-off directory of nopg_lpar as this CPU runs it (the LPAR's, with slot 1023).
    u32* nopg_dir = nullptr;
    const Lpar* nopg_lpar = nullptr;
    u8* df_stack_top = nullptr; // the double fault task's stack
    // %gs's block: word 0 the CPU's index (arch::cpu_index), word 5 the stack guard that
    // Debian's libfdt reads at %gs:0x14.
    u32 gs_block[8] = {};
    const Vcpu* fpu_owner = nullptr; // whose x87/SSE state the registers hold (isa/ia32/fpu.cpp)
    bool ldt_loaded = false;         // the LDTR names X86_LDT (else it is null)
    u64 gdt_window_gen = 0;          // tables_gen of the GDT window loaded (0: unknown)
    u8 gdt_row = 0;                  // the GDT row loaded (gdt_rows.hpp; 0xff: not known)
    u64 gdt_made[kGdtRows] = {};     // what each row was made from (gdt_rows.hpp GdtRows)
    u32 dr_loaded[4] = {};           // what DR0-DR3 hold (isa/ia32/debug_cpu.cpp)
    u32 sysenter_cs = 0;             // the CPU's SYSENTER_CS (isa/ia32/sysenter.cpp)
    u64 direct_seq = 0; // DirectGates::seq of the direct gates in its IDT (0: the hypervisor's)
    u64 fast_seq = 0;   // VcpuState::fast_seq of the switcher rows in its data page (0: none)
};

Pcpu& pcpu(u32 index);
// Points CPU `index`'s Pcpu at its pages and tables (isa/ia32/smp.cpp; CPU 0's data and stack
// pages are the ones in switcher.S).
Pcpu& pcpu_init(u32 index);
inline Pcpu& this_pcpu() {
    u32 index;
    asm volatile("movl %%gs:0, %0" : "=r"(index));
    return pcpu(index);
}

// This CPU's copy of a switcher data or stack page object (`sym` names CPU 0's in switcher.S)
// at its identity address: for setting up a CPU before paging is on.
u8* pcpu_object(u32 index, const void* sym);

// Builds CPU `index`'s tables (GDT, TSS, IDT, page tables; isa/ia32/gdt.cpp) and loads them on
// the CPU that calls load_cpu_tables (paging on at the end).
void build_cpu_tables(u32 index);
void load_cpu_tables(u32 index);

// The boot CPU prepares every application processor's tables and stack before starting them:
// where the trampoline (isa/ia32/ap_boot.S) finds its stacks, and the 32-bit entry.
void prepare_secondaries();
// The paging-off directory of `lpar` for this CPU (a copy with this CPU's switcher), and the
// forgetting of an LPAR's copies when it goes (lpar_teardown).
u32 nopg_dir_for(const Lpar& lpar, const u32* lpar_dir);
void nopg_forget(const Lpar& lpar);
// Sets entry `index` of this CPU's copy when it runs lpar's directory; true when that changed it.
bool nopg_update(const Lpar& lpar, u32 index, u32 pde);

} // namespace tessera::arch
