// Fuzzes the ia32 guest page-table walk (isa/ia32/guest_mmu.cpp) and shadow paging
// (isa/ia32/shadow.cpp) over fake memory: guest tables written by the input (entries biased to
// the LPAR's end, the neighbour's real addresses, the switcher, large and global pages), then a
// sequence of translations, shadow fills, invlpg and ranges (H_IA32_INVALIDATE, H_IA32_PROTECT),
// an invlpg with a fill (H_IA32_REFILL), a moved range (H_IA32_MOVE), flushes, cr3 loads, switches
// between kept shadow spaces (H_IA32_SWITCH_MM), a fork's child space made from other tables
// (H_IA32_FORK_MM), copies through guest-virtual addresses and table changes from two vcpus.
// Checked: a translation that succeeds gives a logical address inside the LPAR and never one for
// the switcher's 4 MiB; every shadow entry maps one of the LPAR's pages and, while the guest's
// tables are unchanged, is writable only where the guest's are; the neighbour's memory is intact.
#include "tests/fuzz/ia32_machine.hpp"

using namespace tessera;
using namespace tessera::arch;
using namespace tessera::fuzz::ia32;

namespace {

constexpr u32 kPd = 0x100000, kPt = 0x101000;

void poke(fuzz::FakeLpar& m, u32 la, u32 v) {
    m.lpar->memory.copy_in(LogicalAddr(la), &v, 4);
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const u8* data, usize size) {
    static fuzz::FakeLpar m(kVcpus, 3, 2, 16 * MiB);
    reset(m);
    fuzz::Input in(data, size);
    const u64 entries[] = {0,
                           kPt,
                           kPt + 0x1000,
                           0x200000,
                           kLparBytes - 0x1000,
                           kLparBytes,
                           kLparBytes + 0x1000,
                           kChunkSize - 0x1000,
                           kChunkSize,
                           kChunkSize * 3,
                           0x0400'0000, // the shadow pool's fake real addresses
                           X86_SWITCHER_VA,
                           0xfffff000,
                           0x400000};
    const u64 vas[] = {0,
                       0x1000,
                       0x400000,
                       0x3ff000,
                       0x7ff000,
                       kPd,
                       kPt,
                       kLparBytes - 0x1000,
                       kLparBytes,
                       X86_SWITCHER_VA,
                       X86_SWITCHER_VA - 0x1000,
                       0xfffff000,
                       0xbffff000,
                       0xc0000000};
    const u32 flags_mask = kPteP | kPteW | kPteU | kPteA | kPteD | kPtePs | kPteG;

    // The guest's tables: a directory with two page tables, identity-mapped, then fuzzed entries.
    static u32 tables[3 * 1024];
    if (tables[0] == 0) {
        tables[0] = kPt | kPteP | kPteW | kPteU;
        tables[0xc0000000 >> 22] = (kPt + 0x1000) | kPteP | kPteW;
        for (u32 i = 0; i < 1024; ++i) {
            tables[1024 + i] = (i << 12) | kPteP | kPteW | kPteU;
            tables[2048 + i] = (i << 12) | kPteP | kPteW | kPteG;
        }
    }
    m.lpar->memory.copy_in(LogicalAddr(kPd), tables, sizeof tables);
    const u8 setup = in.byte();
    for (u32 i = 0; i < (setup & 15u); ++i) {
        const u32 slot = in.below(3 * 1024);
        poke(m, kPd + 4 * slot,
             (static_cast<u32>(in.edge(entries)) & ~0xfffu) | (in.u16v() & 0xfff));
    }
    for (Vcpu& v : m.lpar->vcpus) {
        v.arch.ctl.cr0 = kCr0Pe | kCr0Et | ((setup & 0x10) ? 0 : kCr0Wp) | kCr0Pg;
        v.arch.ctl.cr3 = kPd;
        v.arch.ctl.cr4 = (setup & 0x20) ? (kCr4Pse | kCr4Pge) : ((setup & 0x40) ? kCr4Pse : 0);
    }

    bool stale[kVcpus] = {};
    for (int step = 0; step < 48 && !in.empty(); ++step) {
        const u8 op = in.byte();
        Vcpu& v = m.lpar->vcpus[(op >> 7) & 1];
        const u32 va = static_cast<u32>(in.edge(vas)) & ~(op & 0x40 ? 0u : 0xfffu);
        switch (op % 8) {
        case 0: { // the walk alone
            const u32 access = in.byte() & (kPfW | kPfU);
            const Translation t = guest_translate(*m.lpar, v.arch.ctl, va, access, op & 8);
            if (t.ok) {
                FUZZ_CHECK(t.logical < kLparBytes);
                FUZZ_CHECK(va < X86_SWITCHER_VA);
            } else {
                FUZZ_CHECK((t.error & (kPfW | kPfU)) == access);
            }
            break;
        }
        case 1:
        case 2: { // a page fault the guest took
            const u32 error = in.byte() & (kPfP | kPfW | kPfU);
            u32 guest_error = 0;
            const ShadowFill f = shadow_fill(v, va, error, guest_error);
            if (f == ShadowFill::Filled) FUZZ_CHECK(va < X86_SWITCHER_VA);
            break;
        }
        case 3:
            if ((op & 0x28) == 0x28) { // H_IA32_MOVE: a moved range, its new addresses filled
                const u32 from = va & ~0xfffu, to = static_cast<u32>(in.edge(vas)) & ~0xfffu;
                const u64 len = u64{in.byte()} << (op & 0x10 ? 14 : 12); // up to kMoveMax
                if (from + len <= (u64{1} << 32) && to + len <= (u64{1} << 32)) {
                    const u32 made = shadow_move(v, from, from + len, to, in.byte() % 3);
                    FUZZ_CHECK(made <= len >> 12);
                }
                break;
            }
            if (op & 0x20) { // H_IA32_INVALIDATE: a range, up to the top of the 4 GiB
                const u64 end = u64{va} + (u64{in.byte()} << (op & 0x10 ? 22 : 12));
                if (op & 0x40)
                    shadow_protect(v, va, end < (u64{1} << 32) ? end : u64{1} << 32);
                else
                    shadow_invalidate(v, va, end < (u64{1} << 32) ? end : u64{1} << 32);
                break;
            }
            if (op & 0x40) { // H_IA32_REFILL: the invlpg and a fill of a ring-3 read
                if (shadow_refill(v, va, in.byte() % 3)) FUZZ_CHECK(va < X86_SWITCHER_VA);
                break;
            }
            shadow_invlpg(v, va);
            break;
        case 4:
            if ((op & 0x28) == 0x28) { // H_IA32_FORK_MM: a child space from other tables
                const u64 ctx = 1 + in.byte() % 6;
                if (ctx != shadow_space(v).ctx) {
                    const u32 child = static_cast<u32>(in.edge(entries)) & ~0xfffu;
                    const u32 made =
                        shadow_fork(v, in.edge(vas), child, ctx, in.byte() % 3, in.byte() % 3);
                    FUZZ_CHECK(made <= kForkCopyMax);
                    stale[v.index] = true;
                }
                break;
            }
            if (op & 0x20) { // H_IA32_SWITCH_MM: a kept space may lag behind the tables
                v.arch.ctl.cr3 = (op & 0x10) ? kPd : static_cast<u32>(in.edge(entries)) & ~0xfffu;
                shadow_switch(v, in.byte() % 6, in.byte() % 3, in.byte() % 3);
                stale[v.index] = true;
                break;
            }
            shadow_flush(v, op & 8);
            if (!(op & 8)) stale[v.index] = false;
            break;
        case 5: { // mov cr3: another directory (maybe outside the LPAR)
            v.arch.ctl.cr3 = static_cast<u32>(in.edge(entries)) & ~0xfffu;
            shadow_flush(v, v.arch.ctl.cr4 & kCr4Pge);
            // Global entries survive it (CR4.PGE), as in a TLB: they may disagree with the new
            // tables until a full flush.
            stale[v.index] = (v.arch.ctl.cr4 & kCr4Pge) != 0;
            break;
        }
        case 6: { // copies through guest-virtual addresses
            u8 buf[96];
            const usize len = in.byte() % sizeof buf;
            GuestFault fault;
            if (op & 8) {
                for (usize i = 0; i < len; ++i) buf[i] = in.byte();
                const bool ok = guest_write(v, va, buf, len, &fault, op & 0x20);
                // The kernel's writes may hit its own tables: the shadow may lag now.
                if (ok) stale[0] = stale[1] = true;
            } else {
                guest_read(v, va, buf, len, &fault, op & 0x20);
            }
            break;
        }
        case 7: { // the guest changes an entry of its tables
            const u32 slot = in.below(3 * 1024);
            poke(m, kPd + 4 * slot,
                 (static_cast<u32>(in.edge(entries)) & ~0xfffu) | (in.u16v() & flags_mask));
            stale[0] = stale[1] = true;
            break;
        }
        }
        FUZZ_CHECK(m.neighbour_intact());
        for (u32 i = 0; i < kVcpus; ++i) check_shadow(m, m.lpar->vcpus[i], stale[i]);
    }
    return 0;
}
