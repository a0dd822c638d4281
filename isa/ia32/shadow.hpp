// Shadow paging (docs/ia32.md): while the guest has paging on, the CPU walks tables the
// hypervisor builds, never the guest's own. They are a software TLB over the guest's 2-level
// tables: filled one 4 KiB entry at a time on page faults (guest_translate checks the guest's
// permissions, sets its A/D bits and gives logical -> real through the chunks), dropped by
// invlpg, by cr3 loads (global guest pages survive those when CR4.PGE is set) and by paging-mode
// changes. An entry is writable only once the guest's entry is dirty, so the first write to a
// clean page faults and sets D. Each vcpu keeps kShadowRoots such spaces, one per guest address
// space it switched to with H_IA32_SWITCH_MM (a tagged TLB: the guest names the space and its
// flush generation, and a switch back to an unchanged one keeps its entries). Tables come from a
// fixed pool of 4 KiB pages; when it runs dry the tables of the other spaces are reclaimed (they
// refault; never a space of a vcpu another CPU runs, ShadowSpace::pinned), then the current
// one's own.
#pragma once

#include "common/lpar.hpp"

#include <arch/x86.hpp>

namespace tessera::arch {

// The real address of the vcpu's shadow page directory for cr3 (allocated on first use; its
// slot 1023 maps the switcher). 0 when no pool page is free at all.
u32 shadow_root(Vcpu& v);

enum class ShadowFill : u8 {
    Filled,  // retry the access
    Reflect, // the guest's own translation faults: reflect #PF with this error code
};
// Handles a page fault the guest took at va (hardware error code `error`: W and U describe the
// access).
ShadowFill shadow_fill(Vcpu& v, u32 va, u32 error, u32& guest_error);

// The space the CPU runs on.
inline ShadowSpace& shadow_space(Vcpu& v) {
    return v.arch.shadows[v.arch.shadow_cur];
}

// The hypervisor's own accesses to the guest's memory (guest_read, guest_write) go through the
// current space first, as the CPU's would: the host address of the byte at va when the space
// maps it for `access` (kPfW: writable, kPfU: user; guest_mmu.hpp), else nullptr (then the
// caller walks the guest's tables, which also sets their A/D bits). Paging off: nullptr.
u8* shadow_host_ptr(Vcpu& v, u32 va, u32 access);
// invlpg: drops va's entry in every space of the vcpu (a global guest page is in all of them).
void shadow_invlpg(Vcpu& v, u32 va);
// H_IA32_INVALIDATE: drops the entries of every page that overlaps [start, end) in every space
// of the vcpu, as an invlpg of each page would; a table the range covers goes back to the pool.
// end <= start: nothing. The switcher's slot is never touched.
void shadow_invalidate(Vcpu& v, u32 start, u64 end);
// H_IA32_PROTECT: the loaded space's entries of every page that overlaps [start, end) lose write
// permission (a write refaults and refills, as after a fill of a clean page). end <= start:
// nothing. The switcher's slot is never touched.
void shadow_protect(Vcpu& v, u32 start, u64 end);
// H_IA32_FORK_MM (arch/hcalls.hpp): one of the vcpu's other spaces (the one tagged ctx and
// child_cr3, else the least recently used) becomes the child's at generation gen, its non-global
// entries dropped, and gets for each user page of [0, end) that the loaded space maps and that
// the parent used since its last fork (Accessed in the shadow's entry) or an earlier child of it
// filled, the entry a fill of a ring-3 read there would make from the child's tables
// (guest_translate with cr3 = child_cr3: Accessed set in them). At most kForkCopyMax entries
// (the rest fault in), which bounds how long the hcall holds the core lock. Then the loaded
// space's entries in [0, end) lose Accessed, and write permission unless the guest's entries
// still let write the same frame (shared memory), which leaves it coherent up to the guest's
// generation parent_gen (recorded as a switch away would record it). Returns the entries made.
// The caller checked ctx (nonzero, not the loaded space's) and that paging is on.
inline constexpr u32 kForkCopyMax = 1024; // a walk each, under the core lock
u32 shadow_fork(Vcpu& v, u64 end, u32 child_cr3, u64 ctx, u64 gen, u64 parent_gen);
// H_IA32_REFILL (a copy-on-write break in the loaded address space): va's entry goes from the
// loaded space, and from the vcpu's other spaces where it is a supervisor or global one (their
// user entries shadow other address spaces, kept coherent by the guest's generations); then the
// loaded space gets what shadow_fill would make for a ring-3 read at va (nothing when the
// guest's tables refuse it); gen != 0 records the loaded space, if it names a guest space, as
// flushed up to gen (as shadow_fork's parent_gen). True when the entry was made. The caller
// checked that paging is on.
bool shadow_refill(Vcpu& v, u32 va, u64 gen);
// H_IA32_MOVE: the guest moved its entries of [start, end) to new_start (mremap). The pages of
// the old range the loaded space maps for ring 3 are noted, the range's entries go from every
// space (shadow_invalidate), gen is recorded as by shadow_refill, and the loaded space gets at
// each noted page's new address what shadow_fill would make for a ring-3 read there (nothing
// where the guest's tables refuse it). Returns the entries made. The caller checked the range:
// pages, at most kMoveMax bytes, the new one below 4 GiB; and that paging is on.
inline constexpr u32 kMoveMax = 4u << 20; // a walk per page, under the core lock
u32 shadow_move(Vcpu& v, u32 start, u64 end, u32 new_start, u64 gen);
// A cr3 load (ctl.cr3 already written): drops the current space's entries, all of them or the
// non-global ones (with PGE); a different cr3 than the space's forgets which space it was.
void shadow_flush(Vcpu& v, bool keep_global);
// A paging-mode change: every entry of every space goes, and every space is forgotten.
void shadow_flush_all(Vcpu& v);
// H_IA32_SWITCH_MM (ctl.cr3 already written): the guest leaves the current space coherent up to
// its generation prev_gen and switches to the space `ctx` (0: none) at cr3, whose generation is
// now `gen`. A kept space of that ctx and cr3 at generation gen is used as it is (true);
// otherwise the least recently used space takes it, its non-global entries dropped (false).
bool shadow_switch(Vcpu& v, u64 ctx, u64 gen, u64 prev_gen);
// Gives every page of the vcpu's shadow spaces (directories included) back to the pool.
void shadow_release(Vcpu& v);

// The fast switch (docs/ia32.md, "The switch between kept spaces without an exit"): the guest
// kernel's `int $X86_SWITCH_MM_VECTOR` with eax = cr3, ebx:ecx = ctx, edx:esi = gen loads, in
// the switcher and with no exit, the root of the row that has all of them (eax = 0 back), or
// changes nothing (eax = 1: the guest makes the H_IA32_SWITCH_MM hcall). The rows are in the
// CPU's switcher data page, read-only for guests; a row with root 0 is never loaded. Any row
// is safe to load: each is one of the running vcpu's own spaces, made by its fills only.
struct FastSpace {
    u32 cr3 = 0, ctx_lo = 0, ctx_hi = 0, gen_lo = 0, gen_hi = 0;
    u32 root = 0; // the space's directory (real address, switcher slot set), 0: none
    bool operator==(const FastSpace&) const = default;
};
static_assert(sizeof(FastSpace) == X86_FAST_SPACE_BYTES && kShadowRoots == X86_FAST_SPACES);
// The rows for the vcpu about to run (one per space, kShadowRoots): its spaces that name a
// guest address space and have a directory, whose switcher slot is set here. None while the
// guest's paging is off.
void shadow_fast_rows(Vcpu& v, FastSpace* rows);
// After a trap, `loaded` is the directory the CPU ran on: when the switcher moved to another
// of the vcpu's spaces, that one becomes the current space (ctl.cr3 its guest cr3, both stamped
// used). False when `loaded` is none of the vcpu's directories (cannot happen).
bool shadow_resync(Vcpu& v, u32 loaded);
// Writes the rows into this CPU's switcher data page where they changed (isa/ia32/gdt.cpp).
void fast_spaces_load(const FastSpace* rows);
// Every space of the vcpu pinned (its CPU may load any of them without the lock) or not.
void shadow_pin(Vcpu& v, bool pinned);

// Pool statistics (footprint, tests).
usize shadow_pages_in_use();
usize shadow_pages_peak(); // the most ever in use at once
usize shadow_pool_pages();

// The pool's storage: page `index` as the hypervisor reads and writes it, and its real address
// for page-table entries (isa/ia32/shadow_pool.cpp in the image: a static array, identity-
// mapped; host tests give fake real addresses, tests/unit/ia32/host_hooks.cpp).
inline constexpr usize kShadowPoolPages = 768; // 3 MiB of tables for every vcpu of the machine
u32* shadow_pool_page(usize index);
u32 shadow_page_real(usize index);

} // namespace tessera::arch
