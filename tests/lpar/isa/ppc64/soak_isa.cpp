// ppc64 soak hooks (tests/lpar/lib/soak_isa.hpp): an illegal instruction (word 0), which the
// hypervisor reflects as the LPAR's own Program interrupt; HTAB attacks through the hcalls.
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

} // namespace

void soak_mmu_round(Lcg& rng, const Boot& b, MmuAttacks& m) {
    if (b.htab_log2 < 12) return; // no HTAB to attack
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
    return "HPTEs naming memory outside the LPAR or page sizes that do not exist, and its own "
           "entered, read back and removed";
}

} // namespace lpar::isa
