// ia32 soak hooks (tests/lpar/lib/soak_isa.hpp): ud2, which the hypervisor reflects through the
// LPAR's own IDT as #UD (vector 6); the descriptor and page-table attacks, whose page faults and
// #GPs come back to this LPAR's handler (recover.hpp).
#include "soak_isa.hpp"

#include "descriptors.hpp"
#include "recover.hpp"

namespace lpar::isa {
namespace {

constexpr u64 kUd = 6;
u64 faults = 0;

void on_ud(TrapFrame& f) {
    fetch_add(faults, u64{1});
    f.eip += 2; // ud2
}

// A #GP or #PF that an attack's probe expects resumes after the probe; any other re-faults into
// the library's "unexpected trap" report.
struct Fault {
    u32 vector, error, cr2;
};
Fault g_fault;
void on_fault(TrapFrame& f) {
    g_fault = Fault{f.vector, f.error, f.vector == 14 ? read_cr2() : 0};
    if (!recover(f)) set_trap_handler(f.vector, nullptr);
}

} // namespace

void soak_prepare() {
    set_trap_handler(kUd, on_ud);
    set_trap_handler(13, on_fault);
    set_trap_handler(14, on_fault);
}

void soak_fault() {
    asm volatile("ud2" ::: "memory");
}

u64 soak_faults_seen() {
    return load_acquire(faults);
}

const char* soak_fault_name() {
    return "ud2 (#UD, vector 6)";
}

} // namespace lpar::isa

// ---- Descriptor attacks ------------------------------------------------------------------------
namespace lpar::isa {
namespace {

constexpr unsigned kAttackEntries = 16; // GDT selectors below 0x80: under the library's own
alignas(8) u64 g_attack_gdt[kAttackEntries];
alignas(8) u64 g_attack_ldt[kAttackEntries];

// A flat 4 GiB segment (G, D) with this access byte.
constexpr u64 segment(u8 access) {
    return descriptor(0, 0xfffff, access, 0xc);
}

enum class Kind : u8 { CallGate, OtherGate, SystemSegment, Dpl0, Random, Dpl3Data };

// One hostile (or, for Dpl3Data, legitimate) descriptor of a random kind.
u64 attack_descriptor(Lcg& rng, Kind& kind) {
    kind = static_cast<Kind>(rng.below(6));
    const u64 dpl = rng.below(4) << 5;
    const u32 target = static_cast<u32>(rng.next());
    switch (kind) {
    case Kind::CallGate: // to a random selector:offset, any DPL
        return (u64{target & 0xffff}) | (u64{target >> 16 & 0xfffc} << 16) | ((0x8c | dpl) << 40) |
               (u64{target >> 16} << 48);
    case Kind::OtherGate: { // interrupt, trap or task gate
        const u8 types[] = {0x5, 0x6, 0x7, 0xe, 0xf, 0x4};
        return (u64{target & 0xffff}) | (u64{0x121} << 16) |
               ((0x80 | dpl | types[rng.below(6)]) << 40);
    }
    case Kind::SystemSegment: { // TSS (available or busy) or LDT, any DPL
        const u8 types[] = {0x9, 0xb, 0x2, 0x1, 0x3};
        return descriptor(target, 0x67, static_cast<u8>(0x80 | dpl | types[rng.below(5)]), 0);
    }
    case Kind::Dpl0: // code or data, DPL 0
        return segment(rng.below(2) ? 0x9a : 0x92);
    case Kind::Random:
        return rng.next();
    case Kind::Dpl3Data:
        break;
    }
    return segment(0xf2);
}

// What the CPU has for `sel` (lar from ring 1), against what was asked for.
void check_selector(MmuAttacks& m, u32 sel, Kind kind) {
    ++m.tries;
    u32 rights = 0;
    const bool seen = lar(sel, rights);
    const bool system = seen && !((rights >> 12) & 1);
    const unsigned dpl = (rights >> 13) & 3;
    if (system) {
        m.violation("a system descriptor (gate, TSS, LDT) reached the CPU", rights);
    } else if (seen && dpl == 0) {
        m.violation("a DPL-0 segment reached the CPU", rights);
    } else if (kind == Kind::Dpl3Data) {
        if (seen && dpl == 3)
            ++m.taken;
        else
            m.violation("a DPL-3 data segment was not installed", seen ? rights : -1);
    } else if (kind == Kind::Dpl0 && seen && dpl == 1) {
        ++m.taken; // installed, raised to DPL 1
    } else {
        ++m.refused;
    }
}

struct [[gnu::packed]] TablePointer {
    tessera::u16 limit;
    u32 base;
};

void load_gdt(const u64* table, unsigned entries) {
    const TablePointer p{static_cast<tessera::u16>(entries * 8 - 1), reinterpret_cast<u32>(table)};
    asm volatile("lgdt %0" ::"m"(p) : "memory");
}

void no_gdt() {
    const TablePointer none{0, 0};
    asm volatile("lgdt %0" ::"m"(none) : "memory");
}

// lldt that survives a #GP; false if it faulted.
bool try_lldt(u32 sel) {
    const u32 before = g_recovered;
    asm volatile("movl $1f, %[rec]\n\tlldt %w[s]\n1:\n\tmovl $0, %[rec]"
                 : [rec] "=m"(g_recover)
                 : [s] "r"(sel)
                 : "memory");
    return __atomic_load_n(&g_recovered, __ATOMIC_RELAXED) == before;
}

// A GDT of random length full of call gates, interrupt/trap/task gates, TSS and LDT
// descriptors, DPL-0 segments and random words, plus legitimate DPL-3 data segments: loaded
// with lgdt, then every selector is looked at with lar. No system descriptor may ever be
// visible (the hypervisor installs none) and no segment with DPL 0 (raised to 1); a DPL-3
// data segment must be there as given. Afterwards the LPAR has no GDT of its own again.
void gdt_attacks(Lcg& rng, MmuAttacks& m) {
    const unsigned n = 2 + static_cast<unsigned>(rng.below(kAttackEntries - 1));
    Kind kinds[kAttackEntries] = {};
    g_attack_gdt[0] = 0;
    for (unsigned i = 1; i < n; ++i) g_attack_gdt[i] = attack_descriptor(rng, kinds[i]);
    load_gdt(g_attack_gdt, n);
    for (unsigned i = 1; i < n; ++i) check_selector(m, i * 8, kinds[i]);
    no_gdt();
}

// The switcher's GDT rows (int $0x85): a hostile GDT loaded twice with two sets of TLS entries
// (6-8) and the same rest, so the vcpu has a row for each. A change back to the first set by
// the switcher must show exactly what its lgdt showed (lar, as above); made-up sets load
// nothing. Afterwards the LPAR has no GDT of its own again.
void tls_row_attacks(Lcg& rng, MmuAttacks& m) {
    constexpr unsigned n = 9; // entries 6-8 are the TLS entries
    Kind kinds[n] = {}, second[n] = {};
    g_attack_gdt[0] = 0;
    for (unsigned i = 1; i < n; ++i) g_attack_gdt[i] = attack_descriptor(rng, kinds[i]);
    const u64 first[3] = {g_attack_gdt[6], g_attack_gdt[7], g_attack_gdt[8]};
    load_gdt(g_attack_gdt, n);
    for (unsigned i = 6; i < n; ++i) g_attack_gdt[i] = attack_descriptor(rng, second[i]);
    load_gdt(g_attack_gdt, n);
    ++m.tries;
    if (switcher_tls(first) != 0) {
        m.violation("the switcher refused a set the vcpu has a GDT row for", 0);
    } else {
        ++m.taken;
        for (unsigned i = 6; i < n; ++i) check_selector(m, i * 8, kinds[i]);
    }
    for (unsigned k = 0; k < 8; ++k) {
        u64 made_up[3] = {rng.next(), rng.next(), rng.next()};
        if (k & 1) made_up[rng.below(3)] = first[rng.below(3)];
        const bool known =
            (made_up[0] == first[0] && made_up[1] == first[1] && made_up[2] == first[2]) ||
            (made_up[0] == g_attack_gdt[6] && made_up[1] == g_attack_gdt[7] &&
             made_up[2] == g_attack_gdt[8]);
        ++m.tries;
        const u32 status = switcher_tls(made_up);
        if (status == 0 && !known)
            m.violation("the switcher loaded a GDT row for a made-up set", 0);
        else if (status == 0)
            ++m.taken;
        else
            ++m.refused;
    }
    no_gdt();
}

// The same kinds in an LDT of its own, loaded with lldt through a legitimate LDT descriptor
// (GDT selector 8): every TI=1 selector is looked at with lar as above. After lldt 0 no TI=1
// selector may be visible at all: the CPU's LDTR never keeps naming guest memory.
void ldt_attacks(Lcg& rng, MmuAttacks& m) {
    const unsigned n = 1 + static_cast<unsigned>(rng.below(kAttackEntries));
    Kind kinds[kAttackEntries] = {};
    for (unsigned i = 0; i < n; ++i) g_attack_ldt[i] = attack_descriptor(rng, kinds[i]);
    g_attack_gdt[0] = 0;
    g_attack_gdt[1] = descriptor(reinterpret_cast<u32>(g_attack_ldt), n * 8 - 1, 0x82, 0);
    load_gdt(g_attack_gdt, 2);
    ++m.tries;
    if (!try_lldt(8)) {
        m.violation("lldt of a valid LDT descriptor", g_fault.error);
    } else {
        ++m.taken;
        for (unsigned i = 0; i < n; ++i) check_selector(m, i * 8 | 4 | 1, kinds[i]);
    }
    ++m.tries;
    if (try_lldt(0))
        ++m.taken;
    else
        m.violation("lldt 0", g_fault.error);
    for (unsigned i = 0; i < n; ++i) {
        ++m.tries;
        u32 rights = 0;
        if (lar(i * 8 | 4 | 1, rights))
            m.violation("an LDT selector visible after lldt 0", rights);
        else
            ++m.refused;
    }
    no_gdt();
}

} // namespace
} // namespace lpar::isa

// ---- Page-table attacks ------------------------------------------------------------------------
// Paging on with page tables of its own that try to reach what is not the LPAR's: PTEs and 4 MiB
// PDEs naming memory past the LPAR (the first page past it, random pages, the top of the 4 GiB,
// the switcher's frames), a PDE naming memory past the LPAR as a page table, its own memory
// mapped over the hypervisor's 4 MiB at 0xffc00000; and tables that point at themselves, which
// are legitimate and must behave: the page directory used as a page table (self-reference), a
// writable alias of the page directory and a table mapping itself, each written through and
// then honoured at the next invlpg or cr3 load (the shadows must never keep a stale entry).
// Paging goes off again at the end of the round; the shadows go with it.
namespace lpar::isa {
namespace {

constexpr u32 kP = 1, kW = 2, kU = 4, kPs = 0x80, kFrame = 0xfffff000;
constexpr u32 kCr0Pg = 0x80000000u, kCr4Pse = 0x10;
constexpr u32 kVaTest = 0x40000000; // the attack table's 4 MiB
constexpr u32 kSlotTest = kVaTest >> 22;
constexpr u32 kSlotSelf = 0x200;      // PD[512] names the PD: 0x80000000.. shows the tables
constexpr u32 kSwitcher = 0xffc00000; // the hypervisor's 4 MiB in every address space
constexpr unsigned kOutsidePtes = 8;  // g_pt[8..15]: pages past the LPAR

alignas(4096) u32 g_pd[1024];
alignas(4096) u32 g_pt[1024];
alignas(4096) u32 g_pages[2][1024]; // two pages with known first words

u32 la(const void* p) {
    return reinterpret_cast<u32>(p);
}

u32 read_cr(int n) {
    u32 v = 0;
    if (n == 0) asm volatile("mov %%cr0, %0" : "=r"(v));
    if (n == 4) asm volatile("mov %%cr4, %0" : "=r"(v));
    return v;
}

void write_cr(int n, u32 v) {
    if (n == 0) asm volatile("mov %0, %%cr0" ::"r"(v) : "memory");
    if (n == 3) asm volatile("mov %0, %%cr3" ::"r"(v) : "memory");
    if (n == 4) asm volatile("mov %0, %%cr4" ::"r"(v) : "memory");
}

void invlpg(u32 va) {
    asm volatile("invlpg (%0)" ::"r"(va) : "memory");
}

// A page-aligned logical address past the LPAR's memory.
u32 outside_frame(Lcg& rng, u32 memory, u32 align) {
    switch (rng.below(4)) {
    case 0:
        return memory;
    case 1:
        return (kSwitcher + static_cast<u32>(rng.below(1024)) * 4096) & ~(align - 1);
    case 2:
        return 0 - align;
    default:
        return (memory + static_cast<u32>(rng.below(0 - memory - align))) & ~(align - 1);
    }
}

// An access that must not go through (true if it faulted, as it must).
void expect_fault(MmuAttacks& m, bool went_through, const char* what) {
    ++m.tries;
    if (went_through)
        m.violation(what, g_fault.error);
    else
        ++m.refused;
}

// A write that must go through.
void expect_write(MmuAttacks& m, u32 va, u32 value, const char* what) {
    ++m.tries;
    if (try_write(va, value))
        ++m.taken;
    else
        m.violation(what, g_fault.error);
}

// A read that must give `want`.
void expect_read(MmuAttacks& m, u32 va, u32 want, const char* what) {
    ++m.tries;
    u32 got = 0;
    if (try_read(va, got) && got == want)
        ++m.taken;
    else
        m.violation(what, got);
}

void paging_attacks(Lcg& rng, const Boot& b, MmuAttacks& m) {
    const u32 memory = static_cast<u32>(b.memory_size);
    for (u32& e : g_pd) e = 0;
    for (u32& e : g_pt) e = 0;
    for (u32 slot = 0; slot < memory >> 22; ++slot) g_pd[slot] = slot << 22 | kP | kW | kPs;
    g_pages[0][0] = 0x5a000000 | static_cast<u32>(rng.below(0x1000000));
    g_pages[1][0] = ~g_pages[0][0];
    g_pt[0] = la(g_pages[0]) | kP | kW;
    g_pt[1] = la(g_pd) | kP | kW; // a writable alias of the page directory
    g_pt[2] = la(g_pt) | kP | kW; // the table maps itself
    for (unsigned i = 0; i < kOutsidePtes; ++i)
        g_pt[8 + i] = outside_frame(rng, memory, 4096) | kP | kW | kU;
    g_pd[kSlotTest] = la(g_pt) | kP | kW | kU;
    g_pd[kSlotTest + 1] = outside_frame(rng, memory, 4 << 20) | kP | kW | kPs;
    g_pd[kSlotTest + 3] = outside_frame(rng, memory, 4096) | kP | kW; // a "page table" outside
    g_pd[kSlotSelf] = la(g_pd) | kP | kW;
    const bool over_with_table = rng.below(2) != 0; // else a 4 MiB page of logical 0
    g_pd[kSwitcher >> 22] = over_with_table ? la(g_pt) | kP | kW | kU : kP | kW | kU | kPs;

    write_cr(4, read_cr(4) | kCr4Pse);
    write_cr(3, la(g_pd));
    write_cr(0, read_cr(0) | kCr0Pg);

    expect_read(m, kVaTest, g_pages[0][0], "a PTE of its own");
    const u32 pte_via_self = kSlotSelf << 22 | kSlotTest << 12;
    ++m.tries;
    u32 got = 0;
    if (try_read(pte_via_self, got) && (got & kFrame) == la(g_pages[0]))
        ++m.taken;
    else
        m.violation("the page directory used as a page table (self-reference)", got);
    expect_write(m, pte_via_self, la(g_pages[1]) | kP | kW,
                 "a PTE written through the self-reference");
    invlpg(kVaTest);
    expect_read(m, kVaTest, g_pages[1][0], "a PTE written through the self-reference, invlpg");
    expect_write(m, kVaTest + 0x2000, la(g_pages[0]) | kP | kW, // g_pt[0], through g_pt[2]
                 "a PTE written through the table that maps itself");
    invlpg(kVaTest);
    expect_read(m, kVaTest, g_pages[0][0], "a PTE written through the table mapping itself");
    expect_write(m, kVaTest + 0x1000 + (kSlotTest + 2) * 4, la(g_pt) | kP | kW | kU,
                 "a PDE written through a writable alias of the PD");
    write_cr(3, la(g_pd));
    expect_read(m, kVaTest + (8 << 20), g_pages[0][0], "a PDE written through an alias, cr3");

    u32 ignored = 0;
    for (unsigned i = 0; i < kOutsidePtes; ++i) {
        const u32 va = kVaTest + (8 + i) * 4096;
        expect_fault(m, try_read(va, ignored), "a read through a PTE past the LPAR");
        expect_fault(m, try_write(va, 0), "a write through a PTE past the LPAR");
    }
    const u32 offset = static_cast<u32>(rng.below(1024)) * 4096;
    expect_fault(m, try_read(kVaTest + (4 << 20) + offset, ignored),
                 "a read through a 4 MiB page past the LPAR");
    expect_fault(m, try_read(kVaTest + (12 << 20) + offset, ignored),
                 "a read through a page table past the LPAR");
    // The switcher's pages are present from 0xffc00000 on; the last one is its stack page,
    // where the CPU pushes the trap frame: writable from ring 1 by design (docs/ia32.md), and
    // cleared by the hypervisor before every slice. Every other page refuses a write.
    u32 pages = 0;
    while (pages < 16 && try_read(kSwitcher + pages * 4096, ignored)) ++pages;
    if (pages == 0 || offset / 4096 != pages - 1)
        expect_fault(m, try_write(kSwitcher + offset, 0), "a write into the switcher's 4 MiB");
    else // the stack page (writing 0 below the frame: the frame is at its top)
        expect_write(m, kSwitcher + offset, 0, "a write into the switcher's stack page");
    if (pages > 0) { // a value left there must not outlive the slice (H_CONFER ends it)
        const u32 left = kSwitcher + (pages - 1) * 4096 + 4 * static_cast<u32>(rng.below(16));
        ++m.tries;
        u32 after = 0;
        if (!try_write(left, 0xc0ffee00 | static_cast<u32>(rng.below(256)))) {
            m.violation("a write into the switcher's stack page faulted", g_fault.error);
        } else {
            hcall(tessera::hcall::H_CONFER, ~u64{0}, 0);
            if (try_read(left, after) && after == 0)
                ++m.taken;
            else
                m.violation("a value in the switcher's stack page outlived the slice", after);
        }
    }
    expect_fault(m, try_read(0xfffff000, ignored), "a read of the switcher's 4 MiB's end");
    ++m.tries;
    u32 own = 0; // what its own mapping over the switcher would show at 0xffc00000
    if (over_with_table)
        own = g_pages[0][0];
    else
        try_read(0, own);
    if (try_read(kSwitcher, got) && got == own)
        m.violation("its own memory mapped over the switcher", got);
    else
        ++m.refused;

    write_cr(0, read_cr(0) & ~kCr0Pg);
}

} // namespace

void soak_mmu_round(Lcg& rng, const Boot& b, MmuAttacks& m) {
    gdt_attacks(rng, m);
    tls_row_attacks(rng, m);
    ldt_attacks(rng, m);
    paging_attacks(rng, b, m);
}

const char* soak_mmu_name() {
    // Short: scripts/soak reads the report line (soak.cpp) whole, so it must fit the 200-byte note
    // and stay under the console's kLineMax (the other LPARs write between its pieces otherwise).
    return "GDT/LDT/TLS-row gates, DPL 0; page tables past the LPAR, on the switcher, on "
           "themselves";
}

} // namespace lpar::isa
