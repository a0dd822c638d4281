// Shadow paging (docs/ia32.md): while the guest has paging on, the CPU walks tables the
// hypervisor builds, never the guest's own. They are a software TLB over the guest's 2-level
// tables: filled one 4 KiB entry at a time on page faults (guest_translate checks the guest's
// permissions, sets its A/D bits and gives logical -> real through the chunks), dropped by
// invlpg, by cr3 loads (global guest pages survive those when CR4.PGE is set) and by paging-mode
// changes. An entry is writable only once the guest's entry is dirty, so the first write to a
// clean page faults and sets D. Tables come from a fixed pool of 4 KiB pages; when it runs dry
// the tables of the other vcpus are reclaimed (they refault), then this vcpu's own.
#pragma once

#include "common/lpar.hpp"

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

void shadow_invlpg(Vcpu& v, u32 va);
// Drops the vcpu's shadow entries: all of them, or the non-global ones (a cr3 load with PGE).
void shadow_flush(Vcpu& v, bool keep_global);
// Gives every page of the vcpu's shadow (directory included) back to the pool.
void shadow_release(Vcpu& v);

// Pool statistics (footprint, tests).
usize shadow_pages_in_use();
usize shadow_pages_peak(); // the most ever in use at once
usize shadow_pool_pages();

// The pool's storage: page `index` as the hypervisor reads and writes it, and its real address
// for page-table entries (isa/ia32/shadow_pool.cpp in the image: a static array, identity-
// mapped; host tests give fake real addresses, tests/unit/ia32/host_hooks.cpp).
inline constexpr usize kShadowPoolPages = 512; // 2 MiB of tables for every vcpu of the machine
u32* shadow_pool_page(usize index);
u32 shadow_page_real(usize index);

} // namespace tessera::arch
