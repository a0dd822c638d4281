#include "isa/ia32/shadow.hpp"

#include "isa/ia32/cpu.hpp"
#include "isa/ia32/guest_mmu.hpp"

#include <arch/x86.hpp>
#include <tessera/hot.hpp>

namespace tessera::arch {
namespace {

constexpr usize kPoolPages = kShadowPoolPages;
// A shadow entry remembers that the guest mapping was global in an available bit: the real G
// bit is never set (real global entries would survive the cr3 switch to another LPAR).
constexpr u32 kShadowGlobal = 1u << 9;
// A parent's entry that a forked child filled too (ShadowSpace::parent_ctx), in another
// available bit: its next fork copies it, used since then or not.
constexpr u32 kShadowChildUsed = 1u << 10;

struct PageOwner {
    ShadowSpace* space = nullptr; // nullptr: free
    int slot = -1;                // directory slot of a table, -1 for the directory
};
constexpr u16 kNone = 0; // ShadowSpace stores pool page + 1

PageOwner owners[kPoolPages];
usize in_use = 0, peak = 0;

// A ShadowSpace reference (page + 1, not kNone) -> the page.
u32* page(u16 ref) {
    return shadow_pool_page(ref - 1u);
}
u32 real(u16 ref) {
    return shadow_page_real(ref - 1u);
}

// A new VcpuState::fast_seq: the rows of the vcpu's spaces change (any CPU's copy is stale).
u64 fast_seq_source = 0; // lock: core_lock() (every caller handles an exit or sets up an LPAR)
void spaces_changed(VcpuState& a) {
    a.fast_seq = ++fast_seq_source;
}

void zero(u32* p) {
    for (usize i = 0; i < 1024; ++i) p[i] = 0;
}

// Where take() looks first: after the page it took last (next fit), so that a pool with most
// pages in use is not scanned from its start for every table a fork or fill takes.
usize take_from = 0; // lock: core_lock(), as the pool

u16 take(ShadowSpace& s, int slot) {
    usize i = take_from < kPoolPages ? take_from : 0;
    for (usize n = 0; n < kPoolPages; ++n, i = i + 1 < kPoolPages ? i + 1 : 0) {
        if (owners[i].space == nullptr) {
            owners[i] = PageOwner{&s, slot};
            ++in_use;
            if (in_use > peak) peak = in_use;
            zero(shadow_pool_page(i));
            take_from = i + 1;
            return static_cast<u16>(i + 1);
        }
    }
    return kNone;
}

void give_back(u16 ref) {
    owners[ref - 1u] = PageOwner{};
    --in_use;
}

void drop_table(ShadowSpace& s, unsigned slot) {
    if (s.pt[slot] == kNone) return;
    give_back(s.pt[slot]);
    s.pt[slot] = kNone;
    s.nonglobal[slot] = 0;
    s.large[slot] = false;
    if (s.pd != kNone) page(s.pd)[slot] = 0;
}

// Frees the tables of every space but `keep` and those of a vcpu another CPU runs (pinned);
// true if that freed anything.
bool reclaim_others(const ShadowSpace& keep) {
    bool freed = false;
    for (usize i = 0; i < kPoolPages; ++i) {
        ShadowSpace* s = owners[i].space;
        if (s == nullptr || s == &keep || s->pinned || owners[i].slot < 0) continue;
        drop_table(*s, static_cast<unsigned>(owners[i].slot));
        freed = true;
    }
    return freed;
}

u16 take_reclaiming(ShadowSpace& s, int slot) {
    const u16 p = take(s, slot);
    if (p != kNone) return p;
    if (!reclaim_others(s)) {
        for (unsigned i = 0; i < kShadowSlots; ++i) drop_table(s, i);
    }
    return take(s, slot);
}

TESSERA_HOT void set_entry(ShadowSpace& s, unsigned slot, unsigned index, u32 value) {
    u32& e = page(s.pt[slot])[index];
    if ((e & kPteP) && !(e & kShadowGlobal)) --s.nonglobal[slot];
    if ((value & kPteP) && !(value & kShadowGlobal)) ++s.nonglobal[slot];
    e = value;
}

// Writes va's entry in space s (which has a directory) for the guest's translation t, as a fill
// makes it: t's frame through the LPAR's chunks, writable only where the guest's entries are
// and the PTE is dirty; a table for va's slot from the pool when it has none. False when the
// frame is not the LPAR's or no table is left (nothing written).
bool put_entry(Vcpu& v, ShadowSpace& s, u32 va, const Translation& t) {
    const Optional<RealAddr> frame =
        v.lpar->memory.translate(LogicalAddr(vcpu_logical(v, t.logical & kPteFrame)), 4096);
    if (!frame) return false;
    const unsigned slot = va >> 22;
    if (s.pt[slot] == kNone) {
        const u16 p = take_reclaiming(s, static_cast<int>(slot));
        if (p == kNone) return false;
        s.pt[slot] = p;
        s.large[slot] = false;
        page(s.pd)[slot] = real(p) | kPteP | kPteW | kPteU;
    }
    if (t.large) s.large[slot] = true;
    set_entry(s, slot, (va >> 12) & 0x3ff,
              static_cast<u32>(frame->value()) | kPteP | (t.writable && t.dirty ? kPteW : 0) |
                  (t.user ? kPteU : 0) | (t.global ? kShadowGlobal : 0));
    return true;
}

// Writes va's entry in space s as a fill of a ring-3 read there would make it from the tables of
// ctl (guest_translate: checked, Accessed set in them); not for a 4 MiB guest page. False when
// the tables refuse it or put_entry does.
bool put_read_entry(Vcpu& v, ShadowSpace& s, const GuestControl& ctl, u32 va) {
    const Translation t = guest_translate(*v.lpar, ctl, va, kPfU);
    return t.ok && !t.large && put_entry(v, s, va, t);
}

// The vcpu's space tagged ctx (not 0) for cr3, else its least recently used one; never `skip`
// (kShadowRoots: none). `tagged` says which.
unsigned space_for(const VcpuState& a, u64 ctx, u32 cr3, unsigned skip, bool& tagged) {
    unsigned lru = kShadowRoots;
    for (unsigned i = 0; i < kShadowRoots; ++i) {
        if (i == skip) continue;
        const ShadowSpace& s = a.shadows[i];
        if (ctx != 0 && s.ctx == ctx && s.cr3 == cr3) {
            tagged = true;
            return i;
        }
        if (lru == kShadowRoots || s.used < a.shadows[lru].used) lru = i;
    }
    tagged = false;
    return lru;
}

// Drops the space's entries: all of them, or the non-global ones.
void flush_space(ShadowSpace& s, bool keep_global) {
    for (unsigned slot = 0; slot < kShadowSlots; ++slot) {
        if (s.pt[slot] == kNone) continue;
        if (!keep_global || s.large[slot]) {
            // A 4 MiB guest page is global or not as a whole: keep its table or drop it.
            if (!keep_global || s.nonglobal[slot] != 0) drop_table(s, slot);
            continue;
        }
        if (s.nonglobal[slot] == 0) continue;
        u32* t = page(s.pt[slot]);
        bool any = false;
        for (unsigned i = 0; i < 1024; ++i) {
            if (t[i] & kShadowGlobal)
                any = true;
            else
                t[i] = 0;
        }
        s.nonglobal[slot] = 0;
        if (!any) drop_table(s, slot);
    }
}

// What a fill makes of the guest's 4 KiB mapping (directory entry pde, table entry leaf, both
// present): writable only where both entries let write and the leaf is dirty.
bool fill_writable(u32 pde, u32 leaf) {
    return (pde & kPteW) && (leaf & kPteW) && (leaf & kPteD);
}
// The shadow entry a fill makes for it: the leaf's frame through the LPAR's chunks; 0 when the
// frame is not the LPAR's.
u32 fill_entry(Vcpu& v, u32 pde, u32 leaf) {
    const Optional<RealAddr> real =
        v.lpar->memory.translate(LogicalAddr(vcpu_logical(v, leaf & kPteFrame)), 4096);
    if (!real) return 0;
    const bool user = (pde & kPteU) && (leaf & kPteU);
    const bool global = (leaf & kPteG) && (v.arch.ctl.cr4 & kCr4Pge);
    return static_cast<u32>(real->value()) | kPteP | (fill_writable(pde, leaf) ? kPteW : 0) |
           (user ? kPteU : 0) | (global ? kShadowGlobal : 0);
}
// What a fill decided of a shadow entry: not A and D, which the CPU sets as it uses the entry,
// nor the fork's mark.
u32 as_filled(u32 entry) {
    return entry & ~(kPteA | kPteD | kShadowChildUsed);
}

// After a fill at va: the empty shadow entries of the aligned group of kPrefill pages around it
// whose guest mapping the CPU could hold in its TLB already (present, Accessed set, within the
// LPAR) are filled too, as a CPU may prefetch translations. Writable only where the guest's entry
// is dirty, as for a fill. Saves one exit per page for code and data the guest touches in runs
// (fault-around file pages, the kernel's 4 MiB pages). A present user page whose entry is not
// Accessed gets A first (guest_mark_accessed, as a CPU's speculative walk may set it): Linux
// makes a forked child's entries old, and the child then filled its parent's pages one exit
// each (stress-ng opcode: 28 of its 38 fills per operation; docs/benchmarks.md). The guest's
// supervisor entries and 4 MiB pages are left as they are.
// An entry already there that the guest's entry now also lets write (same frame, same bits but
// W: a page the guest made writable again, as Linux does to the pages a forked child no longer
// shares, or one H_IA32_PROTECT or a fork took W from while the guest's entry kept it: shared
// memory) gets W too, as a write's fill would give it.
constexpr unsigned kPrefill = 16;

void prefill(Vcpu& v, ShadowSpace& s, u32 va, bool large) {
    Lpar& lpar = *v.lpar;
    const GuestControl& c = v.arch.ctl;
    const unsigned slot = va >> 22, first = ((va >> 12) & 0x3ff) & ~(kPrefill - 1);
    u32 pde = 0;
    if (!lpar.memory.copy_out(&pde, LogicalAddr((c.cr3 & kPteFrame) + slot * 4), 4)) return;
    u32 leaves[kPrefill];
    if (large) {
        for (unsigned i = 0; i < kPrefill; ++i)
            leaves[i] = ((pde & kPdeLargeFrame) | ((first + i) << 12)) | (pde & 0xfff);
    } else if (!lpar.memory.copy_out(leaves, LogicalAddr((pde & kPteFrame) + first * 4),
                                     sizeof leaves)) {
        return;
    }
    u32* table = page(s.pt[slot]);
    for (unsigned i = 0; i < kPrefill; ++i) {
        const u32 leaf = leaves[i];
        const u32 old = table[first + i];
        // Not accessed yet: a user page with no entry in the shadow gets A below.
        const bool mark = !large && old == 0 && (pde & kPteU) &&
                          (leaf & (kPteP | kPteU | kPteA)) == (kPteP | kPteU);
        if ((leaf & (kPteP | kPteA)) != (kPteP | kPteA) && !mark) continue;
        // An entry there already: only a read-only one whose guest entry now lets write.
        if (old != 0 && (!fill_writable(pde, leaf) || (old & kPteW))) continue;
        // A page not zeroed yet is zeroed now (translate): measured, that is cheaper than a
        // fill exit for each page of a run the guest walks into (docs/benchmarks.md, "Zeroing a
        // page at a time on pc").
        const u32 entry = fill_entry(v, pde, leaf);
        if (entry == 0) continue;
        if (mark && !guest_mark_accessed(lpar, (pde & kPteFrame) + (first + i) * 4, leaf))
            continue; // the guest changed the entry meanwhile
        if (old == 0 || entry == as_filled(old | kPteW)) set_entry(s, slot, first + i, entry);
    }
}

// A fill at va in a forked child's space: the parent's entry there, if its space is still the
// parent's and has one, is marked, and the parent's next fork copies it (shadow_fork).
void note_child_fill(VcpuState& a, const ShadowSpace& s, u32 va) {
    if (s.parent_ctx == 0 || va >= X86_SWITCHER_VA) return;
    ShadowSpace& p = a.shadows[s.parent];
    const unsigned slot = va >> 22;
    if (p.ctx != s.parent_ctx || p.pt[slot] == kNone || p.large[slot]) return;
    u32& e = page(p.pt[slot])[(va >> 12) & 0x3ff];
    if (e & kPteP) e |= kShadowChildUsed;
}

// H_IA32_REFILL's invlpg: the loaded space's entry for va goes, and in the vcpu's other spaces
// only a supervisor or global one (the kernel's half, which every space shadows alike). A user
// entry of another space shadows another address space, which the guest keeps coherent by its
// generations (shadow_switch); dropping it there made a parent refault the pages its child had
// just broken copy-on-write.
void refill_drop(Vcpu& v, u32 va) {
    const unsigned slot = va >> 22, index = (va >> 12) & 0x3ff;
    if (slot >= kShadowSlots) return;
    for (ShadowSpace& s : v.arch.shadows) {
        if (s.pt[slot] == kNone) continue;
        if (s.large[slot]) {
            drop_table(s, slot);
            continue;
        }
        const u32 e = page(s.pt[slot])[index];
        const bool loaded = &s == &shadow_space(v);
        if (loaded || (e & kShadowGlobal) || !(e & kPteU)) set_entry(s, slot, index, 0);
    }
}

// gen != 0: the loaded space, if it names a guest space, is recorded as flushed up to the
// guest's generation gen (as H_IA32_SWITCH_MM's prev_gen records it).
void record_flushed(Vcpu& v, u64 gen) {
    ShadowSpace& s = shadow_space(v);
    if (gen != 0 && s.ctx != 0 && s.gen != gen) {
        s.gen = gen;
        spaces_changed(v.arch); // the fast switcher's row for it
    }
}

// Calls f(slot, first, last) for each directory slot below the switcher's that [start, end)
// overlaps, with the first and last index of the range's pages in that slot's table. end <= 2^32
// for every caller; end <= start: no call.
template <typename F>
void each_slot(u32 start, u64 end, F f) {
    if (end <= start) return;
    const u32 last = static_cast<u32>(end - 1);
    for (unsigned slot = start >> 22; slot <= (last >> 22) && slot < kShadowSlots; ++slot) {
        f(slot, slot == (start >> 22) ? (start >> 12) & 0x3ff : 0u,
          slot == (last >> 22) ? (last >> 12) & 0x3ff : 1023u);
    }
}

} // namespace

TESSERA_HOT u8* shadow_host_ptr(Vcpu& v, u32 va, u32 access) {
    if (!(v.arch.ctl.cr0 & kCr0Pg) || va >= X86_SWITCHER_VA) return nullptr;
    const ShadowSpace& s = shadow_space(v);
    const u16 table = s.pt[va >> 22];
    if (table == kNone) return nullptr;
    const u32 e = page(table)[(va >> 12) & 0x3ff];
    if (!(e & kPteP) || ((access & kPfW) && !(e & kPteW)) || ((access & kPfU) && !(e & kPteU)))
        return nullptr;
    const ChunkPool* pool = v.lpar->memory.pool();
    auto* p = pool ? static_cast<u8*>(pool->host_ptr(RealAddr(e & kPteFrame), 4096)) : nullptr;
    return p ? p + (va & 0xfff) : nullptr;
}

TESSERA_HOT u32 shadow_root(Vcpu& v) {
    ShadowSpace& s = shadow_space(v);
    if (s.pd == kNone) {
        s.pd = take_reclaiming(s, -1);
        if (s.pd == kNone) return 0;
        spaces_changed(v.arch);
        page(s.pd)[1023] = switcher_pde();
    }
    return real(s.pd);
}

ShadowFill shadow_fill(Vcpu& v, u32 va, u32 error, u32& guest_error) {
    const Translation t = guest_translate(*v.lpar, v.arch.ctl, va, error & (kPfW | kPfU));
    if (!t.ok) {
        guest_error = t.error;
        return ShadowFill::Reflect;
    }
    ShadowSpace& s = shadow_space(v);
    // Failing: no pool page at all (guest_translate checked the frame).
    if (shadow_root(v) == 0 || !put_entry(v, s, va, t)) {
        guest_error = error | kPfP | kPfRsvd;
        return ShadowFill::Reflect;
    }
    prefill(v, s, va, t.large);
    note_child_fill(v.arch, s, va);
    return ShadowFill::Filled;
}

void shadow_invlpg(Vcpu& v, u32 va) {
    shadow_invalidate(v, va & ~0xfffu, (va & ~0xfffu) + u64{4096});
}

void shadow_invalidate(Vcpu& v, u32 start, u64 end) {
    each_slot(start, end, [&](unsigned slot, unsigned lo, unsigned hi) {
        for (ShadowSpace& s : v.arch.shadows) {
            if (s.pt[slot] == kNone) continue;
            // A 4 MiB guest page goes as a whole, as does a table the range covers.
            if (s.large[slot] || (lo == 0 && hi == 1023)) {
                drop_table(s, slot);
                continue;
            }
            for (unsigned i = lo; i <= hi; ++i) set_entry(s, slot, i, 0);
        }
    });
}

void shadow_protect(Vcpu& v, u32 start, u64 end) {
    ShadowSpace& s = shadow_space(v);
    each_slot(start, end, [&](unsigned slot, unsigned lo, unsigned hi) {
        if (s.pt[slot] == kNone) return;
        u32* t = page(s.pt[slot]);
        for (unsigned i = lo; i <= hi; ++i) t[i] &= ~kPteW;
    });
}

// The parent's side of H_IA32_FORK_MM, for its entry e at index i of a table whose guest
// directory entry is pde (table: a present 4 KiB-page table): Accessed goes, so that the next
// fork sees which pages the parent used since this one, and so does write permission, unless the
// guest's entries still let write the same frame (a shared mapping: Linux write-protects only
// the private pages the child now shares, and a write to a shared page would otherwise cost a
// fill exit after every fork). P and the global mark stay: no count moves.
u32 parent_after_fork(Vcpu& v, u32 e, bool table, u32 pde, unsigned i) {
    u32 leaf = 0;
    const bool keep_w = (e & kPteW) && table &&
                        v.lpar->memory.copy_out(&leaf, LogicalAddr((pde & kPteFrame) + i * 4), 4) &&
                        (leaf & kPteP) && fill_writable(pde, leaf) &&
                        fill_entry(v, pde, leaf) == as_filled(e);
    return e & ~(kPteA | (keep_w ? 0 : kPteW));
}

u32 shadow_fork(Vcpu& v, u64 end, u32 child_cr3, u64 ctx, u64 gen, u64 parent_gen) {
    VcpuState& a = v.arch;
    // The guest's flush is done: its next switch away may be the switcher's, which records no
    // generation (shadow_switch's prev_gen).
    if (shadow_space(v).ctx != 0) shadow_space(v).gen = parent_gen;
    // The child's space: one the vcpu keeps for it already, else the least recently used.
    bool tagged = false; // either way its entries go
    ShadowSpace& child = a.shadows[space_for(a, ctx, child_cr3, a.shadow_cur, tagged)];
    flush_space(child, (a.ctl.cr4 & kCr4Pge) != 0);
    child.cr3 = child_cr3;
    child.ctx = ctx;
    child.gen = gen;
    child.used = ++a.shadow_clock;
    child.parent_ctx = shadow_space(v).ctx;
    child.parent = a.shadow_cur;
    spaces_changed(a);
    if (child.pd == kNone) {
        child.pd = take_reclaiming(child, -1);
        if (child.pd != kNone) page(child.pd)[1023] = switcher_pde();
    }
    // One pass over the parent's entries below end. The child gets, for each user page worth
    // it, what shadow_fill would make for a ring-3 read at that address with the child's tables
    // loaded: the child's own translation, checked and marked Accessed by the same walk, its
    // frame translated through the LPAR's chunks (put_entry, as a fill). Worth it: the pages
    // the parent used since its last fork (Accessed: the CPU sets it in the shadow's entry when
    // it loads the translation, and every exit's cr3 loads empty the TLB) and those an earlier
    // child filled (kShadowChildUsed). Copying every entry the parent had cost more than the
    // fills it saved (docs/benchmarks.md, "A fork copies what its children use"). Then the
    // parent's entry is left as parent_after_fork says. The parent's table is looked up again
    // after each copy, as taking a table for the child may reclaim it.
    GuestControl child_ctl = a.ctl;
    child_ctl.cr3 = child_cr3;
    ShadowSpace& parent = shadow_space(v);
    const u32 cr3 = a.ctl.cr3 & kPteFrame;
    u32 made = 0;
    each_slot(0, end, [&](unsigned slot, unsigned lo, unsigned hi) {
        if (parent.pt[slot] == kNone) return;
        u32 pde = 0;
        const bool table = !parent.large[slot] &&
                           v.lpar->memory.copy_out(&pde, LogicalAddr(cr3 + slot * 4), 4) &&
                           (pde & (kPteP | kPtePs)) == kPteP;
        for (unsigned i = lo; i <= hi; ++i) {
            const u32 e = page(parent.pt[slot])[i];
            if (!(e & (kPteA | kPteW | kShadowChildUsed))) continue;
            if (child.pd != kNone && made < kForkCopyMax && !parent.large[slot] &&
                (e & (kPteP | kPteU)) == (kPteP | kPteU) && (e & (kPteA | kShadowChildUsed))) {
                if (put_read_entry(v, child, child_ctl, (slot << 22) | (i << 12))) ++made;
                if (parent.pt[slot] == kNone) return;
            }
            page(parent.pt[slot])[i] = parent_after_fork(v, e, table, pde, i);
        }
    });
    return made;
}

bool shadow_refill(Vcpu& v, u32 va, u64 gen) {
    refill_drop(v, va);
    record_flushed(v, gen);
    if (va >= X86_SWITCHER_VA) return false;
    u32 ignored = 0;
    return shadow_fill(v, va, kPfU, ignored) == ShadowFill::Filled;
}

u32 shadow_move(Vcpu& v, u32 start, u64 end, u32 new_start, u64 gen) {
    ShadowSpace& s = shadow_space(v);
    constexpr u32 kWords = kMoveMax / 4096 / 32;
    u32 held[kWords] = {}; // bit n: the old range's page n is in the loaded space for ring 3
    each_slot(start, end, [&](unsigned slot, unsigned lo, unsigned hi) {
        if (s.pt[slot] == kNone || s.large[slot]) return;
        const u32* t = page(s.pt[slot]);
        for (unsigned i = lo; i <= hi; ++i) {
            if ((t[i] & (kPteP | kPteU)) != (kPteP | kPteU)) continue;
            const u32 n = (((slot << 22) | (i << 12)) - start) >> 12;
            held[n / 32] |= 1u << (n % 32);
        }
    });
    shadow_invalidate(v, start, end);
    record_flushed(v, gen);
    // What a fill of a ring-3 read would make at each noted page's new address, from the
    // guest's tables as they are now.
    u32 made = 0;
    for (u32 n = 0; n < static_cast<u32>((end - start) >> 12); ++n) {
        if (!(held[n / 32] & (1u << (n % 32)))) continue;
        const u32 va = new_start + (n << 12);
        if (va >= X86_SWITCHER_VA) break;
        if (put_read_entry(v, s, v.arch.ctl, va)) ++made;
    }
    return made;
}

void shadow_flush(Vcpu& v, bool keep_global) {
    ShadowSpace& s = shadow_space(v);
    if (s.cr3 != v.arch.ctl.cr3) {
        s.ctx = 0;
        s.parent_ctx = 0;
        spaces_changed(v.arch);
    }
    s.cr3 = v.arch.ctl.cr3;
    flush_space(s, keep_global);
}

void shadow_flush_all(Vcpu& v) {
    for (ShadowSpace& s : v.arch.shadows) {
        flush_space(s, false);
        s.ctx = 0;
        s.parent_ctx = 0;
    }
    shadow_space(v).cr3 = v.arch.ctl.cr3;
    spaces_changed(v.arch); // also every paging-mode change (emulate.cpp)
}

bool shadow_switch(Vcpu& v, u64 ctx, u64 gen, u64 prev_gen) {
    VcpuState& a = v.arch;
    ShadowSpace& prev = shadow_space(v);
    const bool prev_moved = prev.ctx != 0 && prev.gen != prev_gen;
    if (prev.ctx != 0) prev.gen = prev_gen;
    prev.used = ++a.shadow_clock;
    const u32 cr3 = a.ctl.cr3;
    bool tagged = false;
    const unsigned pick = space_for(a, ctx, cr3, kShadowRoots, tagged);
    const bool kept = tagged && a.shadows[pick].gen == gen;
    a.shadow_cur = static_cast<u8>(pick);
    ShadowSpace& s = a.shadows[pick];
    if (!kept) flush_space(s, (a.ctl.cr4 & kCr4Pge) != 0);
    if (!tagged) s.parent_ctx = 0; // another address space
    s.cr3 = cr3;
    s.ctx = ctx;
    s.gen = gen;
    s.used = ++a.shadow_clock;
    if (!kept || prev_moved) spaces_changed(a);
    return kept;
}

void shadow_fast_rows(Vcpu& v, FastSpace* rows) {
    const VcpuState& a = v.arch;
    const bool paging = (a.ctl.cr0 & kCr0Pg) != 0;
    for (unsigned i = 0; i < kShadowRoots; ++i) {
        const ShadowSpace& s = a.shadows[i];
        if (!paging || s.ctx == 0 || s.pd == kNone) {
            rows[i] = FastSpace{};
            continue;
        }
        u32& slot = page(s.pd)[1023];
        if (slot != switcher_pde()) slot = switcher_pde(); // the CPU it runs on
        rows[i] = FastSpace{s.cr3,
                            static_cast<u32>(s.ctx),
                            static_cast<u32>(s.ctx >> 32),
                            static_cast<u32>(s.gen),
                            static_cast<u32>(s.gen >> 32),
                            real(s.pd)};
    }
}

bool shadow_resync(Vcpu& v, u32 loaded) {
    VcpuState& a = v.arch;
    const ShadowSpace& cur = shadow_space(v);
    if (cur.pd != kNone && real(cur.pd) == loaded) return true;
    for (unsigned i = 0; i < kShadowRoots; ++i) {
        ShadowSpace& s = a.shadows[i];
        if (s.pd == kNone || real(s.pd) != loaded) continue;
        a.shadows[a.shadow_cur].used = ++a.shadow_clock;
        a.shadow_cur = static_cast<u8>(i);
        a.ctl.cr3 = s.cr3;
        s.used = ++a.shadow_clock;
        return true;
    }
    return false;
}

void shadow_pin(Vcpu& v, bool pinned) {
    for (ShadowSpace& s : v.arch.shadows) s.pinned = pinned;
}

void shadow_release(Vcpu& v) {
    for (ShadowSpace& s : v.arch.shadows) {
        for (unsigned slot = 0; slot < kShadowSlots; ++slot) drop_table(s, slot);
        if (s.pd != kNone) give_back(s.pd);
        s = ShadowSpace{};
    }
    v.arch.shadow_cur = 0;
    spaces_changed(v.arch);
}

usize shadow_pages_in_use() {
    return in_use;
}
usize shadow_pages_peak() {
    return peak;
}
usize shadow_pool_pages() {
    return kPoolPages;
}

} // namespace tessera::arch
