// mmu (1 vcpu, ppc64 only): the PAPR page-table hcalls from the guest side, with good and bad
// arguments, and whether the translations they make really work: H_ENTER (4K, 64K, 16M pages,
// primary and secondary groups, H_EXACT, full groups), H_READ (H_R_XLATE, H_READ_4), H_REMOVE,
// H_PROTECT, H_CLEAR_REF, H_CLEAR_MOD, H_BULK_REMOVE; faults through removed and read-only
// mappings; real-mode accesses and mappings outside the LPAR's logical memory; relocation-on
// interrupts (H_SET_MODE AIL 3), from the CPU and from the hypervisor.
//
// Logical memory used: the program (below 4M), scratch pages at 4M..4M+128K, and the 16M page
// at 16M (so the LPAR needs at least 32M).
#include "mmu.hpp"
#include "lpar.hpp"

using namespace lpar;
using namespace lpar::mmu;
using namespace tessera::hcall;

namespace {

constexpr u64 MiB = tessera::MiB;

// Segments (256M each, one SLB slot each) and their VSIDs.
constexpr u64 kSegA = 0x10000000, kVsidA = 0x51a; // 4K pages
constexpr u64 kSegB = 0x20000000, kVsidB = 0x62b; // 64K pages
constexpr u64 kSegC = 0x30000000, kVsidC = 0x73c; // 16M pages
constexpr u64 kSegF = 0x40000000;                 // 4K pages, VSID chosen at run time

// Logical scratch pages.
constexpr u64 kScratch = 4 * MiB;
constexpr u64 kLaA = kScratch + 0x0000;    // the main 4K page
constexpr u64 kLaF = kScratch + 0x1000;    // the full group's page
constexpr u64 kLaRc = kScratch + 0x2000;   // R/C bits
constexpr u64 kLaP = kScratch + 0x3000;    // protection
constexpr u64 kLa64K = kScratch + 0x10000; // a 64K page
constexpr u64 kLa16M = 16 * MiB;           // a 16M page (logical chunk 1)

constexpr u64 kPat1 = 0x1111222233334444, kPat2 = 0x5555666677778888;
constexpr u64 kPat3 = 0x64646464000064ff, kPat4 = 0x1616161600001616;

struct Htab {
    u64 entries = 0;
    u64 mask = 0; // group index mask
    unsigned group_shift = 0;
};
Htab g_htab;

// ---- faults -------------------------------------------------------------------------------
struct Fault {
    u64 count, vector, dar, dsisr, pc;
    // The MSR its handler ran with, and where the handler was called from: the runtime's trap
    // code, reached from the vector by relative branches (the handler itself is called through
    // a pointer, at its own address).
    u64 handler_msr, handler_pc;
};
constinit Fault g_fault = {};

void on_storage_fault(isa::TrapFrame& f) {
    g_fault.count = g_fault.count + 1;
    g_fault.vector = f.vector;
    g_fault.dar = isa::mfspr<isa::kSprDar>();
    g_fault.dsisr = isa::mfspr<isa::kSprDsisr>();
    g_fault.pc = f.srr0;
    g_fault.handler_msr = isa::mfmsr();
    g_fault.handler_pc = reinterpret_cast<u64>(__builtin_return_address(0));
    isa::trap_skip(f);
}

void reset_fault() {
    __atomic_store_n(&g_fault.count, u64{0}, __ATOMIC_SEQ_CST);
}
Fault take_fault() {
    Fault f;
    f.count = __atomic_load_n(&g_fault.count, __ATOMIC_SEQ_CST);
    f.vector = __atomic_load_n(&g_fault.vector, __ATOMIC_RELAXED);
    f.dar = __atomic_load_n(&g_fault.dar, __ATOMIC_RELAXED);
    f.dsisr = __atomic_load_n(&g_fault.dsisr, __ATOMIC_RELAXED);
    f.pc = __atomic_load_n(&g_fault.pc, __ATOMIC_RELAXED);
    f.handler_msr = __atomic_load_n(&g_fault.handler_msr, __ATOMIC_RELAXED);
    f.handler_pc = __atomic_load_n(&g_fault.handler_pc, __ATOMIC_RELAXED);
    reset_fault();
    return f;
}
Detail fault_detail(const Fault& f) {
    if (f.count == 0) return Detail("no fault");
    return Detail("%" PRIu64 " fault(s), vector 0x%" PRIx64 ", dar 0x%" PRIx64 ", dsisr 0x%" PRIx64
                  "",
                  f.count, f.vector, f.dar, f.dsisr);
}

struct Access {
    u64 value;
    Fault fault;
};
Access vload(u64 ea) {
    reset_fault();
    const u64 v = load_virtual(ea);
    return {v, take_fault()};
}
Fault vstore(u64 ea, u64 v) {
    reset_fault();
    store_virtual(ea, v);
    return take_fault();
}
Access rload(u64 la) {
    reset_fault();
    const u64 v = load_real(la);
    return {v, take_fault()};
}
Fault rstore(u64 la, u64 v) {
    reset_fault();
    store_real(la, v);
    return take_fault();
}

// ---- HTAB helpers ----------------------------------------------------------------------------
u64 group(u64 vsid, u64 ea, const PageSize& p, bool secondary = false) {
    const u64 h = hash(vsid, ea, p);
    return (secondary ? ~h : h) & g_htab.mask;
}

struct Hpte {
    u64 v, r;
};
Hpte read(u64 ptex) {
    const HcallResult r = hcall(H_READ, 0, ptex);
    return {r.ret[0], r.ret[1]};
}
bool valid(u64 ptex) {
    return (read(ptex).v & kHpteValid) != 0;
}
u64 count_valid() {
    u64 n = 0;
    for (u64 i = 0; i < g_htab.entries; i += 4) {
        const HcallResult r = hcall(H_READ, kReadFour, i);
        for (int k = 0; k < 4; ++k) n += (r.ret[2 * k] & kHpteValid) != 0;
    }
    return n;
}
bool group_empty(u64 g) {
    for (u64 i = 0; i < 8; i += 4) {
        const HcallResult r = hcall(H_READ, kReadFour, g * 8 + i);
        for (int k = 0; k < 4; ++k)
            if (r.ret[2 * k] & kHpteValid) return false;
    }
    return true;
}
// An invalid slot, searching from group g on.
u64 empty_slot(u64 g) {
    for (u64 i = 0; i < g_htab.entries; ++i) {
        const u64 ptex = (g * 8 + i) % g_htab.entries;
        if (!valid(ptex)) return ptex;
    }
    return 0;
}

// H_ENTER of a page mapping ea (segment vsid) to logical la, into its primary (or secondary)
// group; returns the result (ret[0] = the slot used).
HcallResult enter(u64 vsid, u64 ea, u64 la, const PageSize& p, bool secondary = false, u64 pp = 0) {
    return hcall(H_ENTER, 0, group(vsid, ea, p, secondary) * 8, pteh(vsid, ea, p, secondary),
                 ptel(la, p, pp));
}
u64 avpn_of(u64 v) {
    return v & kHpteAvpnMask;
}
i64 remove(u64 ptex) {
    return hcall(H_REMOVE, kAvpn, ptex, avpn_of(read(ptex).v)).status;
}

void zero_real(u64 la, u64 bytes) {
    for (u64 i = 0; i < bytes; i += 8) store_real(la + i, 0);
}

// ---- the checks -------------------------------------------------------------------------------

struct Entry {
    u64 ptex = 0;
    u64 v = 0;
    bool ok = false;
};

void check_slb_empty() {
    unsigned used = 0;
    for (u64 slot = 0; slot < 32; ++slot)
        if (slbmfee(slot) & 0x08000000) ++used;
    check(used == 0, Detail("%u valid entries", used),
          "the SLB is empty at entry (no segments of anyone else)");
}

// 4K mapping, H_READ, translation both ways, an alias, a secondary-group entry.
void check_enter_4k(Entry& a, Entry& a2, Entry& s, u64& real_rpn) {
    const u64 ea = kSegA + 0x5000;
    zero_real(kLaA, 0x1000);
    const u64 g = group(kVsidA, ea, kPage4K);
    HcallResult r = enter(kVsidA, ea, kLaA, kPage4K);
    a = {r.ret[0], pteh(kVsidA, ea, kPage4K), r.status == H_SUCCESS};
    check_status(r.status, H_SUCCESS, "H_ENTER of a 4K page");
    check(a.ptex >> 3 == g, Detail("index 0x%" PRIx64 ", group 0x%" PRIx64 "", a.ptex, g),
          "H_ENTER returns a slot of the group it was given");

    HcallResult rd = hcall(H_READ, 0, a.ptex);
    check_status(rd.status, H_SUCCESS, "H_READ of it");
    check_eq(rd.ret[0], a.v, "H_READ gives back pteh as entered");
    real_rpn = rd.ret[1] & kHpteRpn;
    check(real_rpn != kLaA, Detail("real 0x%" PRIx64 ", logical 0x%" PRIx64 "", real_rpn, kLaA),
          "H_READ shows the real page the hypervisor chose, not the logical one");
    check_eq(rd.ret[1] & 0xfff & ~(kHpteRef | kHpteChange), ptel(kLaA, kPage4K) & 0xfff,
             "H_ENTER keeps WIMG and protection as given");
    rd = hcall(H_READ, kReadLogical, a.ptex);
    check_eq(rd.ret[1] & kHpteRpn, kLaA, "H_READ with H_R_XLATE gives the logical page back");

    Fault f = vstore(ea + 0x10, kPat1);
    check(f.count == 0, fault_detail(f), "a store through the 4K mapping (MSR[DR]=1) works");
    check_eq(load_real(kLaA + 0x10), kPat1, "... and lands in the logical page (real mode)");
    store_real(kLaA + 0x18, kPat2);
    Access ac = vload(ea + 0x18);
    check(ac.fault.count == 0 && ac.value == kPat2,
          Detail("0x%" PRIx64 ", %s", ac.value, fault_detail(ac.fault).text()),
          "a real-mode store reads back through the mapping");

    const u64 ea2 = kSegA + 0x9000;
    r = enter(kVsidA, ea2, kLaA, kPage4K);
    a2 = {r.ret[0], pteh(kVsidA, ea2, kPage4K), r.status == H_SUCCESS};
    ac = vload(ea2 + 0x10);
    check(r.status == H_SUCCESS && ac.fault.count == 0 && ac.value == kPat1,
          Detail("%s, 0x%" PRIx64 ", %s", status_name(r.status), ac.value,
                 fault_detail(ac.fault).text()),
          "a second EA mapped to the same logical page reads the same data");

    const u64 eas = kSegA + 0x23000;
    r = enter(kVsidA, eas, kLaA, kPage4K, true);
    s = {r.ret[0], pteh(kVsidA, eas, kPage4K, true), r.status == H_SUCCESS};
    ac = vload(eas + 0x10);
    check(r.status == H_SUCCESS && s.ptex >> 3 == group(kVsidA, eas, kPage4K, true) &&
              ac.fault.count == 0 && ac.value == kPat1,
          Detail("%s, index 0x%" PRIx64 ", 0x%" PRIx64 ", %s", status_name(r.status), s.ptex,
                 ac.value, fault_detail(ac.fault).text()),
          "an entry in its secondary group (H bit) translates");
}

void check_enter_bad(const Boot& b, const Entry& a) {
    const u64 ea = kSegA + 0x31000;
    const u64 g8 = group(kVsidA, ea, kPage4K) * 8;
    const u64 h = pteh(kVsidA, ea, kPage4K);
    const u64 mem = b.memory_size;
    check_status(hcall(H_ENTER, 0, g8, h, ptel(mem, kPage4K)).status, H_PARAMETER,
                 "H_ENTER of logical 0x%" PRIx64 " (the first page past the LPAR) -> H_PARAMETER",
                 mem);
    check_status(hcall(H_ENTER, 0, g8, h, ptel(mem + 64 * MiB, kPage4K)).status, H_PARAMETER,
                 "H_ENTER of logical 0x%" PRIx64 " (past the LPAR) -> H_PARAMETER", mem + 64 * MiB);
    check_status(hcall(H_ENTER, 0, g8, h, ptel(kHpteRpn, kPage4K)).status, H_PARAMETER,
                 "H_ENTER of the highest page number -> H_PARAMETER");
    const HcallResult last = hcall(H_ENTER, 0, g8, h, ptel(mem - 0x1000, kPage4K));
    check_status(last.status, H_SUCCESS, "H_ENTER of the LPAR's last 4K page");
    if (last.status == H_SUCCESS) remove(last.ret[0]);

    check_status(hcall(H_ENTER, ibm_bit(0), g8, h, ptel(kLaA, kPage4K)).status, H_PARAMETER,
                 "H_ENTER with an unknown flag -> H_PARAMETER");
    check_status(hcall(H_ENTER, 0, g_htab.entries, h, ptel(kLaA, kPage4K)).status, H_PARAMETER,
                 "H_ENTER at index %" PRIu64 " (past the HTAB) -> H_PARAMETER", g_htab.entries);
    check_status(hcall(H_ENTER, 0, g8, h, ptel(kLaA, kPage4K) | kHpteI).status, H_PARAMETER,
                 "H_ENTER of memory cache-inhibited (WIMG 0110) -> H_PARAMETER");
    check_status(hcall(H_ENTER, 0, g8, h | kHpteLarge, (kLaA & kHpteRpn) | 0x3000 | kHpteM).status,
                 H_PARAMETER,
                 "H_ENTER with a page-size encoding that does not exist -> H_PARAMETER");
    check_status(hcall(H_ENTER, 0, g8, h | u64{2} << 62, ptel(kLaA, kPage4K)).status, H_PARAMETER,
                 "H_ENTER with the reserved segment size B=2 -> H_PARAMETER");
    if (a.ok)
        check_status(hcall(H_ENTER, kEnterExact, a.ptex, h, ptel(kLaA, kPage4K)).status,
                     H_PTEG_FULL, "H_ENTER with H_EXACT into an occupied slot -> H_PTEG_FULL");
}

// A full group, H_READ_4, H_BULK_REMOVE.
void check_full_group_and_bulk() {
    const u64 ea = kSegF + 0x7000;
    u64 vsid = 0;
    for (u64 k = 0; k < 256 && vsid == 0; ++k)
        if (group_empty(group(0x800 + k, ea, kPage4K))) vsid = 0x800 + k;
    if (!check(vsid != 0, "found an empty PTEG for the full-group checks")) return;
    const u64 g = group(vsid, ea, kPage4K);

    // Eight VSIDs whose hash for ea lands in the same group (they differ above the mask).
    Entry e[8];
    unsigned entered = 0;
    for (u64 k = 0; k < 8; ++k) {
        const u64 vk = vsid ^ (k << g_htab.group_shift);
        const HcallResult r = enter(vk, ea, kLaF, kPage4K);
        e[k] = {r.ret[0], pteh(vk, ea, kPage4K), r.status == H_SUCCESS};
        if (e[k].ok && e[k].ptex >> 3 == g) ++entered;
    }
    check(entered == 8, Detail("%u of 8", entered), "8 H_ENTERs fill one PTEG");
    const u64 v9 = vsid ^ (u64{8} << g_htab.group_shift);
    check_status(enter(v9, ea, kLaF, kPage4K).status, H_PTEG_FULL,
                 "a 9th H_ENTER into the full PTEG -> H_PTEG_FULL");

    // H_READ_4 from index 8g+5 returns 8g+4 .. 8g+7.
    const HcallResult four = hcall(H_READ, kReadFour, g * 8 + 5);
    bool same = four.status == H_SUCCESS;
    for (u64 i = 0; i < 4; ++i) {
        const Hpte one = read(g * 8 + 4 + i);
        same = same && four.ret[2 * i] == one.v && four.ret[2 * i + 1] == one.r;
    }
    check(same, Detail("%s", status_name(four.status)),
          "H_READ_4 of index 8g+5 returns the entries 8g+4..8g+7");
    check_status(hcall(H_READ, 0, g_htab.entries).status, H_PARAMETER,
                 "H_READ of index %" PRIu64 " (past the HTAB) -> H_PARAMETER", g_htab.entries);
    check_status(hcall(H_READ, ibm_bit(0), g * 8).status, H_PARAMETER,
                 "H_READ with an unknown flag -> H_PARAMETER");
    if (entered != 8) return;

    // Use e[0] (stores set R and C) through its own segment.
    slbmte(slb_vsid(vsid, kPage4K), slb_esid(kSegF, 4));
    Fault f = vstore(ea, kPat2);
    check(f.count == 0, fault_detail(f), "a store through an entry of the full PTEG works");

    const u64 empty = empty_slot(g + 1);
    HcallResult r = hcall(H_BULK_REMOVE,                                             //
                          kBulkRequest | kBulkAvpnMode | e[0].ptex, avpn_of(e[0].v), //
                          kBulkRequest | kBulkAbsolute | e[1].ptex, 0,               //
                          kBulkRequest | kBulkAvpnMode | e[2].ptex, avpn_of(e[2].v) ^ 0x80,
                          kBulkRequest | kBulkAbsolute | empty, 0);
    check_status(r.status, H_SUCCESS, "H_BULK_REMOVE of 2 good and 2 missing entries");
    auto code = [&](int i) { return r.ret[2 * i] & kBulkCode; };
    auto response = [&](int i) { return (r.ret[2 * i] & kBulkType) == kBulkResponse; };
    check(response(0) && response(1) && response(2) && response(3) && code(0) == kBulkSuccess &&
              code(1) == kBulkSuccess && code(2) == kBulkNotFound && code(3) == kBulkNotFound,
          Detail("0x%" PRIx64 " 0x%" PRIx64 " 0x%" PRIx64 " 0x%" PRIx64 "", r.ret[0], r.ret[2],
                 r.ret[4], r.ret[6]),
          "its responses: removed, removed, not found (wrong AVPN), not found (empty slot)");
    check((r.ret[0] & kBulkPtex) == e[0].ptex && (r.ret[0] & kBulkRef) && (r.ret[0] & kBulkChange),
          Detail("0x%" PRIx64 "", r.ret[0]),
          "the response for the entry stored through names it and carries R and C");
    check(!valid(e[0].ptex) && !valid(e[1].ptex) && valid(e[2].ptex),
          "the removed entries are gone, the one with the wrong AVPN stays");
    f = vstore(ea, kPat1);
    check(f.count == 1 && f.dar == ea && (f.dsisr & isa::dsisr::kNoTranslation), fault_detail(f),
          "a store through a bulk-removed entry is a DSI (no translation)");

    // A bad specifier stops the batch: the good one before it is done, the one after is not.
    r = hcall(H_BULK_REMOVE, kBulkRequest | e[2].ptex, 0, kBulkRequest | g_htab.entries, 0,
              kBulkRequest | e[3].ptex, 0, kBulkEnd, 0);
    check_status(r.status, H_PARAMETER, "H_BULK_REMOVE with an index past the HTAB -> H_PARAMETER");
    check(code(0) == kBulkSuccess && code(1) == kBulkParam && !valid(e[2].ptex) && valid(e[3].ptex),
          Detail("0x%" PRIx64 " 0x%" PRIx64 "", r.ret[0], r.ret[2]),
          "... the request before it is done, the bad one is marked, the rest left alone");
    r = hcall(H_BULK_REMOVE, kBulkRequest | u64{3} << 56 | e[3].ptex, 0, kBulkEnd, 0);
    check_status(r.status, H_PARAMETER, "H_BULK_REMOVE with the reserved mode 3 -> H_PARAMETER");
    r = hcall(H_BULK_REMOVE, 0, 0, kBulkEnd, 0);
    check_status(r.status, H_PARAMETER,
                 "H_BULK_REMOVE with an unused specifier type -> H_PARAMETER");
    r = hcall(H_BULK_REMOVE, kBulkEnd, 0);
    check_status(r.status, H_SUCCESS, "H_BULK_REMOVE with nothing to do");

    r = hcall(H_BULK_REMOVE, kBulkRequest | kBulkAndCond | e[3].ptex, kHpteValid,
              kBulkRequest | kBulkAndCond | e[3].ptex, kHpteSecondary, kBulkEnd, 0);
    check(r.status == H_SUCCESS && code(0) == kBulkNotFound && code(1) == kBulkSuccess &&
              !valid(e[3].ptex),
          Detail("%s, 0x%" PRIx64 " 0x%" PRIx64 "", status_name(r.status), r.ret[0], r.ret[2]),
          "H_BULK_REMOVE with ANDCOND: a set bit keeps the entry, a clear bit removes it");

    check_status(hcall(H_REMOVE, kAndCond, e[4].ptex, kHpteValid).status, H_NOT_FOUND,
                 "H_REMOVE with H_ANDCOND on a set bit -> H_NOT_FOUND");
    unsigned removed = 0;
    for (int k = 4; k < 8; ++k) removed += remove(e[k].ptex) == H_SUCCESS;
    check(removed == 4, Detail("%u of 4", removed), "H_REMOVE of the rest of the group");
}

void check_remove(const Entry& a, const Entry& a2, u64 real_rpn) {
    const u64 ea2 = kSegA + 0x9000;
    if (!check(a.ok && a2.ok, "the two mappings of the 4K page exist")) return;
    check_status(hcall(H_REMOVE, kAvpn, a2.ptex, avpn_of(a2.v) ^ 0x80).status, H_NOT_FOUND,
                 "H_REMOVE with the wrong AVPN -> H_NOT_FOUND");
    check_status(hcall(H_REMOVE, 0, empty_slot(0)).status, H_NOT_FOUND,
                 "H_REMOVE of an empty slot -> H_NOT_FOUND");
    check_status(hcall(H_REMOVE, 0, g_htab.entries).status, H_PARAMETER,
                 "H_REMOVE of index %" PRIu64 " (past the HTAB) -> H_PARAMETER", g_htab.entries);
    check_status(hcall(H_REMOVE, kAvpn | kAndCond, a2.ptex, avpn_of(a2.v)).status, H_PARAMETER,
                 "H_REMOVE with both H_AVPN and H_ANDCOND -> H_PARAMETER");
    check_status(hcall(H_REMOVE, ibm_bit(0), a2.ptex).status, H_PARAMETER,
                 "H_REMOVE with an unknown flag -> H_PARAMETER");
    const HcallResult r = hcall(H_REMOVE, kAvpn, a2.ptex, avpn_of(a2.v));
    check_status(r.status, H_SUCCESS, "H_REMOVE with the right AVPN");
    check(r.ret[0] == a2.v && (r.ret[1] & kHpteRpn) == real_rpn,
          Detail("0x%" PRIx64 " 0x%" PRIx64 "", r.ret[0], r.ret[1]),
          "H_REMOVE returns the old entry (pteh, ptel with the real page)");
    const Access ac = vload(ea2 + 0x10);
    check(ac.fault.count == 1 && ac.fault.vector == isa::kVecDsi && ac.fault.dar == ea2 + 0x10 &&
              (ac.fault.dsisr & isa::dsisr::kNoTranslation),
          fault_detail(ac.fault), "a load through the removed entry is a DSI at its address");
    const Access still = vload(kSegA + 0x5000 + 0x10);
    check(still.fault.count == 0 && still.value == kPat1, fault_detail(still.fault),
          "the other mapping of the page still works");
}

void check_protect() {
    const u64 ea = kSegA + 0x44000;
    zero_real(kLaP, 0x1000);
    const HcallResult r = enter(kVsidA, ea, kLaP, kPage4K);
    if (!check_status(r.status, H_SUCCESS, "H_ENTER of a page for H_PROTECT")) return;
    const u64 ptex = r.ret[0];
    const u64 avpn = avpn_of(pteh(kVsidA, ea, kPage4K));
    Fault f = vstore(ea, 1);
    check(f.count == 0, fault_detail(f), "it is writable");

    check_status(hcall(H_PROTECT, kAvpn | kProtectPp, ptex, avpn ^ 0x80).status, H_NOT_FOUND,
                 "H_PROTECT with the wrong AVPN -> H_NOT_FOUND");
    check_status(hcall(H_PROTECT, ibm_bit(0) | kProtectPp, ptex).status, H_PARAMETER,
                 "H_PROTECT with an unknown flag -> H_PARAMETER");
    check_status(hcall(H_PROTECT, kProtectPp, empty_slot(0)).status, H_NOT_FOUND,
                 "H_PROTECT of an empty slot -> H_NOT_FOUND");
    check_status(hcall(H_PROTECT, kProtectPp, g_htab.entries).status, H_PARAMETER,
                 "H_PROTECT of index %" PRIu64 " (past the HTAB) -> H_PARAMETER", g_htab.entries);
    check_status(hcall(H_PROTECT, kAvpn | kProtectPp, ptex, avpn).status, H_SUCCESS,
                 "H_PROTECT to read-only (pp = 11)");
    check_eq(read(ptex).r & kHptePp, kHptePpReadOnly, "H_READ shows pp = 11");
    const Access ac = vload(ea);
    check(ac.fault.count == 0 && ac.value == 1, fault_detail(ac.fault),
          "the read-only page still reads");
    f = vstore(ea, 2);
    check(f.count == 1 && f.vector == isa::kVecDsi && f.dar == ea &&
              (f.dsisr & isa::dsisr::kProtection) && (f.dsisr & isa::dsisr::kStore),
          fault_detail(f), "a store to it is a DSI with the protection and store bits in DSISR");
    check_eq(load_real(kLaP), 1, "the refused store did not reach memory");
    check_status(hcall(H_PROTECT, kAvpn, ptex, avpn).status, H_SUCCESS,
                 "H_PROTECT back to read/write");
    f = vstore(ea, 3);
    check(f.count == 0 && load_real(kLaP) == 3, fault_detail(f), "the page is writable again");
    remove(ptex);
}

void check_ref_change() {
    const u64 ea = kSegA + 0x55000;
    zero_real(kLaRc, 0x1000);
    const HcallResult r = enter(kVsidA, ea, kLaRc, kPage4K);
    if (!check_status(r.status, H_SUCCESS, "H_ENTER of a page for the R/C checks")) return;
    const u64 ptex = r.ret[0];
    auto rc = [&] { return read(ptex).r & (kHpteRef | kHpteChange); };
    check_eq(rc(), 0, "a new entry has R = 0, C = 0");
    vload(ea);
    check_eq(rc(), kHpteRef, "a load through it sets R only");
    vstore(ea, 5);
    check_eq(rc(), kHpteRef | kHpteChange, "a store sets C");

    HcallResult c = hcall(H_CLEAR_MOD, 0, ptex);
    check(c.status == H_SUCCESS && (c.ret[0] & kHpteChange),
          Detail("%s, 0x%" PRIx64 "", status_name(c.status), c.ret[0]),
          "H_CLEAR_MOD returns the entry's ptel with C set");
    check_eq(rc(), kHpteRef, "... and clears C only");
    c = hcall(H_CLEAR_REF, 0, ptex);
    check(c.status == H_SUCCESS && (c.ret[0] & kHpteRef),
          Detail("%s, 0x%" PRIx64 "", status_name(c.status), c.ret[0]),
          "H_CLEAR_REF returns the entry's ptel with R set");
    check_eq(rc(), 0, "... and clears R");
    const Access ac = vload(ea);
    check(ac.value == 5 && rc() == kHpteRef,
          Detail("0x%" PRIx64 ", rc 0x%" PRIx64 "", ac.value, rc()),
          "after H_CLEAR_REF a load sets R again (the stale translation was flushed)");
    vstore(ea, 6);
    check_eq(rc(), kHpteRef | kHpteChange, "after H_CLEAR_MOD a store sets C again");

    check_status(hcall(H_CLEAR_REF, ibm_bit(0), ptex).status, H_PARAMETER,
                 "H_CLEAR_REF with a flag -> H_PARAMETER");
    check_status(hcall(H_CLEAR_MOD, 0, g_htab.entries).status, H_PARAMETER,
                 "H_CLEAR_MOD of index %" PRIu64 " (past the HTAB) -> H_PARAMETER", g_htab.entries);
    check_status(hcall(H_CLEAR_REF, 0, empty_slot(0)).status, H_NOT_FOUND,
                 "H_CLEAR_REF of an empty slot -> H_NOT_FOUND");
    remove(ptex);
}

void check_large_pages(const Boot& b) {
    // 64K page in a 64K segment.
    const u64 ea64 = kSegB + 3 * 0x10000;
    store_real(kLa64K + 0xf008, 0);
    HcallResult r = enter(kVsidB, ea64, kLa64K, kPage64K);
    if (check_status(r.status, H_SUCCESS, "H_ENTER of a 64K page")) {
        const u64 ptex = r.ret[0];
        const Hpte e = read(ptex);
        check((e.r & 0xf000) == kLp64K && (e.r & kHpteRpn & ~u64{0xffff}) != kLa64K,
              Detail("ptel 0x%" PRIx64 "", e.r),
              "H_READ of it shows a real 64K page and LP = 0001");
        const Fault f = vstore(ea64 + 0xf008, kPat3);
        check(f.count == 0 && load_real(kLa64K + 0xf008) == kPat3, fault_detail(f),
              "a store at offset 0xf008 of the 64K page lands at logical +0xf008");
        remove(ptex);
    }
    check_status(hcall(H_ENTER, 0, group(kVsidB, ea64, kPage64K) * 8, pteh(kVsidB, ea64, kPage64K),
                       ptel(kLa64K + 0x2000, kPage64K))
                     .status,
                 H_PARAMETER,
                 "H_ENTER of a 64K page at a logical address not 64K-aligned -> H_PARAMETER");

    // 16M page in a 16M segment.
    const u64 ea16 = kSegC + 2 * 16 * MiB;
    store_real(kLa16M + 0xabc008, 0);
    r = enter(kVsidC, ea16, kLa16M, kPage16M);
    if (check_status(r.status, H_SUCCESS, "H_ENTER of a 16M page")) {
        const u64 ptex = r.ret[0];
        const Fault f = vstore(ea16 + 0xabc008, kPat4);
        check(f.count == 0 && load_real(kLa16M + 0xabc008) == kPat4, fault_detail(f),
              "a store at offset 0xabc008 of the 16M page lands at logical +0xabc008");
        remove(ptex);
    }
    const u64 g16 = group(kVsidC, ea16, kPage16M) * 8;
    const u64 h16 = pteh(kVsidC, ea16, kPage16M);
    check_status(hcall(H_ENTER, 0, g16, h16, ptel(kLa16M + MiB, kPage16M)).status, H_PARAMETER,
                 "H_ENTER of a 16M page at a logical address not 16M-aligned -> H_PARAMETER");
    check_status(hcall(H_ENTER, 0, g16, h16, ptel(b.memory_size, kPage16M)).status, H_PARAMETER,
                 "H_ENTER of a 16M page at the LPAR's end -> H_PARAMETER");
}

void check_real_mode_outside(const Boot& b) {
    const u64 mem = b.memory_size;
    const Access inside = rload(mem - 8);
    check(inside.fault.count == 0, fault_detail(inside.fault),
          "a real-mode load of the LPAR's last doubleword works");
    const u64 addrs[] = {mem, mem + 16 * MiB - 8, 0x30000000};
    for (u64 la : addrs) {
        if (la < mem) continue;
        const Access ac = rload(la);
        check(ac.fault.count == 1 && ac.fault.vector == isa::kVecDsi && ac.fault.dar == la,
              fault_detail(ac.fault),
              "a real-mode load at logical 0x%" PRIx64 " (outside the LPAR) is a DSI with DAR = it",
              la);
    }
    const Fault f = rstore(mem, kPat1);
    check(f.count == 1 && f.vector == isa::kVecDsi && f.dar == mem, fault_detail(f),
          "a real-mode store at logical 0x%" PRIx64 " (outside the LPAR) is a DSI with DAR = it",
          mem);
}

// ---- relocation-on interrupts (AIL 3) ------------------------------------------------------
// The image is mapped twice with 4K pages: at its own address (segment 0, so that code and data
// work with IR and DR on) and at 0xc000000000004000 + its address, where AIL 3 puts the
// interrupt vectors. With relocation on, a DSI (the CPU's own delivery) and an illegal
// instruction (Hypervisor Emulation Assistance, delivered by Tessera as a Program interrupt)
// must both reach their handler relocation-on, through the second mapping; with AIL back at
// 0, in real mode.
extern "C" char _end[];
constexpr u64 kVsidImage = 0x84d, kVsidAil = 0x95e;
constexpr u64 kAilBase = 0xc000000000004000, kSegAil = 0xc000000000000000;
constexpr u64 kAilMaxPages = 1024; // the image ends below 4 MiB (lpar.lds)
constinit u64 g_ail_ptex[2 * kAilMaxPages] = {};

// With IR and DR on: a load from `ea`, and an illegal instruction (.long 0). The faulting
// instruction is skipped by its handler.
[[gnu::noinline]] void load_with_relocation(u64 ea) {
    asm volatile("mfmsr 9\n\t"
                 "ori 10, 9, 0x30\n\t"
                 "mtmsrd 10\n\t"
                 "isync\n\t"
                 "ld 10, 0(%0)\n\t"
                 "mtmsrd 9\n\t"
                 "isync" ::"b"(ea)
                 : "r9", "r10", "memory");
}
[[gnu::noinline]] void illegal_with_relocation() {
    asm volatile("mfmsr 9\n\t"
                 "ori 10, 9, 0x30\n\t"
                 "mtmsrd 10\n\t"
                 "isync\n\t"
                 ".long 0\n\t"
                 "mtmsrd 9\n\t"
                 "isync" ::
                     : "r9", "r10", "memory");
}

void check_relocation_on_interrupts() {
    const u64 pages = (reinterpret_cast<u64>(_end) + 0xfff) >> 12;
    if (!check(pages <= kAilMaxPages, Detail("%" PRIu64 " pages", pages),
               "the image fits the AIL check's table"))
        return;
    slbmte(slb_vsid(kVsidImage, kPage4K), slb_esid(0, 4));
    slbmte(slb_vsid(kVsidAil, kPage4K), slb_esid(kSegAil, 5));
    u64 entered = 0;
    bool all = true;
    for (u64 i = 0; i < pages && all; ++i) {
        const HcallResult id = enter(kVsidImage, i << 12, i << 12, kPage4K);
        const HcallResult ail = enter(kVsidAil, kAilBase + (i << 12), i << 12, kPage4K);
        if (id.status == H_SUCCESS) g_ail_ptex[entered++] = id.ret[0];
        if (ail.status == H_SUCCESS) g_ail_ptex[entered++] = ail.ret[0];
        all = id.status == H_SUCCESS && ail.status == H_SUCCESS;
    }
    if (check(all, Detail("%" PRIu64 " of %" PRIu64 " entries", entered, 2 * pages),
              "the image mapped at its address and at 0xc000000000004000 + it")) {
        const i64 on = hcall(H_SET_MODE, 3, 3).status;
        check_status(on, H_SUCCESS, "H_SET_MODE(AIL 3) for relocation-on interrupts");
        constexpr u64 kUnmapped = 0x800000; // in segment 0, beyond the image: no HPTE
        reset_fault();
        load_with_relocation(kUnmapped);
        const Fault dsi = take_fault();
        const u64 relocated = isa::msr::kIr | isa::msr::kDr;
        check(dsi.count == 1 && dsi.vector == isa::kVecDsi && dsi.dar == kUnmapped &&
                  (dsi.handler_msr & relocated) == relocated && dsi.handler_pc >= kAilBase,
              Detail("%s, handler MSR %#" PRIx64 " at %#" PRIx64, fault_detail(dsi).text(),
                     dsi.handler_msr, dsi.handler_pc),
              "AIL 3: a DSI with IR and DR on runs its handler relocation-on at "
              "0xc000000000004300");
        set_trap_handler(isa::kVecProgram, on_storage_fault);
        reset_fault();
        illegal_with_relocation();
        const Fault prog = take_fault();
        check(prog.count == 1 && prog.vector == isa::kVecProgram &&
                  (prog.handler_msr & relocated) == relocated && prog.handler_pc >= kAilBase,
              Detail("%s, handler MSR %#" PRIx64 " at %#" PRIx64, fault_detail(prog).text(),
                     prog.handler_msr, prog.handler_pc),
              "AIL 3: an illegal instruction with IR and DR on (reflected by the hypervisor) "
              "runs its Program handler relocation-on at 0xc000000000004700");
        const i64 off = hcall(H_SET_MODE, 0, 3).status;
        check_status(off, H_SUCCESS, "H_SET_MODE(AIL 0)");
        reset_fault();
        illegal_with_relocation();
        const Fault real = take_fault();
        check(real.count == 1 && (real.handler_msr & relocated) == 0 &&
                  real.handler_pc < pages << 12,
              Detail("%s, handler MSR %#" PRIx64 " at %#" PRIx64, fault_detail(real).text(),
                     real.handler_msr, real.handler_pc),
              "AIL 0 again: the same Program interrupt runs its handler in real mode at 0x700");
        set_trap_handler(isa::kVecProgram, nullptr);
    }
    for (u64 i = 0; i < entered; ++i) remove(g_ail_ptex[i]);
}

} // namespace

void lpar_main(const Boot& b) {
    if (b.vcpu != 0) return;
    note("mmu: %" PRIu64 " MiB, HTAB 2^%u bytes", b.memory_size / MiB, b.htab_log2);
    if (!check(b.htab_log2 >= 18 && b.htab_log2 <= 46, Detail("r6 = %u", b.htab_log2),
               "r6 is the log2 of a valid HTAB size") ||
        !check(b.memory_size >= 32 * MiB, Detail("%" PRIu64 " MiB", b.memory_size / MiB),
               "mmu runs with at least 32M of memory"))
        return;
    g_htab.entries = u64{1} << (b.htab_log2 - 4);
    g_htab.group_shift = b.htab_log2 - 7;
    g_htab.mask = (u64{1} << g_htab.group_shift) - 1;

    set_trap_handler(isa::kVecDsi, on_storage_fault);
    set_trap_handler(isa::kVecDsegi, on_storage_fault);

    check_slb_empty();
    const u64 valid_at_entry = count_valid();
    note("HTAB: %" PRIu64 " entries, %" PRIu64 " valid at entry (the hypervisor's)", g_htab.entries,
         valid_at_entry);
    slbia();
    slbmte(slb_vsid(kVsidA, kPage4K), slb_esid(kSegA, 1));
    slbmte(slb_vsid(kVsidB, kPage64K), slb_esid(kSegB, 2));
    slbmte(slb_vsid(kVsidC, kPage16M), slb_esid(kSegC, 3));

    Entry a, a2, s;
    u64 real_rpn = 0;
    check_enter_4k(a, a2, s, real_rpn);
    check_enter_bad(b, a);
    check_full_group_and_bulk();
    check_remove(a, a2, real_rpn);
    check_protect();
    check_ref_change();
    check_large_pages(b);
    check_real_mode_outside(b);
    check_relocation_on_interrupts();

    if (a.ok) remove(a.ptex);
    if (s.ok) remove(s.ptex);
    slbia();
    check_eq(count_valid(), valid_at_entry,
             "after removing its entries the HTAB holds what it held at entry");
}
