#include "isa/ia32/guest_mmu.hpp"
#include "common/rt/string.hpp"
#include "isa/ia32/shadow.hpp"

#include <arch/x86.hpp>
#include <tessera/hot.hpp>

namespace tessera::arch {
namespace {

// Entries are aligned words (another vcpu may be writing one: a single load).
bool read_entry(const Lpar& lpar, u32 la, u32& entry) {
    const auto* p = static_cast<const u32*>(lpar.memory.host_ptr(LogicalAddr(la), sizeof(entry)));
    if (p == nullptr) return false;
    entry = __atomic_load_n(p, __ATOMIC_RELAXED);
    return true;
}

// Sets bits in a guest entry (A, D) if they are not set yet, as the CPU does: one locked
// compare-and-exchange against the value the walk read, so that what another vcpu of the LPAR
// wrote there meanwhile (running on another physical CPU) is never overwritten. False: the
// entry changed under the walk, which starts over.
bool mark(Lpar& lpar, u32 la, u32 entry, u32 bits) {
    if ((entry & bits) == bits) return true;
    auto* p = static_cast<u32*>(lpar.memory.host_ptr(LogicalAddr(la), sizeof(entry)));
    if (p == nullptr) return true; // read_entry found it: not reached
    u32 expected = entry;
    return __atomic_compare_exchange_n(p, &expected, entry | bits, false, __ATOMIC_SEQ_CST,
                                       __ATOMIC_SEQ_CST);
}

// One walk; `changed` when an entry changed before its A/D bits were set.
Translation walk(Lpar& lpar, const GuestControl& ctl, u32 va, u32 access, bool probe,
                 bool& changed) {
    Translation t;
    const u32 hole = access | kPfP | kPfRsvd;
    access &= kPfW | kPfU;
    if (va >= X86_SWITCHER_VA) {
        t.error = hole;
        return t;
    }
    if (!(ctl.cr0 & kCr0Pg)) {
        if (!lpar.memory.contains(LogicalAddr(va), 1)) {
            t.error = hole;
            return t;
        }
        t.ok = t.writable = t.user = t.dirty = true;
        t.logical = va;
        return t;
    }
    const u32 pde_la = (ctl.cr3 & kPteFrame) + (va >> 22) * 4;
    u32 pde;
    if (!read_entry(lpar, pde_la, pde)) {
        t.error = hole;
        return t;
    }
    if (!(pde & kPteP)) {
        t.error = access;
        return t;
    }
    const bool large = (pde & kPtePs) && (ctl.cr4 & kCr4Pse);
    u32 leaf = pde, leaf_la = pde_la, frame;
    if (large) {
        frame = (pde & kPdeLargeFrame) | (va & 0x3ff000);
    } else {
        leaf_la = (pde & kPteFrame) + ((va >> 12) & 0x3ff) * 4;
        if (!read_entry(lpar, leaf_la, leaf)) {
            t.error = hole;
            return t;
        }
        if (!(leaf & kPteP)) {
            t.error = access;
            return t;
        }
        frame = leaf & kPteFrame;
    }
    // CR0.WP is taken as set: supervisor writes obey R/W too (Linux always sets it).
    t.writable = (pde & kPteW) && (leaf & kPteW);
    t.user = (pde & kPteU) && (leaf & kPteU);
    if (((access & kPfU) && !t.user) || ((access & kPfW) && !t.writable)) {
        t.error = access | kPfP;
        return t;
    }
    if (!lpar.memory.contains(LogicalAddr(frame), 4096)) {
        t.error = hole;
        return t;
    }
    if (!probe) {
        if (!large && !mark(lpar, pde_la, pde, kPteA)) {
            changed = true;
            return t;
        }
        if (!mark(lpar, leaf_la, leaf, kPteA | ((access & kPfW) ? kPteD : 0))) {
            changed = true;
            return t;
        }
    }
    t.ok = true;
    t.logical = frame | (va & 0xfff);
    t.global = (leaf & kPteG) && (ctl.cr4 & kCr4Pge);
    t.large = large;
    t.dirty = (leaf & kPteD) || (access & kPfW);
    return t;
}

} // namespace

Translation guest_translate(Lpar& lpar, const GuestControl& ctl, u32 va, u32 access, bool probe) {
    // A vcpu on another CPU that keeps rewriting the entry only delays this one: after a few
    // rounds the access faults (the guest retries it, as after any page fault).
    constexpr int kRounds = 16;
    for (int round = 0;; ++round) {
        bool changed = false;
        Translation t = walk(lpar, ctl, va, access, probe, changed);
        if (!changed) return t;
        if (round + 1 == kRounds) {
            t = Translation{};
            t.error = access & (kPfW | kPfU); // not present: the guest retries
            return t;
        }
    }
}

bool guest_mark_accessed(Lpar& lpar, u32 la, u32 entry) {
    return lpar.memory.contains(LogicalAddr(la), sizeof(entry)) && mark(lpar, la, entry, kPteA);
}

u32 vcpu_logical(const Vcpu& v, u32 logical) {
    const VcpuState& s = v.arch;
    if (!s.virq_alias_on || !(s.ctl.cr0 & kCr0Pg) || (logical & ~0xfffu) != s.virq_alias)
        return logical;
    return (s.virq_area & ~0xfffu) | (logical & 0xfffu);
}

namespace {

// Each page's piece goes through the vcpu's shadow entry when it has one for the access (as
// the CPU's own access would), else through a walk of the guest's tables.
template <class Copy, class HostCopy>
bool guest_copy(Vcpu& v, u32 va, usize len, u32 access, GuestFault* fault, Copy&& copy,
                HostCopy&& host_copy) {
    usize done = 0;
    while (done < len) {
        const u32 at = va + static_cast<u32>(done);
        const usize piece = len - done < 4096 - (at & 0xfff) ? len - done : 4096 - (at & 0xfff);
        if (u8* p = shadow_host_ptr(v, at, access)) {
            host_copy(p, done, piece);
            done += piece;
            continue;
        }
        const Translation t = guest_translate(*v.lpar, v.arch.ctl, at, access);
        if (!t.ok || !copy(LogicalAddr(vcpu_logical(v, t.logical)), done, piece)) {
            if (fault) *fault = GuestFault{at, t.ok ? (access | kPfP | kPfRsvd) : t.error};
            return false;
        }
        done += piece;
    }
    return true;
}

} // namespace

TESSERA_HOT bool guest_read(Vcpu& v, u32 va, void* dst, usize len, GuestFault* fault, bool user) {
    auto* out = static_cast<u8*>(dst);
    return guest_copy(
        v, va, len, user ? kPfU : 0, fault,
        [&](LogicalAddr la, usize at, usize n) { return v.lpar->memory.copy_out(out + at, la, n); },
        [&](const u8* p, usize at, usize n) { rt::mem_copy(out + at, p, n); });
}

TESSERA_HOT bool guest_write(Vcpu& v, u32 va, const void* src, usize len, GuestFault* fault,
                             bool user) {
    const auto* in = static_cast<const u8*>(src);
    return guest_copy(
        v, va, len, kPfW | (user ? kPfU : 0), fault,
        [&](LogicalAddr la, usize at, usize n) { return v.lpar->memory.copy_in(la, in + at, n); },
        [&](u8* p, usize at, usize n) { rt::mem_copy(p, in + at, n); });
}

TESSERA_HOT const u8* guest_read_ptr(Vcpu& v, u32 va, usize len) {
    if (len == 0 || len > 4096 - (va & 0xfff)) return nullptr;
    if (const u8* p = shadow_host_ptr(v, va, 0)) return p;
    const Translation t = guest_translate(*v.lpar, v.arch.ctl, va, 0);
    if (!t.ok) return nullptr;
    return static_cast<const u8*>(
        v.lpar->memory.host_ptr(LogicalAddr(vcpu_logical(v, t.logical)), len));
}

} // namespace tessera::arch
