// The ia32 harnesses' machine: a 2-vcpu LPAR of 2 chunks at real 16 MiB with a neighbour's chunk
// behind it (low real addresses, as the shadow entries need: tests/unit/ia32/host_hooks.hpp),
// its vcpus in ring 1 with Linux's flat segments; and the isolation check of the shadow tables.
#pragma once

#include "isa/ia32/descriptor.hpp"
#include "isa/ia32/guest_mmu.hpp"
#include "isa/ia32/shadow.hpp"
#include "tests/fuzz/fake_lpar.hpp"
#include "tests/unit/ia32/host_hooks.hpp"

#include <arch/x86.hpp>

namespace tessera::fuzz::ia32 {

using namespace tessera::arch;

inline constexpr u32 kLparBytes = 2 * kChunkSize;
inline constexpr u32 kVcpus = 2;

// A fresh LPAR (vcpus in ring 1, paging off) for the next input; the previous one's shadow
// pages go back to the (global) pool first.
inline void reset(FakeLpar& m) {
    for (Vcpu& v : m.lpar->vcpus) shadow_release(v);
    m.reset(kVcpus);
    m.start();
    for (Vcpu& v : m.lpar->vcpus) {
        GuestFrame& r = v.arch.regs;
        r = GuestFrame{};
        r.cs = X86_GUEST_KCODE;
        r.ss = r.ds = r.es = X86_GUEST_KDATA;
        r.eflags = 0x202;
        r.esp = 0x9000;
        v.arch.ctl = GuestControl{};
        v.arch.gdt[0x60 >> 3] = desc::install(0x00cf9a000000ffffull);
        v.arch.gdt[0x68 >> 3] = desc::install(0x00cf92000000ffffull);
        v.arch.gdt[0x73 >> 3] = desc::install(0x00cffa000000ffffull);
        v.arch.gdt[0x7b >> 3] = desc::install(0x00cff2000000ffffull);
    }
}

// True when real [real, real + 4 KiB) is one of the LPAR's pages.
inline bool lpar_page(const FakeLpar& m, u32 real) {
    for (u32 c = 0; c < m.lpar->memory.chunk_count(); ++c) {
        const u64 base = m.pool->base(m.lpar->memory.real_chunk(c)).value();
        if (real >= base && real - base < kChunkSize) return true;
    }
    return false;
}

// Every present entry of each of the vcpu's shadow spaces (but the switcher's slot) maps a page
// of its own LPAR, through a table of the shadow pool; in the current space a writable entry is
// one the guest's own tables let the kernel write (probe: no side effects), to the same page -
// unless the guest changed its tables since the last full flush (`stale`: like a TLB, the shadow
// may lag behind them; kept spaces of other address spaces always may).
inline void check_shadow(FakeLpar& m, Vcpu& v, bool stale = false) {
    for (const ShadowSpace& s : v.arch.shadows) {
        if (s.pd == 0) continue;
        const bool current = &s == &shadow_space(v);
        const u32* pd = shadow_pool_page(s.pd - 1u);
        FUZZ_CHECK(pd[1023] == fake::kSwitcherPde);
        for (u32 i = 0; i < 1023; ++i) {
            if (!(pd[i] & kPteP)) continue;
            FUZZ_CHECK(!(pd[i] & kPtePs)); // shadows use 4 KiB pages only
            const u32* pt = fake::shadow_page_at(pd[i] & kPteFrame);
            FUZZ_CHECK(pt != nullptr);
            for (u32 j = 0; j < 1024; ++j) {
                const u32 e = pt[j];
                if (!(e & kPteP)) continue;
                FUZZ_CHECK(lpar_page(m, e & kPteFrame));
                if (!current || stale || !(e & kPteW) || !(v.arch.ctl.cr0 & kCr0Pg) ||
                    !(v.arch.ctl.cr0 & kCr0Wp))
                    continue;
                const u32 va = i << 22 | j << 12;
                const Translation t = guest_translate(*m.lpar, v.arch.ctl, va, kPfW, true);
                FUZZ_CHECK(t.ok);
                const auto real =
                    m.lpar->memory.translate(LogicalAddr(t.logical & kPteFrame), 4096);
                FUZZ_CHECK(real && real->value() == (e & kPteFrame));
            }
        }
    }
}

} // namespace tessera::fuzz::ia32
