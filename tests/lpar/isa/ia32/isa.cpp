// The ia32 hooks of the test-LPAR library: start, the hcall register probe, trap reports, the
// entry-state checks, chaos's helpers and the jump to garbage.
#include "lpar.hpp"
#include "lpar_internal.hpp"

namespace lpar {

using namespace tessera::hcall;

namespace {

struct [[gnu::packed]] ProbeDump {
    u32 regs[6]; // ebx ecx edx esi edi ebp
    u32 esp_before;
    u32 esp_after;
    u32 eax;
    u64 rets[9];
};
static_assert(sizeof(ProbeDump) == 9 * 4 + 9 * 8, "keep in step with hcall_probe.S");

const char* const kRegNames[6] = {"ebx", "ecx", "edx", "esi", "edi", "ebp"};
constexpr unsigned kBitEsp = 6;

u32 mix(u64 seed, u64 n) {
    Lcg g(seed ^ (n * 0x9e3779b97f4a7c15ull));
    return static_cast<u32>(g.next());
}

} // namespace

extern "C" void lpar_hcall_probe(const u64* block, ProbeDump* dump, const u32* pattern);

ProbeResult hcall_probe(u64 number, const u64 (&args)[9], u64 seed) {
    u64 block[10] = {number};
    for (int i = 0; i < 9; ++i) block[i + 1] = args[i];
    u32 pattern[6];
    for (unsigned n = 0; n < 6; ++n) pattern[n] = mix(seed, n);
    ProbeDump dump{};
    lpar_hcall_probe(block, &dump, pattern);

    ProbeResult r;
    r.hcall.status = static_cast<tessera::i32>(dump.eax);
    for (int i = 0; i < 9; ++i) r.hcall.ret[i] = dump.rets[i];
    auto compare = [&](unsigned bit, u64 got, u64 want) {
        if (got == want) return;
        if (r.clobbered == 0) {
            r.first_got = got;
            r.first_want = want;
        }
        r.clobbered |= u64{1} << bit;
    };
    for (unsigned n = 0; n < 6; ++n) compare(n, dump.regs[n], pattern[n]);
    compare(kBitEsp, dump.esp_after, dump.esp_before);
    return r;
}

void describe_clobbered(const ProbeResult& r, char* buf, usize cap) {
    usize len = 0;
    buf[0] = '\0';
    for (unsigned n = 0; n <= kBitEsp; ++n) {
        if (!(r.clobbered >> n & 1) || len + 8 >= cap) continue;
        len += format(buf + len, cap - len, "%s%s", len ? " " : "", n < 6 ? kRegNames[n] : "esp");
    }
    if (r.clobbered != 0 && len + 8 < cap)
        format(buf + len, cap - len, "; the first is 0x%llx instead of 0x%llx", r.first_got,
               r.first_want);
}

namespace isa {

namespace {
alignas(8) u64 g_idt[256];
}

void idt_set_gate(u32 vector, u32 dpl, bool trap, u32 selector) {
    const u32 stub = reinterpret_cast<u32>(lpar_idt_stubs) + 16 * vector;
    const u64 access = (trap ? 0x8f : 0x8e) | (dpl << 5); // present 32-bit trap/interrupt gate
    __atomic_store_n(&g_idt[vector],
                     (stub & 0xffff) | (u64{selector} << 16) | (access << 40) |
                         (u64{stub >> 16} << 48),
                     __ATOMIC_SEQ_CST);
}

void idt_set_dpl(u32 vector, u32 dpl) {
    idt_set_gate(vector, dpl, false, kKernelCode);
}

// Every vcpu fills the (shared, identical) table and loads it: lidt traps to the hypervisor,
// which keeps the guest's IDT base and limit per vcpu.
void idt_load() {
    for (u32 v = 0; v < 256; ++v)
        if (g_idt[v] == 0) idt_set_dpl(v, 0);
    struct [[gnu::packed]] {
        tessera::u16 limit;
        u32 base;
    } p{sizeof(g_idt) - 1, reinterpret_cast<u32>(g_idt)};
    asm volatile("lidt %0" ::"m"(p) : "memory");
}

void describe_trap(const TrapFrame& f, char* buf, usize cap) {
    format(buf, cap, "vector 0x%x at eip 0x%x, cs 0x%x, eflags 0x%x, error 0x%x", f.vector, f.eip,
           f.cs, f.eflags, f.error);
}

void check_entry_state(const Boot& b) {
    check_eq(b.entry.cs & 3, 1, "vcpu %u entered in ring 1 (CS RPL 1, cs 0x%x)", b.vcpu,
             b.entry.cs);
    check_eq(b.entry.ss & 3, 1, "vcpu %u: SS is a ring-1 selector (ss 0x%x)", b.vcpu, b.entry.ss);
    check_eq(b.entry.eflags & 0x3000, 0, "vcpu %u entered with IOPL 0 (eflags 0x%x)", b.vcpu,
             b.entry.eflags);
    check(kTimebaseHz >= 1'000'000, Detail("%llu Hz", kTimebaseHz),
          "vcpu %u: ebx gave the TSC rate (at least 1 MHz)", b.vcpu);
}

// With an IDT the guest would handle #UD itself (the hypervisor reflects it): drop the IDT
// first, so that the #UD cannot be delivered, nor the #GP nor the double fault that follow:
// the triple fault, which the hypervisor must answer by stopping this LPAR alone.
[[noreturn]] void execute_garbage() {
    struct [[gnu::packed]] {
        tessera::u16 limit;
        u32 base;
    } none{0, 0};
    asm volatile("lidt %0\n\tud2" ::"m"(none) : "memory");
    __builtin_unreachable();
}

// ---- chaos --------------------------------------------------------------------------------
const u64 kChaosHcalls[] = {H_IA32_SET_TIMER};
const usize kChaosHcallCount = sizeof(kChaosHcalls) / sizeof(kChaosHcalls[0]);

void chaos_prepare(const Boot&) {}

// Re-registering the virtual-interrupt flags or entry with random arguments would send the
// next interrupt to garbage before chaos's own checks are done.
bool chaos_sanitize(u64 number, u64 (&)[9]) {
    return number != H_IA32_SET_VIRQ && number != H_IA32_SET_EXIT_WINDOW;
}

} // namespace isa
} // namespace lpar

extern "C" [[noreturn]] void lpar_isa_start(tessera::u32 vcpu, tessera::u32 memory,
                                            tessera::u32 vcpus, tessera::u32 cs, tessera::u32 ss,
                                            tessera::u32 eflags, tessera::u32 tsc_khz) {
    lpar::isa::kTimebaseHz = tessera::u64{tsc_khz} * 1000;
    // The IDT, then the shared virtual-interrupt flags (interrupts start disabled).
    lpar::isa::idt_load();
    {
        tessera::u64 args[9] = {reinterpret_cast<tessera::u32>(&lpar::isa::g_virq[vcpu]), 0, 0,
                                lpar::isa::kVirqFlagCr2 | lpar::isa::kVirqFlagTimer};
        tessera::u64 ret[9];
        lpar::isa::hcall_raw(lpar::isa::H_IA32_SET_VIRQ, args, ret);
    }
    lpar::Boot b;
    b.vcpu = vcpu;
    b.memory_size = memory;
    b.vcpu_count = vcpus;
    b.htab_log2 = 0;
    b.entry.cs = cs;
    b.entry.ss = ss;
    b.entry.eflags = eflags;
    lpar::start(b);
}
