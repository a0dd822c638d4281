// The ia32 side of the bench's page-mapping figures (lib/bench_isa.hpp), the way a guest kernel
// on pc maps memory: it writes its own page-table entry and touches the page, and the hypervisor
// fills the shadow entry on that first touch (a #PF exit, a walk of the guest's tables, A/D
// bits); unmapping clears the entry and invalidates it with invlpg (a #GP exit, the decoder,
// the shadow entry dropped). Setup turns paging on for the calling vcpu with its own tables:
// the LPAR's memory at guest-virtual = logical in 4 MiB pages, and one page table for the
// benchmark's pages at kVaBase.
#include "bench_isa.hpp"
#include "lpar.hpp"

namespace lpar::isa {
namespace {

constexpr u32 kP = 1, kW = 2, kU = 4, kPs = 0x80;
constexpr u32 kCr0Pg = 0x80000000u, kCr0Wp = 0x10000, kCr4Pse = 0x10;
constexpr u32 kVaBase = 0x40000000;
constexpr u32 kScratch = 8u << 20; // logical pages behind the benchmark's mappings

alignas(4096) u32 g_pd[1024];
alignas(4096) u32 g_pt[1024];

} // namespace

bool bench_map_setup(const Boot& boot, unsigned pages, char* why, usize cap) {
    if (boot.memory_size < kScratch + pages * 4096u || pages > kBenchMapMaxPages) {
        format(why, cap, "needs %u MiB of memory", (kScratch >> 20) + 1);
        return false;
    }
    const u32 slots = static_cast<u32>(boot.memory_size >> 22);
    for (u32 i = 0; i < slots; ++i) g_pd[i] = (i << 22) | kP | kW | kU | kPs;
    g_pd[kVaBase >> 22] = reinterpret_cast<u32>(g_pt) | kP | kW | kU;
    u32 cr0, cr4;
    asm volatile("mov %%cr4, %0" : "=r"(cr4));
    asm volatile("mov %0, %%cr4" ::"r"(cr4 | kCr4Pse));
    asm volatile("mov %0, %%cr3" ::"r"(reinterpret_cast<u32>(g_pd)) : "memory");
    asm volatile("mov %%cr0, %0" : "=r"(cr0));
    asm volatile("mov %0, %%cr0" ::"r"(cr0 | kCr0Pg | kCr0Wp) : "memory");
    return true;
}

bool bench_map_page(unsigned i, char*, usize) {
    const u32 va = kVaBase + i * 4096;
    __atomic_store_n(&g_pt[i], (kScratch + i * 4096) | kP | kW | kU, __ATOMIC_SEQ_CST);
    (void)*reinterpret_cast<volatile u32*>(va); // the first touch: the shadow fill
    return true;
}

bool bench_unmap_page(unsigned i, char*, usize) {
    const u32 va = kVaBase + i * 4096;
    __atomic_store_n(&g_pt[i], u32{0}, __ATOMIC_SEQ_CST);
    asm volatile("invlpg (%0)" ::"r"(va) : "memory");
    return true;
}

} // namespace lpar::isa
