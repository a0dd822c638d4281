// ppc64 soak hooks (tests/lpar/lib/soak_isa.hpp): an illegal instruction (word 0), which the
// hypervisor reflects as the LPAR's own Program interrupt; HTAB attacks through the hcalls and
// SLB games.
#include "soak_isa.hpp"

#include "mmu.hpp"

namespace lpar::isa {
namespace {

u64 faults = 0;

void on_program(TrapFrame& f) {
    fetch_add(faults, u64{1});
    trap_skip(f);
}

} // namespace

void soak_prepare() {
    set_trap_handler(kVecProgram, on_program);
}

void soak_fault() {
    asm volatile(".long 0" ::: "memory");
}

u64 soak_faults_seen() {
    return load_acquire(faults);
}

const char* soak_fault_name() {
    return "illegal instruction (Program 0x700)";
}

} // namespace lpar::isa

// ---- HTAB attacks ------------------------------------------------------------------------------

namespace lpar::isa {
namespace {

using namespace tessera::hcall;
using namespace lpar::mmu;

constexpr unsigned kMmuAttacksPerRound = 6;

// One H_ENTER of a random page (4K, 64K or 16M, in a random segment) mapping logical `la`:
// returns the status and the slot.
HcallResult enter_random(Lcg& rng, const Boot& b, u64 la, const PageSize& p) {
    const u64 groups = u64{1} << (b.htab_log2 - 7);
    const u64 vsid = 1 + rng.below(u64{1} << 24);
    const u64 ea = (rng.next() & kSegmentOffset) & ~((u64{1} << p.shift) - 1);
    const u64 g = hash(vsid, ea, p) & (groups - 1);
    return hcall(H_ENTER, 0, g * 8, pteh(vsid, ea, p), ptel(la, p));
}

// An H_ENTER that must be refused: H_PARAMETER, or a violation (an entry it made anyway goes).
void expect_refused(MmuAttacks& m, const HcallResult& r, const char* what) {
    if (r.status == H_PARAMETER) {
        ++m.refused;
        return;
    }
    m.violation(what, r.status);
    if (r.status == H_SUCCESS) hcall(H_REMOVE, 0, r.ret[0], 0);
}

// ---- SLB games --------------------------------------------------------------------------------
// The SLB is the guest's own (the hypervisor saves and restores it per vcpu), so what matters is
// that nothing it holds outlives its removal and that random entries reach nothing but this
// LPAR's HTAB: an entry of its own made through H_ENTER and an SLB entry reads as it must, then
// random entries (random VSIDs, segment sizes 256M/1T/reserved, page-size encodings that exist
// or not, Ks/Kp/N/C bits) are loaded into random slots and read through at random addresses
// (a fault, a reflected Program interrupt for an encoding the CPU refuses, or data of its own),
// and after slbia (with slot 0 cleared first: slbia spares it) the first address must fault.
constexpr unsigned kSlbSlots = 32; // POWER8
constexpr unsigned kRandomSlbEntries = 4;
alignas(4096) u64 g_slb_page[512];
u64 g_slb_faults = 0;

void on_slb_fault(TrapFrame& f) {
    g_slb_faults = g_slb_faults + 1;
    trap_skip(f);
}

bool faulted(u64 before) {
    return __atomic_load_n(&g_slb_faults, __ATOMIC_SEQ_CST) != before;
}

void slb_attacks(Lcg& rng, const Boot& b, MmuAttacks& m) {
    const u64 groups = u64{1} << (b.htab_log2 - 7);
    const u64 vsid = 1 + rng.below(u64{1} << 24);
    const u64 ea = rng.below(16) << kSegmentShift | (rng.next() & kSegmentOffset & ~u64{0xfff});
    const u64 marker = rng.next() | 1;
    g_slb_page[0] = marker;
    const u64 la = reinterpret_cast<u64>(g_slb_page);
    const u64 g = hash(vsid, ea, kPage4K) & (groups - 1);
    const HcallResult r = hcall(H_ENTER, 0, g * 8, pteh(vsid, ea, kPage4K), ptel(la, kPage4K));
    if (r.status != H_SUCCESS) return; // the random hcalls filled the group: next round
    set_trap_handler(kVecDsi, on_slb_fault);
    set_trap_handler(kVecDsegi, on_slb_fault);
    set_trap_handler(kVecProgram, on_slb_fault);

    slbmte(slb_vsid(vsid, kPage4K), slb_esid(ea, static_cast<unsigned>(rng.below(kSlbSlots))));
    ++m.tries;
    u64 before = load_acquire(g_slb_faults);
    u64 got = load_virtual(ea);
    if (!faulted(before) && got == marker)
        ++m.taken;
    else
        m.violation("a page of its own through an SLB entry of its own", static_cast<i64>(got));

    for (unsigned i = 0; i < kRandomSlbEntries; ++i) {
        const u64 esid = (rng.next() & ~u64{0xfff}) | 0x08000000 | rng.below(kSlbSlots);
        slbmte((rng.next() & ~u64{0xff}) | rng.below(0x100), esid);
        ++m.tries;
        before = load_acquire(g_slb_faults);
        load_virtual((esid & ~u64{0xfffffff}) | (rng.next() & kSegmentOffset & ~u64{7}));
        if (faulted(before))
            ++m.refused;
        else
            ++m.taken; // its own HTAB: whatever the random hcalls entered there
    }

    slbmte(0, 0); // slot 0 invalid: slbia leaves it
    slbia();
    ++m.tries;
    before = load_acquire(g_slb_faults);
    got = load_virtual(ea);
    if (faulted(before))
        ++m.refused;
    else
        m.violation("a segment still translated after slbia", static_cast<i64>(got));

    hcall(H_REMOVE, 0, r.ret[0], 0);
    set_trap_handler(kVecDsi, nullptr);
    set_trap_handler(kVecDsegi, nullptr);
    set_trap_handler(kVecProgram, on_program);
}

} // namespace

void soak_mmu_round(Lcg& rng, const Boot& b, MmuAttacks& m) {
    if (b.htab_log2 < 12) return; // no HTAB to attack
    slb_attacks(rng, b, m);
    const PageSize sizes[] = {kPage4K, kPage64K, kPage16M};
    for (unsigned i = 0; i < kMmuAttacksPerRound; ++i) {
        const PageSize& p = sizes[rng.below(3)];
        const u64 page = u64{1} << p.shift;
        ++m.tries;
        switch (rng.below(4)) {
        case 0: { // a page past the LPAR: the first one, a random one, or the highest RPN
            const u64 pick = rng.below(3);
            const u64 la = pick == 0   ? (b.memory_size + page - 1) & ~(page - 1)
                           : pick == 1 ? (b.memory_size + rng.next() % (u64{1} << 40)) & ~(page - 1)
                                       : kHpteRpn & ~(page - 1);
            expect_refused(m, enter_random(rng, b, la, p), "H_ENTER of a page outside the LPAR");
            break;
        }
        case 1: { // a page-size encoding that does not exist (L set, LP 0011)
            const u64 la = rng.below(b.memory_size) & ~u64{0xffff};
            const u64 h = pteh(1 + rng.below(1000), la, kPage64K) | kHpteLarge;
            expect_refused(m, hcall(H_ENTER, 0, 0, h, (la & kHpteRpn) | 0x3000 | kHpteM),
                           "H_ENTER with a page size that does not exist");
            break;
        }
        default: { // a page of its own (memory is whole 16M chunks): entered, read, removed
            const u64 la = rng.below(b.memory_size / page) * page;
            const HcallResult r = enter_random(rng, b, la, p);
            if (r.status == H_PTEG_FULL) { // the random hcalls filled the group: fine
                ++m.refused;
                break;
            }
            if (r.status != H_SUCCESS) {
                m.violation("H_ENTER of a page of its own", r.status);
                break;
            }
            const u64 slot = r.ret[0];
            const HcallResult rd = hcall(H_READ, kReadLogical, slot); // the RPN as logical
            const bool same = rd.status == H_SUCCESS && (rd.ret[0] & kHpteValid) &&
                              (rd.ret[1] & kHpteRpn & ~(page - 1)) == la;
            const HcallResult rm = hcall(H_REMOVE, kAvpn, slot, rd.ret[0] & kHpteAvpnMask);
            const HcallResult gone = hcall(H_READ, 0, slot);
            if (!same)
                m.violation("H_READ of the entry it made", rd.status);
            else if (rm.status != H_SUCCESS || (gone.ret[0] & kHpteValid))
                m.violation("H_REMOVE of the entry it made", rm.status);
            else
                ++m.taken;
            break;
        }
        }
    }
}

const char* soak_mmu_name() {
    return "HPTEs outside the LPAR or of page sizes that do not exist, its own read back; SLB "
           "games";
}

} // namespace lpar::isa
