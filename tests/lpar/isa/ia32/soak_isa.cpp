// ia32 soak hooks (tests/lpar/lib/soak_isa.hpp): ud2, which the hypervisor reflects through the
// LPAR's own IDT as #UD (vector 6).
#include "soak_isa.hpp"

#include "descriptors.hpp"

namespace lpar::isa {
namespace {

constexpr u64 kUd = 6;
u64 faults = 0;

void on_ud(TrapFrame& f) {
    fetch_add(faults, u64{1});
    f.eip += 2; // ud2
}

} // namespace

void soak_prepare() {
    set_trap_handler(kUd, on_ud);
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

constexpr unsigned kAttackGdtEntries = 16; // selectors below 0x80: under the library's own
alignas(8) u64 g_attack_gdt[kAttackGdtEntries];

// A flat 4 GiB segment (G, D) with this access byte.
constexpr u64 segment(u8 access) {
    return descriptor(0, 0xfffff, access, 0xc);
}

enum class Kind : u8 { CallGate, OtherGate, SystemSegment, Dpl0, Random, Dpl3Data };

} // namespace

// A GDT of random length full of call gates, interrupt/trap/task gates, TSS and LDT
// descriptors, DPL-0 segments and random words, plus a legitimate DPL-3 data segment: loaded
// with lgdt, then every selector is looked at with lar. No system descriptor may ever be
// visible (the hypervisor installs none) and no segment with DPL 0 (raised to 1); the DPL-3
// data segment must be there as given. Afterwards the LPAR has no GDT of its own again.
void soak_mmu_round(Lcg& rng, const Boot&, MmuAttacks& m) {
    const unsigned n = 2 + static_cast<unsigned>(rng.below(kAttackGdtEntries - 1));
    Kind kinds[kAttackGdtEntries] = {};
    g_attack_gdt[0] = 0;
    for (unsigned i = 1; i < n; ++i) {
        const Kind k = static_cast<Kind>(rng.below(6));
        kinds[i] = k;
        const u64 dpl = rng.below(4) << 5;
        const u32 target = static_cast<u32>(rng.next());
        switch (k) {
        case Kind::CallGate: // to a random selector:offset, any DPL
            g_attack_gdt[i] = (u64{target & 0xffff}) | (u64{target >> 16 & 0xfffc} << 16) |
                              ((0x8c | dpl) << 40) | (u64{target >> 16} << 48);
            break;
        case Kind::OtherGate: { // interrupt, trap or task gate
            const u8 types[] = {0x5, 0x6, 0x7, 0xe, 0xf, 0x4};
            g_attack_gdt[i] = (u64{target & 0xffff}) | (u64{0x121} << 16) |
                              ((0x80 | dpl | types[rng.below(6)]) << 40);
            break;
        }
        case Kind::SystemSegment: { // TSS (available or busy) or LDT, any DPL
            const u8 types[] = {0x9, 0xb, 0x2, 0x1, 0x3};
            g_attack_gdt[i] =
                descriptor(target, 0x67, static_cast<u8>(0x80 | dpl | types[rng.below(5)]), 0);
            break;
        }
        case Kind::Dpl0: // code or data, DPL 0
            g_attack_gdt[i] = segment(rng.below(2) ? 0x9a : 0x92);
            break;
        case Kind::Random:
            g_attack_gdt[i] = rng.next();
            break;
        case Kind::Dpl3Data:
            g_attack_gdt[i] = segment(0xf2);
            break;
        }
    }
    struct [[gnu::packed]] {
        tessera::u16 limit;
        u32 base;
    } p{static_cast<tessera::u16>(n * 8 - 1), reinterpret_cast<u32>(g_attack_gdt)};
    asm volatile("lgdt %0" ::"m"(p) : "memory");
    for (unsigned i = 1; i < n; ++i) {
        ++m.tries;
        u32 rights = 0;
        const bool seen = lar(i * 8, rights);
        const bool system = seen && !((rights >> 12) & 1);
        const unsigned dpl = (rights >> 13) & 3;
        if (system) {
            m.violation("a system descriptor (gate, TSS, LDT) reached the CPU", rights);
        } else if (seen && dpl == 0) {
            m.violation("a DPL-0 segment reached the CPU", rights);
        } else if (kinds[i] == Kind::Dpl3Data) {
            if (seen && dpl == 3)
                ++m.taken;
            else
                m.violation("a DPL-3 data segment was not installed", seen ? rights : -1);
        } else if (kinds[i] == Kind::Dpl0 && seen && dpl == 1) {
            ++m.taken; // installed, raised to DPL 1
        } else {
            ++m.refused;
        }
    }
    const struct [[gnu::packed]] {
        tessera::u16 limit;
        u32 base;
    } none{0, 0};
    asm volatile("lgdt %0" ::"m"(none) : "memory");
}

const char* soak_mmu_name() {
    return "GDTs full of call gates, other gates, TSS/LDT descriptors, DPL-0 and random "
           "descriptors";
}

} // namespace lpar::isa
