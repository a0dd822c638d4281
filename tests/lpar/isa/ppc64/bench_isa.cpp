// The ppc64 side of the bench's page-mapping figures (lib/bench_isa.hpp): H_ENTER of a 4 KiB
// page into its primary PTEG (no H_EXACT: the hypervisor picks the slot, as for Linux), then
// H_REMOVE of it with H_AVPN. Page i maps EA kSegment + i * 4K of one 256M segment to logical
// kScratch + i * 4K; consecutive pages hash to distinct groups. Nothing is accessed through the
// mappings (no SLB entry, MSR[DR] stays 0): the figures are the hcalls alone. The mmu program
// checks that such mappings translate.
#include "bench_isa.hpp"
#include "lpar.hpp"
#include "mmu.hpp"

namespace lpar::isa {

using namespace tessera::hcall;
using namespace lpar::mmu;

namespace {

constexpr u64 kSegment = 0x50000000;       // unused by anything else in the bench
constexpr u64 kVsid = 0x6be;               // any VSID: the HTAB is the LPAR's own
constexpr u64 kScratch = 4 * tessera::MiB; // lpar.lds: the image ends below 4 MiB
constexpr unsigned kHtabMinLog2 = 18, kHtabMaxLog2 = 46;

struct State {
    u64 group_mask = 0;
    unsigned pages = 0;
    u64 slot[kBenchMapMaxPages] = {};
};
constinit State g_state;

u64 ea_of(unsigned i) {
    return kSegment + u64{i} * 0x1000;
}

} // namespace

bool bench_map_setup(const Boot& boot, unsigned pages, char* why, usize cap) {
    if (pages == 0 || pages > kBenchMapMaxPages) {
        format(why, cap, "%u pages asked, 1..%u possible", pages, kBenchMapMaxPages);
        return false;
    }
    if (boot.htab_log2 < kHtabMinLog2 || boot.htab_log2 > kHtabMaxLog2) {
        format(why, cap, "no usable HTAB size at entry (r6 = %u)", boot.htab_log2);
        return false;
    }
    if (boot.memory_size < kScratch + u64{pages} * 0x1000) {
        format(why, cap, "the LPAR's %" PRIu64 " bytes cannot hold the scratch pages at 4M",
               boot.memory_size);
        return false;
    }
    g_state.group_mask = (u64{1} << (boot.htab_log2 - 7)) - 1;
    g_state.pages = pages;
    return true;
}

bool bench_map_page(unsigned i, char* why, usize cap) {
    const u64 ea = ea_of(i);
    const u64 group = hash(kVsid, ea, kPage4K) & g_state.group_mask;
    const HcallResult r = hcall(H_ENTER, 0, group * 8, pteh(kVsid, ea, kPage4K),
                                ptel(kScratch + u64{i} * 0x1000, kPage4K));
    if (r.status != H_SUCCESS) {
        format(why, cap, "H_ENTER of page %u -> %s", i, status_name(r.status));
        return false;
    }
    g_state.slot[i] = r.ret[0];
    return true;
}

bool bench_unmap_page(unsigned i, char* why, usize cap) {
    const u64 avpn = pteh(kVsid, ea_of(i), kPage4K) & kHpteAvpnMask;
    const i64 status = hcall(H_REMOVE, kAvpn, g_state.slot[i], avpn).status;
    if (status != H_SUCCESS) {
        format(why, cap, "H_REMOVE of page %u (slot %" PRIu64 ") -> %s", i, g_state.slot[i],
               status_name(status));
        return false;
    }
    return true;
}

} // namespace lpar::isa
