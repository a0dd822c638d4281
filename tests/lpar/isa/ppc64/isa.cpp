// The ppc64 hooks of the test-LPAR library: start, the hcall register probe, trap reports, the
// entry-state checks, chaos's helpers and the jump to garbage.
#include "lpar.hpp"
#include "lpar_internal.hpp"
#include "mmu.hpp"

namespace lpar {

using namespace tessera::hcall;

namespace {

struct ProbeDump {
    u64 gpr[32];
    u64 cr;
    u64 lr;
    u64 ctr;
    u64 xer;
    u64 r1_before;
};
static_assert(sizeof(ProbeDump) == 37 * 8, "keep in step with D_* in hcall_probe.S");

// Mask bits of ProbeResult::clobbered beyond the GPRs.
constexpr unsigned kBitCr = 32, kBitLr = 33, kBitCtr = 34;
// The GPRs the hcall ABI preserves: r0, r1, r2, r13..r31.
constexpr u64 kPreservedGprs = 0xffffe007ull;

u64 mix(u64 seed, u64 n) {
    Lcg g(seed ^ (n * 0x9e3779b97f4a7c15ull));
    return g.next();
}

} // namespace

extern "C" void lpar_hcall_probe(const u64* call, ProbeDump* dump, const ProbeDump* pattern);

ProbeResult hcall_probe(u64 number, const u64 (&args)[9], u64 seed) {
    u64 call[10] = {number};
    for (int i = 0; i < 9; ++i) call[i + 1] = args[i];
    ProbeDump pattern{}, dump{};
    for (unsigned n = 0; n < 32; ++n) pattern.gpr[n] = mix(seed, n);
    pattern.cr = mix(seed, kBitCr) & 0xffffffff;
    pattern.lr = mix(seed, kBitLr);
    pattern.ctr = mix(seed, kBitCtr);

    const bool was_enabled = isa::irq_enabled();
    isa::irq_disable(); // r2 and r13 hold patterns during the call
    lpar_hcall_probe(call, &dump, &pattern);
    if (was_enabled) isa::irq_enable();

    ProbeResult r;
    r.hcall.status = static_cast<i64>(dump.gpr[3]);
    for (int i = 0; i < 9; ++i) r.hcall.ret[i] = dump.gpr[4 + i];
    auto compare = [&](unsigned bit, u64 got, u64 want) {
        if (got == want) return;
        if (r.clobbered == 0) {
            r.first_got = got;
            r.first_want = want;
        }
        r.clobbered |= u64{1} << bit;
    };
    for (unsigned n = 0; n < 32; ++n) {
        if (kPreservedGprs >> n & 1)
            compare(n, dump.gpr[n], n == 1 ? dump.r1_before : pattern.gpr[n]);
    }
    compare(kBitCr, dump.cr & 0xffffffff, pattern.cr);
    compare(kBitLr, dump.lr, pattern.lr);
    compare(kBitCtr, dump.ctr, pattern.ctr);
    return r;
}

void describe_clobbered(const ProbeResult& r, char* buf, usize cap) {
    usize len = 0;
    buf[0] = '\0';
    auto add = [&](const char* name, unsigned n) {
        if (len + 8 >= cap) return;
        len += name ? format(buf + len, cap - len, "%s%s", len ? " " : "", name)
                    : format(buf + len, cap - len, "%sr%u", len ? " " : "", n);
    };
    for (unsigned n = 0; n < 32; ++n)
        if (r.clobbered >> n & 1) add(nullptr, n);
    if (r.clobbered >> kBitCr & 1) add("cr", 0);
    if (r.clobbered >> kBitLr & 1) add("lr", 0);
    if (r.clobbered >> kBitCtr & 1) add("ctr", 0);
    if (r.clobbered != 0 && len + 8 < cap)
        format(buf + len, cap - len, "; the first is 0x%lx instead of 0x%lx", r.first_got,
               r.first_want);
}

namespace isa {

// ---- Problem state --------------------------------------------------------------------------
extern "C" u64 lpar_run_user(u64 pc, u64 arg, u64 sp, u64 msr, u64* kernel_sp);
extern "C" char lpar_user_exit[], lpar_user_resume[];

namespace {

constexpr u64 kUserVsid = 0x75e5; // segment 0's VSID while user code runs
constexpr usize kUserStack = 16 * 1024;
alignas(16) constinit u8 g_user_stack[kMaxVcpus][kUserStack] = {};
constinit u64 g_user_kernel_sp[kMaxVcpus] = {};
constinit u64 g_user_kernel_msr[kMaxVcpus] = {};
constinit bool g_user_htab = false;        // the HPTE is in (once per LPAR)
constinit bool g_user_slb[kMaxVcpus] = {}; // this vcpu's SLB has the segment

// sc from lpar_user_exit: back to run_user's caller in supervisor state, on its own stack.
void user_return(TrapFrame& f) {
    const unsigned me = this_vcpu().index;
    if (!(f.srr1 & msr::kPr) || f.srr0 != reinterpret_cast<u64>(lpar_user_exit) + 4) return;
    f.srr0 = reinterpret_cast<u64>(lpar_user_resume);
    f.srr1 = g_user_kernel_msr[me];
    f.gpr[4] = g_user_kernel_sp[me];
}

bool map_user() {
    using namespace mmu;
    const Boot& b = boot();
    if (!g_user_htab) {
        if (b.memory_size < (u64{1} << kPage16M.shift) || b.htab_log2 < 18) return false;
        const u64 groups = u64{1} << (b.htab_log2 - 7);
        const u64 group = hash(kUserVsid, 0, kPage16M) & (groups - 1);
        const HcallResult r =
            hcall(H_ENTER, 0, group * 8, pteh(kUserVsid, 0, kPage16M), ptel(0, kPage16M));
        if (r.status != H_SUCCESS) return false;
        g_user_htab = true;
    }
    slbmte(slb_vsid(kUserVsid, kPage16M), slb_esid(0, 0));
    return true;
}

} // namespace

u64 run_user(u64 pc, u64 arg) {
    const unsigned me = this_vcpu().index;
    if (!g_user_slb[me]) {
        g_user_slb[me] = map_user();
        if (!check(g_user_slb[me],
                   "vcpu %u: the first 16M map at effective address 0 for "
                   "problem state",
                   me))
            return ~u64{0};
    }
    set_trap_handler(kVecSyscall, user_return);
    g_user_kernel_msr[me] = mfmsr();
    const u64 sp = reinterpret_cast<u64>(&g_user_stack[me][kUserStack - 64]);
    return lpar_run_user(pc, arg, sp, kUserMsr, &g_user_kernel_sp[me]);
}

void describe_trap(const TrapFrame& f, char* buf, usize cap) {
    format(buf, cap, "vector 0x%lx at pc 0x%lx, srr1 0x%lx, dar 0x%lx, dsisr 0x%lx, lr 0x%lx",
           f.vector, f.srr0, f.srr1, mfspr<kSprDar>(), mfspr<kSprDsisr>(), f.lr);
}

void check_entry_state(const Boot& b) {
    // PAPR enters a client big-endian; the entry stub switched to little-endian.
    constexpr u64 want = msr::kSf | msr::kMe;
    check_eq(b.entry.msr, want,
             "vcpu %u entered big-endian with MSR = SF|ME (real mode, EE=0, PR=0)", b.vcpu);
    check((mfmsr() & msr::kLe) != 0, Detail("MSR 0x%lx", mfmsr()),
          "vcpu %u runs little-endian after its entry stub", b.vcpu);
    check(b.htab_log2 >= 18 && b.htab_log2 <= 46, Detail("r6 = %u", b.htab_log2),
          "vcpu %u: r6 is the log2 of a valid HTAB size (18..46)", b.vcpu);
}

extern "C" u32 lpar_vector_0x700[];

[[noreturn]] void execute_garbage() {
    // Zero words: primary opcode 0 is not an instruction. The hypervisor reflects that to this
    // LPAR's own Program interrupt vector (0x700), so that vector gets a zero word first: then
    // nothing can run any more, and the hypervisor has to stop the LPAR.
    alignas(16) static u32 garbage[4] = {0, 0, 0, 0};
    volatile u32* program_vector = lpar_vector_0x700; // entry.S: the stub at 0x700
    *program_vector = 0;
    asm volatile("dcbst 0, %0; sync; icbi 0, %0; isync" ::"r"(program_vector) : "memory");
    asm volatile("sync; icbi 0, %0; isync; mtctr %0; bctr" ::"r"(garbage) : "memory");
    __builtin_unreachable();
}

// ---- chaos --------------------------------------------------------------------------------
const u64 kChaosHcalls[] = {H_REMOVE,    H_ENTER,   H_READ,       H_CLEAR_MOD,
                            H_CLEAR_REF, H_PROTECT, H_BULK_REMOVE};
const usize kChaosHcallCount = sizeof(kChaosHcalls) / sizeof(kChaosHcalls[0]);

namespace {
// HTAB entries that were valid before chaos started (the hypervisor's VRMA): random H_REMOVE,
// H_PROTECT, H_CLEAR_* and H_BULK_REMOVE must leave them alone, as any guest leaves alone the
// entries it did not make.
constexpr usize kMaxForeign = 256;
constinit u64 g_foreign[kMaxForeign] = {};
constinit usize g_foreign_count = 0;

bool foreign(u64 ptex) {
    for (usize i = 0; i < g_foreign_count; ++i)
        if (g_foreign[i] == ptex) return true;
    return false;
}
} // namespace

void chaos_prepare(const Boot& b) {
    if (b.htab_log2 < 18 || b.htab_log2 > 46) {
        note("no valid HTAB size (r6 = %u): not scanning the HTAB", b.htab_log2);
        return;
    }
    const u64 entries = u64{1} << (b.htab_log2 - 4);
    u64 unreadable = 0;
    for (u64 ptex = 0; ptex < entries; ptex += 4) {
        const HcallResult r = hcall(H_READ, mmu::kReadFour, ptex);
        if (r.status != H_SUCCESS) {
            ++unreadable;
            continue;
        }
        for (u64 i = 0; i < 4; ++i) {
            if ((r.ret[2 * i] & mmu::kHpteValid) == 0) continue;
            if (g_foreign_count < kMaxForeign) g_foreign[g_foreign_count++] = ptex + i;
        }
    }
    note("HTAB: %lu entries, %lu valid before chaos (left alone)%s", entries,
         static_cast<u64>(g_foreign_count), unreadable ? ", some groups unreadable" : "");
}

bool chaos_sanitize(u64 number, u64 (&a)[9]) {
    switch (number) {
    case H_ENTER:
        a[0] &= ~mmu::kEnterZeroPage; // would zero a random page of this program
        return true;
    case H_REMOVE:
    case H_PROTECT:
    case H_CLEAR_REF:
    case H_CLEAR_MOD:
        return !foreign(a[1]);
    case H_BULK_REMOVE:
        for (int i = 0; i < 4; ++i) {
            const u64 tsh = a[2 * i];
            if ((tsh & mmu::kBulkType) == mmu::kBulkRequest && foreign(tsh & mmu::kBulkPtex))
                a[2 * i] = mmu::kBulkEnd;
        }
        return true;
    default:
        return true;
    }
}

} // namespace isa
} // namespace lpar

extern "C" [[noreturn]] void lpar_isa_start(tessera::u64 vcpu, tessera::u64 memory,
                                            tessera::u64 vcpus, tessera::u64 htab_log2,
                                            tessera::u64 entry_msr) {
    lpar::Boot b;
    b.vcpu = static_cast<unsigned>(vcpu);
    b.memory_size = memory;
    b.vcpu_count = static_cast<unsigned>(vcpus);
    b.htab_log2 = static_cast<unsigned>(htab_log2);
    b.entry.msr = entry_msr;
    lpar::start(b);
}
