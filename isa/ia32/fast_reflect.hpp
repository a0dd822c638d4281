// A process's own faults reflected by the switcher, without an exit (docs/ia32.md, "A
// process's faults without an exit").
//
// Most page faults a process takes are its kernel's business: the page is not mapped yet, or
// mapped without the access (copy-on-write, a guard page, a SIGSEGV); so is every general
// protection fault of a process (a privileged instruction, a bad selector). The hypervisor
// learns that for a page fault by walking the guest's tables, and reflects the fault; under
// QEMU that exit costs more than the rest of the operation, since its two cr3 loads empty the
// software TLB and the jump cache. The switcher (switcher.S, sw_pf and sw_gp) reflects them
// itself for a process (ring 3, not virtual-8086 mode), and a #PF of the guest kernel (ring 1)
// too, without leaving the guest's address space:
//   - a #GP whose error code does not name an IDT entry (an `int n` the CPU refused is the
//     hypervisor's to emulate with the guest's rules, handle_gp);
//   - a #PF the guest's own entries deny (not present, a supervisor page for ring 3, a write to
//     a read-only page), found by the hypervisor's walk (guest_mmu.cpp) done on entries read at
//     the fault: this CPU's switcher map has, read-only, the running vcpu's guest page
//     directory and up to X86_FR_TABLES of its page tables (rows: directory index and entry as
//     the hypervisor last walked them); a table is read only when its directory entry is a
//     row's entry unchanged, so that it is the table mapped. An access the entries allow (a
//     shadow fill) or a table not mapped goes to the hypervisor, which then remembers the table.
// The reflection is reflect()'s: the CPU's frame on the guest's ring-1 stack (from ring 3 under
// its TSS esp0, as the direct gates have it; from ring 1 under the interrupted esp, which must
// keep it below X86_SWITCHER_VA), the virtual IF cleared for an interrupt gate, for a #PF its
// address in the interrupt-flag page's cr2 word (mapped read-write), and an iret to the guest's
// handler.
//
// What may go wrong stays contained: the switcher's stores to the ring-1 stack go through the
// guest's shadow at ring 0 (CR0.WP: read-only is read-only), below X86_SWITCHER_VA; one that
// faults gives the fault to the hypervisor after all (the frame's page was not in the shadow).
// The slots map only pages of the running vcpu's LPAR, translated at every entry, or nothing: a
// guest's ring 1 can read the switcher's map, so no entry ever leaves another LPAR's page
// there. While the hypervisor single-steps (an interrupt shadow) or the guest's breakpoints are
// armed, it is off for that entry.
#pragma once

#include <arch/state.hpp>
#include <arch/x86.hpp>
#include <tessera/types.hpp>

namespace tessera {
class Vcpu;
}

namespace tessera::arch {

// The switcher's block (switcher.S sw_fast_reflect, this CPU's data page, read-only for guests).
struct FastReflect {
    u32 on = 0;    // 0: every fault is the hypervisor's
    u32 root = 0;  // the shadow directory (cr3) the rows are for
    u32 frame = 0; // linear address of the 6-word frame under the ring-1 stack's top
    u32 ss = 0;    // the ring-1 stack segment
    u32 virq = 0;  // switcher address of the interrupt-flag word (kVirqCr2: 8 bytes on)
    // The guest's gates, kReflectVectors' order (#PF, #GP); handler 0: that one is off.
    struct Gate {
        u32 handler = 0;
        u32 cs = 0;       // RPL 1
        u32 clear_if = 0; // an interrupt gate: the virtual IF goes off
        bool operator==(const Gate&) const = default;
    } gates[kReflectVectorCount];
    struct Row {
        u32 index = ~0u; // directory index (~0: none)
        u32 pde = 0;     // its entry without A, as walked: the table at its slot
        bool operator==(const Row&) const = default;
    } rows[X86_FR_TABLES];
    bool operator==(const FastReflect&) const = default;
};
static_assert(sizeof(FastReflect) == 4 * (X86_FR_WORDS + X86_FR_TABLES * X86_FR_ROW_WORDS));

// The block and this CPU's slot entries (X86_FR_SLOT..: directory, tables, flag page) for an
// entry of v on shadow directory `root` (0: paging off); `step`: the hypervisor single-steps.
struct FastReflectImage {
    FastReflect block{};
    u32 slots[2 + X86_FR_TABLES] = {};
};
FastReflectImage fast_reflect_image(Vcpu& v, u32 root, bool step);
// After the hypervisor reflected a page fault at va from ring 3 or 1: the table of va's directory
// entry is remembered (replacing the oldest row) when the entry is present and not a 4 MiB page.
void fast_reflect_note(Vcpu& v, u32 va);
// After H_IA32_FORK_MM made the child's space (ctx, child_cr3): the child's tables at the
// directory indexes of the parent's most recent rows (at most half the rows) get rows of their
// own, so that the child's first faults there (its copy-on-write writes) are the switcher's
// too, not an exit each.
void fast_reflect_fork(Vcpu& v, u32 child_cr3, u64 ctx);
// Forgets the rows (a vcpu starting again).
void fast_reflect_forget(VcpuState& s);

// This CPU's block and slots (isa/ia32/fast_reflect_cpu.cpp), written where they differ; and
// after an exit, what the switcher reflected since the entry (zeroed).
void fast_reflect_install(const FastReflectImage& image);
struct FastReflected {
    u32 page_faults = 0;
    u32 last_va = 0; // the last page fault's address (the vcpu's cr2)
    u32 gp_faults = 0;
};
FastReflected fast_reflect_taken();
// The switcher keeps its counts (switcher.S sw_reflected: page faults, the last one's address,
// #GPs) in its stack page, which ring 1 can write as ring 0 does: a guest may put anything
// there. So a count read at an exit is bounded by what one entry could reflect: an entry lasts
// one slice at most (100 ms, common/slice.hpp) and a reflection costs about a microsecond under
// QEMU. A guest's writes then skew only its own statistics, and not past that. Reads the three
// words and zeroes the counts (fast_reflect_taken, on this CPU's).
inline constexpr u32 kFastReflectedMax = 1u << 20;
FastReflected fast_reflected_take(u32 (&words)[3]);

} // namespace tessera::arch
