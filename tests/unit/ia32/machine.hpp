// A fake machine for the ia32 host tests: an Lpar whose logical memory is real memory of a
// malloc'd buffer (ChunkPool/LogicalMap over a RealWindow), its vcpus in ring 1, and the guest's
// own 2-level page tables written into that memory.
#pragma once

#include "common/lpar.hpp"
#include "isa/ia32/cpu.hpp"
#include "isa/ia32/descriptor.hpp"
#include "isa/ia32/guest_mmu.hpp"
#include "isa/ia32/shadow.hpp"
#include "tests/unit/ia32/host_hooks.hpp"

#include <arch/x86.hpp>
#include <doctest/doctest.h>

#include <cstring>
#include <initializer_list>
#include <memory>
#include <vector>

namespace tessera::arch::test {

// Three chunks of fake RAM at real 16 MiB (low, so real addresses fit the 32-bit shadow entries
// and stay below fake::kShadowRealBase). Another owner holds the first one; the LPAR gets the
// other two as its logical 0..32 MiB (real 32 MiB and 48 MiB): logical and real differ.
inline constexpr u64 kRealBase = 16 * MiB;
inline constexpr u32 kLparSize = 2 * kChunkSize;

struct Machine {
    std::vector<u8> ram = std::vector<u8>(3 * kChunkSize);
    std::unique_ptr<ChunkPool> pool = std::make_unique<ChunkPool>();
    std::unique_ptr<Lpar> lpar = std::make_unique<Lpar>();

    explicit Machine(u32 vcpus = 2) {
        RealRange r{RealAddr(kRealBase), ram.size()};
        RealWindow w{reinterpret_cast<uptr>(ram.data()), RealAddr(kRealBase), ram.size()};
        REQUIRE(pool->init(&r, 1, nullptr, 0, w));
        REQUIRE(pool->total() == 3);
        REQUIRE(pool->allocate(9) == 0);
        lpar->id = 1;
        lpar->vcpu_count = vcpus;
        for (u32 i = 0; i < kMaxVcpusPerLpar; ++i) {
            lpar->vcpus[i].lpar = lpar.get();
            lpar->vcpus[i].index = i;
            ring1(lpar->vcpus[i]);
        }
        REQUIRE(lpar->memory.assign(*pool, lpar->id, kLparSize));
        // Whole chunks: zeroed now, so that what the tests poke past the LogicalMap stays.
        REQUIRE(*lpar->memory.translate(LogicalAddr(0), kChunkSize) == RealAddr(real_of(0)));
        REQUIRE(*lpar->memory.translate(LogicalAddr(kChunkSize), kChunkSize) ==
                RealAddr(real_of(kChunkSize)));
        REQUIRE(lpar->mark_loaded());
        REQUIRE(lpar->start());
    }
    ~Machine() {
        // The shadow pool is global: leave no page pointing at this vcpu's soon-freed state.
        for (Vcpu& v : lpar->vcpus) shadow_release(v);
    }
    Machine(const Machine&) = delete;
    Machine& operator=(const Machine&) = delete;

    Vcpu& vcpu(u32 i = 0) { return lpar->vcpus[i]; }

    // Where logical `la` is in real memory (chunk 0 -> real chunk 1, chunk 1 -> real chunk 2).
    static u32 real_of(u32 la) {
        return static_cast<u32>(kRealBase + (1 + la / kChunkSize) * kChunkSize + la % kChunkSize);
    }
    // The host bytes at logical `la`, bypassing the LogicalMap.
    u8* host(u32 la) { return ram.data() + (real_of(la) - kRealBase); }

    u32 peek(u32 la) {
        u32 v;
        std::memcpy(&v, host(la), 4);
        return v;
    }
    void poke(u32 la, u32 v) { std::memcpy(host(la), &v, 4); }
    void poke64(u32 la, u64 v) { std::memcpy(host(la), &v, 8); }
    void poke_bytes(u32 la, std::initializer_list<u8> bytes) {
        u32 at = la;
        for (u8 b : bytes) *host(at++) = b;
    }

    // A vcpu as vcpu_init leaves it: ring 1, flat DPL-1 segments, paging off, virtual IF off.
    static void ring1(Vcpu& v) {
        GuestFrame& r = v.arch.regs;
        r = GuestFrame{};
        r.cs = X86_GUEST_KCODE;
        r.ss = r.ds = r.es = X86_GUEST_KDATA;
        r.eflags = 0x202;
        r.esp = 0x9000;
        v.arch.ctl = GuestControl{};
    }
};

// The guest's own page tables in its logical memory: a directory at `pd` and page tables taken
// from `next_pt` on.
struct GuestPaging {
    Machine& m;
    u32 pd;
    u32 next_pt;

    explicit GuestPaging(Machine& machine, u32 pd_la = 0x100000, u32 pts_la = 0x101000)
        : m(machine), pd(pd_la), next_pt(pts_la) {
        for (u32 i = 0; i < 1024; ++i) m.poke(pd + i * 4, 0);
    }

    // Paging on for the vcpu with this directory (CR0.PG | WP, CR4 as given).
    void enable(Vcpu& v, u32 cr4 = 0) {
        v.arch.ctl.cr0 = kCr0Pe | kCr0Et | kCr0Wp | kCr0Pg;
        v.arch.ctl.cr3 = pd;
        v.arch.ctl.cr4 = cr4;
    }
    GuestControl control(u32 cr4 = 0) const {
        GuestControl c;
        c.cr0 = kCr0Pe | kCr0Et | kCr0Wp | kCr0Pg;
        c.cr3 = pd;
        c.cr4 = cr4;
        return c;
    }

    u32 pde_la(u32 va) const { return pd + (va >> 22) * 4; }
    u32 pde(u32 va) { return m.peek(pde_la(va)); }
    u32 pte_la(u32 va) { return (pde(va) & kPteFrame) + ((va >> 12) & 0x3ff) * 4; }
    u32 pte(u32 va) { return m.peek(pte_la(va)); }

    // Maps the 4 KiB page at va to logical `la` (a new page table the first time its 4 MiB
    // slot is used, the directory entry with pde_flags).
    void map(u32 va, u32 la, u32 flags = kPteP | kPteW | kPteU,
             u32 pde_flags = kPteP | kPteW | kPteU) {
        if (!(pde(va) & kPteP) || (pde(va) & kPtePs)) {
            for (u32 i = 0; i < 1024; ++i) m.poke(next_pt + i * 4, 0);
            m.poke(pde_la(va), next_pt | pde_flags);
            next_pt += 4096;
        } else {
            m.poke(pde_la(va), (pde(va) & kPteFrame) | pde_flags);
        }
        m.poke(pte_la(va), (la & kPteFrame) | flags);
    }
    // A 4 MiB page (PS in the directory entry).
    void map_large(u32 va, u32 la, u32 flags = kPteP | kPteW | kPteU) {
        m.poke(pde_la(va), (la & kPdeLargeFrame) | flags | kPtePs);
    }
    void unmap(u32 va) { m.poke(pte_la(va), 0); }
};

// A guest kernel's descriptor tables for reflection: a GDT window with Linux's flat segments at
// Linux's indices (raised as lgdt installs them), an IDT at logical kIdt (paging off, or mapped
// 1:1 by the test), a TSS at kTss whose esp0/ss0 point at a ring-1 stack.
struct Kernel {
    static constexpr u32 kKernelCs = 0x60, kKernelDs = 0x68, kUserCs = 0x73, kUserDs = 0x7b,
                         kTssSel = 0x80;
    static constexpr u32 kIdt = 0x3000, kTss = 0x5000, kEsp0 = 0xa000;
    Machine& m;
    Vcpu& v;

    explicit Kernel(Machine& machine, u32 vcpu = 0) : m(machine), v(machine.vcpu(vcpu)) {
        v.arch.gdt[kKernelCs >> 3] = desc::install(0x00cf9a000000ffffull);
        v.arch.gdt[kKernelDs >> 3] = desc::install(0x00cf92000000ffffull);
        v.arch.gdt[kUserCs >> 3] = desc::install(0x00cffa000000ffffull);
        v.arch.gdt[kUserDs >> 3] = desc::install(0x00cff2000000ffffull);
        v.arch.tables.idt_base = kIdt;
        v.arch.tables.idt_limit = 256 * 8 - 1;
        v.arch.tables.tr = kTssSel;
        v.arch.tables.tss_base = kTss;
        m.poke(kTss + 4, kEsp0);
        m.poke(kTss + 8, kKernelDs);
    }

    // An IDT gate: type 0xe interrupt gate, 0xf trap gate.
    static u64 gate_value(u32 handler, u32 sel, u8 type, unsigned dpl = 0, bool present = true) {
        const u8 access = static_cast<u8>((present ? 0x80 : 0) | (dpl << 5) | type);
        return (u64{handler} & 0xffff) | (u64{sel & 0xffff} << 16) | (u64{access} << 40) |
               (u64{handler >> 16} << 48);
    }
    void gate(u32 vector, u32 handler, u8 type = 0xe, unsigned dpl = 0, u32 sel = kKernelCs,
              bool present = true) {
        m.poke64(kIdt + vector * 8, gate_value(handler, sel, type, dpl, present));
    }
    // The words at the guest's (logical) stack.
    std::vector<u32> stack(u32 at, usize n) {
        std::vector<u32> w(n);
        for (usize i = 0; i < n; ++i) w[i] = m.peek(at + static_cast<u32>(i) * 4);
        return w;
    }
};

// Sets the fake TSC for one test.
struct Tsc {
    explicit Tsc(u64 now) { fake::tsc = now; }
    ~Tsc() { fake::tsc = 0; }
    void operator=(u64 now) { fake::tsc = now; }
};

} // namespace tessera::arch::test
