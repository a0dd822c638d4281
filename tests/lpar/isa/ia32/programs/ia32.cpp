// ia32 (2 vcpus, pc only): x87/SSE registers isolated between vcpus, then on vcpu 0: ring
// compression, trap reflection, privileged-instruction emulation and shadow paging seen from the
// guest (docs/ia32.md):
// - its own GDT: DPL-0 descriptors are raised to DPL 1, system descriptors never installed, the
//   hypervisor's DPL-0 selectors cannot be loaded; ltr, lldt;
// - exceptions (#UD, #DE, int3, int n) reach its own IDT handlers with the right frame;
// - emulated cr0/cr4, MSRs, port I/O, cli/sti, hlt;
// - its own page tables: page faults with the right cr2 and error code (not present, read-only,
//   user/supervisor, outside its memory, the hypervisor's hole), A/D bits, 4 MiB pages, invlpg,
//   cr3 reloads, global pages; shadow roots kept per address space (H_IA32_SWITCH_MM);
// - two vcpus on one set of page tables: each one's invlpg/cr3 load picks up the other's PTE
//   changes, A/D bits set for one never overwrite the other's rewrites;
// - ring 3: runs, cannot make hcalls or run privileged instructions, takes interrupts;
// - no LDT the guest can write reaches the CPU (a call gate forged at linear 0 never runs in
//   ring 0); its own LDT, loaded by lldt, validated as its GDT is;
// - DF set at any entry harmless to the hypervisor and kept for the guest;
// - what ring 3 sees as on a CPU: prefixed int3/int n, NT across a system call, iret's checks of
//   the return cs/ss by the iret gate;
// - direct system calls: a DPL-3 trap gate at 0x80 runs ring 3's int $0x80 without a hypervisor
//   exit; gates to anything but ring-1 code are refused;
// - debug registers: watchpoints and instruction breakpoints in ring 1 and 3 with DR6, none on
//   the switcher's code ever armed;
// - an hcall with a bad stack pointer gets an error.
//
// Logical memory used: the program and its tables (below 4 MiB), test pages at 8 MiB; needs at
// least 16 MiB.
#include "descriptors.hpp"
#include "lpar.hpp"
#include "recover.hpp"

using namespace lpar;
using namespace tessera::hcall;
using tessera::i32;
using tessera::u16;

extern "C" {
u32 lpar_run_user(u32 eip, u32 esp, u32 eflags, u32 ebx, u32 ecx);
extern char lpar_user_return[];
tessera::i32 lpar_hcall_at(u32 esp);
extern char lpar_user_ret42[], lpar_user_hcall[], lpar_user_fast_switch[], lpar_user_fast_tls[],
    lpar_user_cli[], lpar_user_read[], lpar_user_spin[], lpar_user_load_es[], lpar_user_probe_sel[],
    lpar_user_far_call[], lpar_ring0_probe[], lpar_user_std_int80[], lpar_user_prefixed_int[],
    lpar_user_prefixed_int3_end[], lpar_user_prefixed_int81_end[], lpar_user_nt[],
    lpar_user_nt_iret[], lpar_run_user_as_iret[], lpar_user_iret_vm86[], lpar_user_iret_vm86_k[],
    lpar_user_vm86_sysexit[], lpar_user_vm86_iopl3[], lpar_user_iret_stack[],
    lpar_user_iret_stack_insn[], lpar_user_lret_stack[], lpar_user_lret_stack_insn[];
u32 lpar_run_user_as(u32 eip, u32 esp, u32 eflags, u32 cs, u32 ss);
extern char lpar_user_sysenter[], lpar_user_sysenter_insn[], lpar_user_sysenter_tf[],
    lpar_sysenter_entry[], lpar_sysenter_entry_step[];
extern u32 lpar_sysenter_seen[5]; // esp, eflags, cs, ss, ebp at the entry
u32 lpar_sysexit_to(u32 eip, u32 esp, u32 tf);
}

namespace {

constexpr u32 MiB = 1u << 20;
constexpr u32 kP = 1, kW = 2, kU = 4, kA = 0x20, kD = 0x40, kPs = 0x80, kG = 0x100;
constexpr u32 kPteFrameMask = 0xfffff000u;
constexpr u32 kPfP = 1, kPfW = 2, kPfU = 4, kPfRsvd = 8;
constexpr u32 kEflagsIf = 0x200, kEflagsDf = 0x400, kEflagsNt = 0x4000;
constexpr u32 kCr0Pg = 0x80000000u, kCr0Wp = 0x10000, kCr0Pe = 1, kCr4Pse = 0x10, kCr4Pge = 0x80;

// Guest-virtual test pages (directory slot 256, one page table) and the logical pages behind.
constexpr u32 kVaBase = 0x40000000;
constexpr u32 kVaMain = kVaBase, kVaAbsent = kVaBase + 0x1000, kVaReadOnly = kVaBase + 0x2000,
              kVaSuper = kVaBase + 0x3000, kVaOutside = kVaBase + 0x4000,
              kVaGlobal = kVaBase + 0x5000;
constexpr u32 kLaX = 8 * MiB, kLaY = kLaX + 0x1000, kLaZ = kLaX + 0x2000, kLaG1 = kLaX + 0x3000,
              kLaG2 = kLaX + 0x4000, kLaRo = kLaX + 0x5000, kLaSuper = kLaX + 0x6000;

alignas(4096) u32 g_pd[1024];
alignas(4096) u32 g_pt_low[1024];  // identity 0..4 MiB in 4 KiB pages
alignas(4096) u32 g_pt_test[1024]; // the test pages at kVaBase
alignas(16) u8 g_user_stack[4096];

// The guest's own GDT and TSS.
struct [[gnu::packed]] Tss {
    u32 link, esp0, ss0, esp1, ss1, esp2, ss2, cr3, eip, eflags;
    u32 regs[8];
    u32 segs[6], ldt;
    u16 trap, iomap;
};
Tss g_tss;
alignas(8) u64 g_gdt[8];

using isa::descriptor;
using isa::lar;
using isa::switcher_tls;
constexpr u16 kSelTss = 0x08, kSelData0 = 0x10, kSelCode0 = 0x18, kSelGate = 0x20, kSelData3 = 0x2b,
              kSelLdt = 0x30, kSelHvCode = 0x100, kSelHvData = 0x108;

// ---- Faults: what the handler saw, and where to resume -------------------------------------
struct Seen {
    u32 count, vector, error, cr2, shared_cr2, eip, cs, eflags;
};
constinit Seen g_seen = {};
using isa::g_recover;
using isa::read_cr2;

void on_fault(isa::TrapFrame& f) {
    g_seen.count = g_seen.count + 1;
    g_seen.vector = f.vector;
    g_seen.error = f.error;
    g_seen.cr2 = f.vector == 14 ? read_cr2() : 0;
    g_seen.shared_cr2 = f.vector == 14 ? isa::g_virq[isa::stack_slot()].cr2 : 0;
    g_seen.eip = f.eip;
    g_seen.cs = f.cs;
    g_seen.eflags = f.eflags;
    if ((f.cs & 3) == 3 || f.vector == 0x80) { // back to lpar_run_user's caller, in ring 1
        f.eip = reinterpret_cast<u32>(lpar_user_return);
        f.cs = isa::kKernelCode;
        f.eflags &= ~(kEflagsDf | kEflagsNt); // what ring 3 may have set, not for the C++ code
        return;
    }
    if (isa::recover(f)) return;
    set_trap_handler(f.vector, nullptr); // re-faults into the library's "unexpected" report
}

// The vector a software interrupt or trap reached us with, and its eip.
void on_soft(isa::TrapFrame& f) {
    g_seen.count = g_seen.count + 1;
    g_seen.vector = f.vector;
    g_seen.eip = f.eip;
    g_seen.cs = f.cs;
    g_seen.eflags = f.eflags;
}

void reset_seen() {
    g_seen = Seen{};
}

u32 g_probe_word;

// Loads `sel` into %es and reads es:[&g_probe_word]; false if a fault got in the way.
bool load_es_and_read(u32 sel, u32& value) {
    reset_seen();
    u32 v = 0xdeadbeef;
    asm volatile("movl $1f, %[rec]\n\t"
                 "movw %w[sel], %%es\n\t"
                 "movl %%es:(%[a]), %[v]\n"
                 "1:\n\t"
                 "movl $0, %[rec]\n\t"
                 "movw %w[kd], %%es"
                 : [v] "+r"(v), [rec] "=m"(g_recover)
                 : [sel] "r"(sel), [kd] "r"(isa::kKernelData), [a] "r"(&g_probe_word)
                 : "memory");
    value = v;
    return g_seen.count == 0;
}

bool try_read(u32 va, u32& value) {
    reset_seen();
    return isa::try_read(va, value);
}

bool try_write(u32 va, u32 value) {
    reset_seen();
    return isa::try_write(va, value);
}

// rdmsr that survives a #GP; false if it faulted.
bool try_rdmsr(u32 msr, u64& value) {
    reset_seen();
    u32 lo = 0, hi = 0;
    asm volatile("movl $1f, %[rec]\n\t"
                 "rdmsr\n"
                 "1:\n\t"
                 "movl $0, %[rec]"
                 : "+a"(lo), "+d"(hi), [rec] "=m"(g_recover)
                 : "c"(msr)
                 : "memory");
    value = (u64{hi} << 32) | lo;
    return g_seen.count == 0;
}

bool try_write_cr4(u32 value) {
    reset_seen();
    asm volatile("movl $1f, %[rec]\n\t"
                 "mov %[v], %%cr4\n"
                 "1:\n\t"
                 "movl $0, %[rec]"
                 : [rec] "=m"(g_recover)
                 : [v] "r"(value)
                 : "memory");
    return g_seen.count == 0;
}

u32 read_cr0() {
    u32 v;
    asm volatile("mov %%cr0, %0" : "=r"(v));
    return v;
}
u32 read_cr4() {
    u32 v;
    asm volatile("mov %%cr4, %0" : "=r"(v));
    return v;
}
void write_cr0(u32 v) {
    asm volatile("mov %0, %%cr0" ::"r"(v) : "memory");
}
void write_cr3(u32 v) {
    asm volatile("mov %0, %%cr3" ::"r"(v) : "memory");
}
void write_cr4(u32 v) {
    asm volatile("mov %0, %%cr4" ::"r"(v) : "memory");
}
void invlpg(u32 va) {
    asm volatile("invlpg (%0)" ::"r"(va) : "memory");
}

// lar, lsl, verr, verw of a selector: bit 0..3 set when that instruction set ZF ("valid").
u32 probe_sel(u32 sel) {
    u32 bits;
    asm volatile("call lpar_probe_sel" : "=a"(bits) : "b"(sel) : "ecx", "cc");
    return bits;
}

u32 run_user(const char* code, u32 eflags = 0x2, u32 ebx = 0, u32 ecx = 0) {
    reset_seen();
    return lpar_run_user(reinterpret_cast<u32>(code),
                         reinterpret_cast<u32>(g_user_stack + sizeof(g_user_stack)), eflags, ebx,
                         ecx);
}

// ---- The parts ------------------------------------------------------------------------------
void check_descriptors() {
    g_tss = Tss{};
    // The ring-3 -> ring-1 stack: the middle of this vcpu's stack slot (the library finds the
    // vcpu from its stack; the code below runs at the slot's top, far above).
    g_tss.esp0 = reinterpret_cast<u32>(lpar_stacks) + (1u << (isa::kStackShift - 1));
    g_tss.ss0 = isa::kKernelData & ~3u;
    g_gdt[0] = 0;
    g_gdt[1] = descriptor(reinterpret_cast<u32>(&g_tss), sizeof(Tss) - 1, 0x89, 0);
    g_gdt[2] = descriptor(0, 0xfffff, 0x92, 0xc); // data, DPL 0
    g_gdt[3] = descriptor(0, 0xfffff, 0x9a, 0xc); // code, DPL 0
    g_gdt[4] = 0x0000ec0001210000ull;             // a call gate, DPL 3, to 0x121:0
    g_gdt[5] = descriptor(0, 0xfffff, 0xf2, 0xc); // data, DPL 3
    struct [[gnu::packed]] {
        u16 limit;
        u32 base;
    } p{sizeof(g_gdt) - 1, reinterpret_cast<u32>(g_gdt)};
    asm volatile("lgdt %0" ::"m"(p) : "memory");

    u32 rights = 0;
    bool ok = lar(kSelData0, rights);
    check(ok && ((rights >> 13) & 3) == 1, Detail("lar ok %d, rights %#x", ok, rights),
          "a DPL-0 data descriptor of the guest's GDT is installed with DPL 1");
    ok = lar(kSelCode0, rights);
    check(ok && ((rights >> 13) & 3) == 1, Detail("lar ok %d, rights %#x", ok, rights),
          "a DPL-0 code descriptor is installed with DPL 1");
    ok = lar(kSelGate, rights);
    check(!ok, Detail("lar gave rights %#x", rights),
          "a call gate in the guest's GDT never reaches the real GDT");
    ok = lar(kSelData3, rights);
    check(ok && ((rights >> 13) & 3) == 3, Detail("lar ok %d, rights %#x", ok, rights),
          "a DPL-3 data descriptor keeps DPL 3");

    store_release(g_probe_word, 0x5e6e7e8eu);
    u32 value = 0;
    ok = load_es_and_read(kSelData0, value);
    check(ok && value == 0x5e6e7e8e,
          Detail("fault vector %u error %#x, value %#x", g_seen.vector, g_seen.error, value),
          "ring 1 loads its own (raised) data selector with RPL 0 and reads through it");
    ok = load_es_and_read(kSelHvData, value);
    check(!ok && g_seen.vector == 13 && g_seen.error == kSelHvData,
          Detail("loaded: %d, vector %u, error %#x", ok, g_seen.vector, g_seen.error),
          "ring 1 cannot load the hypervisor's DPL-0 data selector (#GP(0x108))");

    reset_seen();
    asm volatile("movl $1f, %[rec]\n\tltr %w[s]\n1:\n\tmovl $0, %[rec]"
                 : [rec] "=m"(g_recover)
                 : [s] "r"(u32{kSelTss})
                 : "memory");
    check(g_seen.count == 0, Detail("vector %u error %#x", g_seen.vector, g_seen.error),
          "ltr of the guest's own TSS");
    reset_seen();
    asm volatile("movl $1f, %[rec]\n\tlldt %w[s]\n1:\n\tmovl $0, %[rec]"
                 : [rec] "=m"(g_recover)
                 : [s] "r"(u32{0x28})
                 : "memory");
    check(g_seen.vector == 13 && g_seen.error == 0x28,
          Detail("count %u vector %u error %#x", g_seen.count, g_seen.vector, g_seen.error),
          "lldt of a selector that is not an LDT descriptor -> #GP(selector)");
}

void check_exceptions() {
    reset_seen();
    u32 at = 0;
    asm volatile("movl $1f, %[rec]\n\t"
                 "movl $2f, %[at]\n"
                 "2:\tud2\n"
                 "1:\n\t"
                 "movl $0, %[rec]"
                 : [rec] "=m"(g_recover), [at] "=r"(at)::"memory");
    check(g_seen.vector == 6 && g_seen.eip == at && (g_seen.cs & 3) == 1,
          Detail("vector %u eip %#x (ud2 at %#x) cs %#x", g_seen.vector, g_seen.eip, at, g_seen.cs),
          "ud2 in ring 1 reaches the guest's #UD handler with eip at the instruction");

    reset_seen();
    u32 zero = 0, q = 7;
    asm volatile("movl $1f, %[rec]\n\t"
                 "xorl %%edx, %%edx\n\t"
                 "divl %[z]\n"
                 "1:\n\t"
                 "movl $0, %[rec]"
                 : [rec] "=m"(g_recover), "+a"(q)
                 : [z] "r"(zero)
                 : "edx", "memory");
    check_eq(g_seen.vector, 0, "a divide by zero reaches the guest's #DE handler");

    set_trap_handler(3, on_soft);
    set_trap_handler(0x40, on_soft);
    reset_seen();
    asm volatile("movl $1f, %0\n\tint3\n1:" : "=r"(at)::"memory");
    check(g_seen.vector == 3 && g_seen.eip == at,
          Detail("vector %u eip %#x", g_seen.vector, g_seen.eip),
          "int3 reaches the guest's handler with eip after the instruction");
    reset_seen();
    asm volatile("movl $1f, %0\n\tint $0x40\n1:" : "=r"(at)::"memory");
    check(g_seen.vector == 0x40 && g_seen.eip == at,
          Detail("vector %#x eip %#x", g_seen.vector, g_seen.eip),
          "int $0x40 from ring 1 reaches the guest's IDT entry 0x40");
}

// The sti-shadow check: vcpu 0 arms it and reports its hlt done; vcpu 1 stands by and prods
// vcpu 0 (saying so) only if that hlt is still asleep 3 s later.
u32 g_shadow_armed = 0;
u32 g_shadow_done = 0;
u32 g_shadow_prodded = 0;

void check_emulation() {
    const u32 cr0 = read_cr0();
    check((cr0 & kCr0Pe) && !(cr0 & kCr0Pg), Detail("cr0 %#x", cr0),
          "mov from cr0: protected mode, paging off");

    u64 tsc = 0;
    const u64 before = isa::timebase();
    bool ok = try_rdmsr(0x10, tsc);
    check(ok && tsc >= before && tsc <= isa::timebase(), Detail("ok %d tsc %llu", ok, tsc),
          "rdmsr of the TSC MSR reads the timebase");
    asm volatile("wrmsr" ::"c"(0x174), "a"(0x1234), "d"(0));
    u64 cs = 0;
    ok = try_rdmsr(0x174, cs);
    check(ok && cs == 0x1234, Detail("ok %d value %#llx", ok, cs),
          "wrmsr/rdmsr of SYSENTER_CS reads back what was written");
    u64 none = 0;
    ok = try_rdmsr(0xdead, none);
    check(!ok && g_seen.vector == 13 && g_seen.error == 0,
          Detail("ok %d vector %u", ok, g_seen.vector), "rdmsr of an unknown MSR -> #GP(0)");

    u8 al = 0;
    u32 eax = 0;
    asm volatile("inb $0x60, %0" : "=a"(al));
    asm volatile("inl %%dx, %0" : "=a"(eax) : "d"(0x3f8));
    check(al == 0xff && eax == 0xffffffffu, Detail("inb %#x inl %#x", al, eax),
          "port reads reach no device: all ones");

    asm volatile("sti" ::: "memory");
    const bool on = isa::irq_enabled();
    asm volatile("cli" ::: "memory");
    check(on && !isa::irq_enabled(), "sti/cli set and clear the virtual IF in the shared page");
    // Bad registrations change nothing (vectors 0: unchanged).
    const u64 mem = boot().memory_size;
    const u32 area = reinterpret_cast<u32>(&isa::g_virq[isa::stack_slot()]);
    HcallResult bad_flags = hcall(isa::H_IA32_SET_VIRQ, area, 0, 0, 64);
    HcallResult no_room = hcall(isa::H_IA32_SET_VIRQ, mem - 8, 0, 0, isa::kVirqFlagCr2);
    HcallResult no_timer_room = hcall(isa::H_IA32_SET_VIRQ, mem - 28, 0, 0, isa::kVirqFlagTimer);
    // Flag 2 (alias): the alias page must be page-aligned and inside the LPAR.
    HcallResult odd_alias = hcall(isa::H_IA32_SET_VIRQ, area, 0, 0, 2, 0x1800);
    HcallResult far_alias = hcall(isa::H_IA32_SET_VIRQ, area, 0, 0, 2, mem);
    // Flag 16 (raise) only with flag 8 (the guest takes an owed timer itself).
    HcallResult raise_alone =
        hcall(isa::H_IA32_SET_VIRQ, area, 0, 0, isa::kVirqFlagTimer | isa::kVirqFlagRaise);
    // Flag 32 (a later want) only with flag 4 (the timer's words).
    HcallResult later_alone =
        hcall(isa::H_IA32_SET_VIRQ, area, 0, 0, isa::kVirqFlagCr2 | isa::kVirqFlagLater);
    check(bad_flags.status == H_PARAMETER && no_room.status == H_PARAMETER &&
              no_timer_room.status == H_PARAMETER && odd_alias.status == H_PARAMETER &&
              far_alias.status == H_PARAMETER && raise_alone.status == H_PARAMETER &&
              later_alone.status == H_PARAMETER,
          Detail("unknown flag %lld, 8 bytes left with the cr2 slot %lld, 28 with the timer's "
                 "words %lld, unaligned alias %lld, alias beyond memory %lld, raise without "
                 "self %lld, later without the words %lld",
                 static_cast<long long>(bad_flags.status), static_cast<long long>(no_room.status),
                 static_cast<long long>(no_timer_room.status),
                 static_cast<long long>(odd_alias.status), static_cast<long long>(far_alias.status),
                 static_cast<long long>(raise_alone.status),
                 static_cast<long long>(later_alone.status)),
          "H_IA32_SET_VIRQ: an unknown flag, no room for the cr2 slot or the timer's words, a "
          "bad alias page, flag 16 without 8 or flag 32 without 4 -> H_PARAMETER");

    check(!try_write_cr4(read_cr4() | 0x20), "setting CR4.PAE -> #GP (not this paging mode)");
    asm volatile("clts\n\twbinvd" ::: "memory");
    check(!(read_cr0() & 8), "clts and wbinvd are emulated");

    // hlt idles until the (virtual) timer interrupt.
    Vcpu& v = this_vcpu();
    const u64 ticks = load_acquire(v.timer_ticks);
    store_release(v.timer_period, u64{0});
    isa::timer_set(ticks_per_ms());
    asm volatile("sti\n\thlt\n\tcli" ::: "memory");
    check(load_acquire(v.timer_ticks) > ticks, "sti; hlt wakes on the timer interrupt");

    // The sti shadow: with the timer already expired while interrupts are off, `sti; hlt` must
    // take it after the hlt, which then does not sleep. Taking it before the hlt would leave the
    // hlt to sleep until something else wakes it: vcpu 1's H_PROD, 3 s later. What decides is
    // whether that prod was needed, not a time (a loaded host may stall a CPU for a while).
    const u64 ticks_before = load_acquire(v.timer_ticks);
    isa::timer_set(1);
    const Deadline expired = Deadline::ms(2);
    while (!expired.expired()) isa::cpu_relax();
    store_release(g_shadow_armed, 1u);
    const u64 t0 = now();
    asm volatile("sti\n\thlt\n\tcli" ::: "memory");
    store_release(g_shadow_done, 1u);
    const u64 took_ms = (now() - t0) / ticks_per_ms();
    const bool prodded = load_acquire(g_shadow_prodded) != 0;
    check(load_acquire(v.timer_ticks) > ticks_before && !prodded,
          Detail("%llu ms, ticks %llu -> %llu, %s", took_ms, ticks_before,
                 load_acquire(v.timer_ticks), prodded ? "woken by vcpu 1's prod" : "not prodded"),
          "sti; hlt with the timer already expired: taken after the hlt, no sleep (sti shadow)");
}

// The tick armed ahead (kVirqFlagTimer, registered at start): after two deadlines one period
// apart, each delivered, the hypervisor arms the next one at that period, half its slack late,
// and shows it in the area; a deadline we only write there (no H_IA32_SET_TIMER) is then met,
// not early and at most the slack late. The handler notes when each tick came and what was
// armed at its delivery, so a host that stalls the machine for a while changes no result (a
// run in which it held a tick back past half the 200 ms period is made again, ahead_run). The
// handlers are the LPAR's, not the vcpu's: the other vcpus' ticks go to the usual handler.
isa::VirqArea* g_ahead_area = nullptr;
unsigned g_ahead_vcpu = 0;
u32 g_ahead_ticks = 0;
u64 g_ahead_at[4] = {}, g_ahead_armed[4] = {};
// Written to the area by the second tick's handler, as Linux's tick handler sets its next
// event: a stall of the vcpu after the handler then cannot let the armed tick come before it.
u64 g_ahead_third = 0;

u64 ahead_armed(const isa::VirqArea& a) {
    return u64{load_acquire(a.armed_hi)} << 32 | load_acquire(a.armed_lo);
}

void ahead_want(isa::VirqArea& a, u64 deadline) {
    store_release(a.want_lo, static_cast<u32>(deadline));
    store_release(a.want_hi, static_cast<u32>(deadline >> 32));
}

void on_ahead_tick(isa::TrapFrame& frame) {
    if (isa::stack_slot() != load_acquire(g_ahead_vcpu)) return default_timer_handler(frame);
    const u32 n = load_acquire(g_ahead_ticks);
    if (n < 4) {
        g_ahead_at[n] = now();
        g_ahead_armed[n] = ahead_armed(*g_ahead_area);
    }
    if (n == 1) ahead_want(*g_ahead_area, g_ahead_third);
    store_release(g_ahead_ticks, n + 1);
}

// Waits (interrupts on, spinning) until `n` ticks came, at most two seconds; false if they did
// not.
bool ahead_wait(u32 n) {
    const Deadline limit = Deadline::ms(2000);
    isa::irq_enable();
    while (load_acquire(g_ahead_ticks) < n && !limit.expired()) isa::cpu_relax();
    isa::irq_disable();
    return load_acquire(g_ahead_ticks) >= n;
}

// H_IA32_SET_TIMER at exactly `deadline`.
void ahead_set(u64 deadline) {
    u64 args[9] = {deadline};
    u64 ret[9];
    isa::hcall_raw(isa::H_IA32_SET_TIMER, args, ret);
}

// One run of the sequence. `stalled`: the host held a tick back past half a period, after which
// the hypervisor rightly arms nothing (the next tick is nearly due: the guest asks for it
// itself), so the run says nothing about the mechanism and is made again.
struct AheadRun {
    u64 first = 0, second = 0, third = 0, shown = 0, off = 0;
    bool got[3] = {};
    bool stalled = false;
};

AheadRun ahead_run(isa::VirqArea& a, u64 period) {
    AheadRun r;
    // Registered again: the hypervisor forgets the ticks it followed (an earlier run's).
    u64 args[9] = {reinterpret_cast<u32>(&a), 0, 0, isa::kVirqFlagCr2 | isa::kVirqFlagTimer};
    u64 ret[9];
    isa::hcall_raw(isa::H_IA32_SET_VIRQ, args, ret);
    for (u32 i = 0; i < 4; ++i) g_ahead_at[i] = g_ahead_armed[i] = 0;
    store_release(g_ahead_ticks, 0u);
    // Two deadlines by hcall, each written to the area first, as the PV kernel does.
    r.first = now() + period;
    r.second = r.first + period;
    r.third = r.second + period;
    g_ahead_third = r.third;
    ahead_want(a, r.first);
    ahead_set(r.first);
    r.got[0] = ahead_wait(1);
    ahead_want(a, r.second);
    ahead_set(r.second);
    r.shown = ahead_armed(a);
    // The second tick's handler writes the third deadline to the area only: the armed tick
    // serves it.
    r.got[1] = ahead_wait(2);
    r.got[2] = ahead_wait(3);
    isa::timer_set(isa::kTimerMax); // off
    r.off = ahead_armed(a);
    const u64 deadline[3] = {r.first, r.second, r.third};
    for (u32 i = 0; i < 3; ++i)
        if (r.got[i] && g_ahead_at[i] > deadline[i] + period / 2) r.stalled = true;
    return r;
}

void check_tick_ahead() {
    isa::VirqArea& a = isa::g_virq[isa::stack_slot()];
    g_ahead_area = &a;
    store_release(g_ahead_vcpu, isa::stack_slot());
    // Long enough that the other LPARs of a selftest on a loaded host rarely hold a tick back
    // for half of it (they share 1-2 CPUs by 10 ms slices; 50 ms stalled under two selftests).
    const u64 period = 200 * ticks_per_ms();
    const u64 slack = load_acquire(a.slack);
    set_trap_handler(isa::kTimerVector, on_ahead_tick);
    AheadRun r;
    u32 runs = 0;
    do {
        r = ahead_run(a, period);
    } while (r.stalled && ++runs < 3);
    set_trap_handler(isa::kTimerVector, nullptr);
    if (runs > 0) note("tick armed ahead: %u run(s) stalled by the host, made again", runs);
    check(slack == isa::kTimebaseHz / 250'000 && r.got[0] && g_ahead_armed[0] == 0 &&
              r.shown == r.second && r.got[1] && g_ahead_armed[1] == r.third + slack / 2,
          Detail("slack %llu, first %d (armed at it %llu), shown %llu (want %llu), second %d, "
                 "armed at it %llu (want %llu)%s",
                 slack, r.got[0], g_ahead_armed[0], r.shown, r.second, r.got[1], g_ahead_armed[1],
                 r.third + slack / 2, r.stalled ? ", stalled" : ""),
          "a tick by H_IA32_SET_TIMER shows in the area; after two, one period apart, the next "
          "is armed ahead, half the 4 us slack late");
    check(r.got[2] && g_ahead_at[2] >= r.third && g_ahead_at[2] >= g_ahead_armed[1] && r.off == 0 &&
              g_ahead_armed[2] == r.third + period + slack / 2,
          Detail("third %d at %lld ticks from its deadline, armed at it %llu (want %llu), off "
                 "%llu%s",
                 r.got[2], static_cast<long long>(g_ahead_at[2] - r.third), g_ahead_armed[2],
                 r.third + period + slack / 2, r.off, r.stalled ? ", stalled" : ""),
          "a deadline only written to the area is met by the tick armed ahead (not early), "
          "which arms the next; H_IA32_SET_TIMER 0 turns it off");
}

// A held timer the guest takes itself (kVirqFlagSelf): with interrupts off, an expired timer
// is offered (pending = 2), the hypervisor's part of its delivery done. Taken (pending 2 -> 0,
// as the PV kernel's irq-enable does before it enters its handler), it is owed no more from the
// next exit: enabling interrupts brings no second one. Not taken, it is delivered at the
// enable, once.
// The handler is the LPAR's: the other vcpus' ticks go to the usual one.
u32 g_self_ticks = 0;
unsigned g_self_vcpu = 0;

void on_self_tick(isa::TrapFrame& frame) {
    if (isa::stack_slot() != load_acquire(g_self_vcpu)) return default_timer_handler(frame);
    store_release(g_self_ticks, load_acquire(g_self_ticks) + 1);
}

struct SelfRound {
    u32 offered = 0, ticks = 0;
};

void register_virq(isa::VirqArea& a, u64 flags) {
    u64 args[9] = {reinterpret_cast<u32>(&a), 0, 0, flags};
    u64 ret[9];
    isa::hcall_raw(isa::H_IA32_SET_VIRQ, args, ret);
}

// The guest takes an owed timer itself, as the PV kernel's irq-enable does before it enters its
// handler (pending 2 -> 0: only that is the guest's to clear); then an exit.
void take_owed_timer(isa::VirqArea& a) {
    u32 offer = isa::kVirqPendingTimer;
    if (__atomic_compare_exchange_n(&a.pending, &offer, 0u, false, __ATOMIC_SEQ_CST,
                                    __ATOMIC_SEQ_CST))
        store_release(g_self_ticks, 1u); // its handler ran, as far as the hypervisor knows
    hcall(isa::H_IA32_EXIT_COUNTS);
}

// Interrupts on for 20 ms, then off: the timer interrupts this vcpu had so far.
u32 enable_and_count_ticks() {
    isa::irq_enable();
    const Deadline settle = Deadline::ms(20);
    while (!settle.expired()) isa::cpu_relax();
    isa::irq_disable();
    return load_acquire(g_self_ticks);
}

SelfRound self_round(isa::VirqArea& a, bool take) {
    SelfRound r;
    register_virq(a, isa::kVirqFlagCr2 | isa::kVirqFlagTimer | isa::kVirqFlagSelf);
    isa::irq_disable();
    store_release(g_self_ticks, 0u);
    isa::timer_set(ticks_per_ms());
    // The timer's host interrupt is an exit, after which the entry holds it back and offers it.
    const Deadline limit = Deadline::ms(2000);
    while (load_acquire(a.pending) == 0 && !limit.expired()) isa::cpu_relax();
    r.offered = load_acquire(a.pending);
    if (take) take_owed_timer(a);
    r.ticks = enable_and_count_ticks();
    return r;
}

void check_self_timer() {
    isa::VirqArea& a = isa::g_virq[isa::stack_slot()];
    store_release(g_self_vcpu, isa::stack_slot());
    set_trap_handler(isa::kTimerVector, on_self_tick);
    const SelfRound taken = self_round(a, true), left = self_round(a, false);
    set_trap_handler(isa::kTimerVector, nullptr);
    register_virq(a, isa::kVirqFlagCr2 | isa::kVirqFlagTimer); // as registered at the start
    check(taken.offered == isa::kVirqPendingTimer && taken.ticks == 1,
          Detail("offered %u, timer interrupts %u", taken.offered, taken.ticks),
          "kVirqFlagSelf: a timer held back is offered (pending = 2); taken by the guest, it is "
          "not delivered again");
    check(left.offered == isa::kVirqPendingTimer && left.ticks == 1,
          Detail("offered %u, timer interrupts %u", left.offered, left.ticks),
          "kVirqFlagSelf: an offer not taken is delivered once when interrupts are enabled");
}

// kVirqFlagRaise: the guest raises its own timer interrupt (pending 0 -> 2) with interrupts
// off, as the PV kernel does for a deadline closer than an exit. Seen at an exit, it is owed:
// offered again at the entry (still 2), delivered once at the enable unless the guest takes it
// (2 -> 0), and then not again. Without the flag a 2 the hypervisor did not write is nothing.
struct RaiseRound {
    u32 after_exit = 0, ticks = 0;
};

RaiseRound raise_round(isa::VirqArea& a, u64 flags, bool take) {
    RaiseRound r;
    register_virq(a, flags);
    isa::timer_set(isa::kTimerMax); // off: only the raised interrupt can come
    isa::irq_disable();
    store_release(g_self_ticks, 0u);
    u32 idle = 0;
    __atomic_compare_exchange_n(&a.pending, &idle, isa::kVirqPendingTimer, false, __ATOMIC_SEQ_CST,
                                __ATOMIC_SEQ_CST);
    hcall(isa::H_IA32_EXIT_COUNTS); // an exit, and the entry after it
    r.after_exit = load_acquire(a.pending);
    if (take) take_owed_timer(a);
    r.ticks = enable_and_count_ticks();
    return r;
}

void check_raise_timer() {
    isa::VirqArea& a = isa::g_virq[isa::stack_slot()];
    store_release(g_self_vcpu, isa::stack_slot());
    set_trap_handler(isa::kTimerVector, on_self_tick);
    const u64 raise =
        isa::kVirqFlagCr2 | isa::kVirqFlagTimer | isa::kVirqFlagSelf | isa::kVirqFlagRaise;
    const RaiseRound left = raise_round(a, raise, false), taken = raise_round(a, raise, true);
    const RaiseRound ignored =
        raise_round(a, isa::kVirqFlagCr2 | isa::kVirqFlagTimer | isa::kVirqFlagSelf, false);
    set_trap_handler(isa::kTimerVector, nullptr);
    register_virq(a, isa::kVirqFlagCr2 | isa::kVirqFlagTimer);
    check(left.after_exit == isa::kVirqPendingTimer && left.ticks == 1,
          Detail("pending after the exit %u, timer interrupts %u", left.after_exit, left.ticks),
          "kVirqFlagRaise: a timer interrupt the guest raised, seen at an exit, is owed: offered "
          "again, and delivered once when interrupts are enabled");
    check(taken.after_exit == isa::kVirqPendingTimer && taken.ticks == 1,
          Detail("pending after the exit %u, timer interrupts %u", taken.after_exit, taken.ticks),
          "kVirqFlagRaise: a raised timer the guest took itself is not delivered again");
    check(
        ignored.after_exit == 0 && ignored.ticks == 0,
        Detail("pending after the exit %u, timer interrupts %u", ignored.after_exit, ignored.ticks),
        "without kVirqFlagRaise a 2 the hypervisor did not write is no interrupt (rewritten 0)");
}

// kVirqFlagLater: a deadline armed by H_IA32_SET_TIMER, then a later one only written to the
// area (a timeout cancelled, as the PV kernel leaves it): the earlier one brings no interrupt,
// the hypervisor arms the later one at its exit and shows it, and that one comes, not early.
// Without the flag the earlier one is delivered as armed. Stalls of the host only delay.
struct LaterRound {
    u32 at_first = 0, at_end = 0;
    u64 shown = 0, second = 0, came = 0;
};

u64 g_later_at = 0;

void on_later_tick(isa::TrapFrame& frame) {
    if (isa::stack_slot() != load_acquire(g_self_vcpu)) return default_timer_handler(frame);
    if (load_acquire(g_self_ticks) == 0) g_later_at = now();
    store_release(g_self_ticks, load_acquire(g_self_ticks) + 1);
}

LaterRound later_round(isa::VirqArea& a, u64 flags) {
    LaterRound r;
    register_virq(a, flags);
    isa::irq_disable();
    store_release(g_self_ticks, 0u);
    g_later_at = 0;
    const u64 first = now() + 5 * ticks_per_ms();
    r.second = first + 30 * ticks_per_ms();
    ahead_want(a, first);
    ahead_set(first);
    ahead_want(a, r.second); // no hcall: the earlier one stays armed
    isa::irq_enable();
    while (now() < first + 10 * ticks_per_ms()) isa::cpu_relax();
    r.at_first = load_acquire(g_self_ticks);
    r.shown = ahead_armed(a);
    const Deadline limit = Deadline::ms(2000);
    while (load_acquire(g_self_ticks) == 0 && !limit.expired()) isa::cpu_relax();
    while (now() < r.second + 10 * ticks_per_ms()) isa::cpu_relax();
    isa::irq_disable();
    isa::timer_set(isa::kTimerMax); // off
    r.at_end = load_acquire(g_self_ticks);
    r.came = g_later_at;
    return r;
}

void check_later_timer() {
    isa::VirqArea& a = isa::g_virq[isa::stack_slot()];
    store_release(g_self_vcpu, isa::stack_slot());
    set_trap_handler(isa::kTimerVector, on_later_tick);
    const LaterRound later =
        later_round(a, isa::kVirqFlagCr2 | isa::kVirqFlagTimer | isa::kVirqFlagLater);
    const LaterRound plain = later_round(a, isa::kVirqFlagCr2 | isa::kVirqFlagTimer);
    set_trap_handler(isa::kTimerVector, nullptr);
    register_virq(a, isa::kVirqFlagCr2 | isa::kVirqFlagTimer);
    check(later.at_first == 0 && later.shown == later.second && later.at_end == 1 &&
              later.came >= later.second,
          Detail("interrupts by the first deadline %u, shown after it %llu (want %llu), in all "
                 "%u, the first %lld ticks from the later deadline",
                 later.at_first, later.shown, later.second, later.at_end,
                 static_cast<long long>(later.came - later.second)),
          "kVirqFlagLater: a later deadline only written to the area replaces the armed one at "
          "its exit: no interrupt then, one at the later deadline (not early)");
    check(plain.at_first == 1 && plain.at_end == 1 && plain.came < plain.second,
          Detail("interrupts by the first deadline %u, in all %u", plain.at_first, plain.at_end),
          "without kVirqFlagLater the armed deadline is delivered as armed");
}

void check_paging_off() {
    u32 value = 0;
    const u32 outside = static_cast<u32>(boot().memory_size) + 0x1000;
    const bool ok = try_read(outside, value);
    check(!ok && g_seen.vector == 14 && g_seen.cr2 == outside && g_seen.error == (kPfP | kPfRsvd),
          Detail("vector %u cr2 %#x error %#x", g_seen.vector, g_seen.cr2, g_seen.error),
          "paging off: a read past the LPAR's memory -> #PF, cr2 = the address, P|RSVD");
}

void map(u32 va, u32 la, u32 flags) {
    g_pt_test[(va >> 12) & 0x3ff] = la | flags;
}

void enable_paging() {
    for (u32 i = 0; i < 1024; ++i) g_pt_low[i] = (i << 12) | kP | kW | kU;
    g_pd[0] = reinterpret_cast<u32>(g_pt_low) | kP | kW | kU;
    const u32 slots = static_cast<u32>(boot().memory_size >> 22);
    for (u32 i = 1; i < slots; ++i) g_pd[i] = (i << 22) | kP | kW | kPs; // supervisor 4 MiB
    g_pd[kVaBase >> 22] = reinterpret_cast<u32>(g_pt_test) | kP | kW | kU;
    map(kVaMain, kLaX, kP | kW | kU);
    map(kVaReadOnly, kLaRo, kP | kU);
    map(kVaSuper, kLaSuper, kP | kW);
    map(kVaOutside, 0x7ff00000, kP | kW | kU);
    *reinterpret_cast<volatile u32*>(kLaX) = 0xaaaa0001;
    *reinterpret_cast<volatile u32*>(kLaY) = 0xaaaa0002;
    *reinterpret_cast<volatile u32*>(kLaZ) = 0xaaaa0003;
    *reinterpret_cast<volatile u32*>(kLaG1) = 0xaaaa0004;
    *reinterpret_cast<volatile u32*>(kLaG2) = 0xaaaa0005;
    *reinterpret_cast<volatile u32*>(kLaRo) = 0xaaaa0006;
    *reinterpret_cast<volatile u32*>(kLaSuper) = 0xaaaa0007;

    write_cr3(reinterpret_cast<u32>(g_pd));
    write_cr4(read_cr4() | kCr4Pse | kCr4Pge);
    write_cr0(read_cr0() | kCr0Pg | kCr0Wp);
    check(read_cr0() & kCr0Pg, "paging on with the guest's own tables (cr0.PG reads back)");
}

void check_paging() {
    u32 value = 0;
    const u32 pte_before = g_pt_test[0];
    bool ok = try_read(kVaMain, value);
    check(ok && value == 0xaaaa0001, Detail("value %#x", value),
          "a read through the guest's page table gives its page");
    const u32 pte = g_pt_test[0], pde = g_pd[kVaBase >> 22];
    check((pte & kA) && !(pte & kD) && (pde & kA) && !(pte_before & kA),
          Detail("pte %#x -> %#x, pde %#x", pte_before, pte, pde),
          "the read set Accessed in the PTE and PDE, not Dirty");
    ok = try_write(kVaMain + 4, 0x12345678);
    check(ok && (g_pt_test[0] & kD) && *reinterpret_cast<volatile u32*>(kLaX + 4) == 0x12345678,
          Detail("ok %d pte %#x", ok, g_pt_test[0]),
          "a write sets Dirty and lands in the logical page");
    value = 0;
    ok = try_read(kLaX + 8 * MiB, value); // through the 4 MiB page of slot 4
    check(ok && (g_pd[(kLaX + 8 * MiB) >> 22] & kA),
          Detail("pde %#x", g_pd[(kLaX + 8 * MiB) >> 22]),
          "a 4 MiB page (PSE) works and gets Accessed");

    ok = try_read(kVaAbsent, value);
    check(!ok && g_seen.vector == 14 && g_seen.cr2 == kVaAbsent && g_seen.error == 0,
          Detail("vector %u cr2 %#x error %#x", g_seen.vector, g_seen.cr2, g_seen.error),
          "read of a not-present page -> #PF, cr2 = the address, error 0");
    ok = try_write(kVaAbsent + 0x10, 1);
    check(!ok && g_seen.cr2 == kVaAbsent + 0x10 && g_seen.error == kPfW,
          Detail("cr2 %#x error %#x", g_seen.cr2, g_seen.error),
          "write to a not-present page -> #PF error W");
    check(g_seen.shared_cr2 == kVaAbsent + 0x10,
          Detail("shared %#x, mov %%cr2 %#x", g_seen.shared_cr2, g_seen.cr2),
          "the page fault's address is in the shared area too (kVirqFlagCr2)");
    ok = try_read(kVaReadOnly, value);
    const bool read_ok = ok && value == 0xaaaa0006;
    ok = try_write(kVaReadOnly, 1);
    check(read_ok && !ok && g_seen.error == (kPfP | kPfW) && g_seen.cr2 == kVaReadOnly,
          Detail("read %d, write error %#x cr2 %#x", read_ok, g_seen.error, g_seen.cr2),
          "a read-only page reads, and a write -> #PF error P|W (CR0.WP)");
    ok = try_read(kVaOutside, value);
    check(!ok && g_seen.error == (kPfP | kPfRsvd) && g_seen.cr2 == kVaOutside,
          Detail("error %#x cr2 %#x", g_seen.error, g_seen.cr2),
          "a PTE pointing past the LPAR's memory -> #PF error P|RSVD");
    ok = try_write(0xffc00000, 1);
    check(!ok && g_seen.vector == 14 && (g_seen.error & (kPfW | kPfRsvd)) == (kPfW | kPfRsvd),
          Detail("vector %u error %#x", g_seen.vector, g_seen.error),
          "the hypervisor's switcher cannot be written (#PF W|RSVD)");
    ok = try_read(0xfffff000, value);
    check(!ok && g_seen.vector == 14 && g_seen.cr2 == 0xfffff000 && (g_seen.error & kPfRsvd),
          Detail("vector %u cr2 %#x error %#x", g_seen.vector, g_seen.cr2, g_seen.error),
          "the rest of the hypervisor's 4 MiB is not there (#PF RSVD)");

    // invlpg and cr3 reloads: the shadow behaves as a TLB.
    map(kVaMain, kLaY, kP | kW | kU);
    try_read(kVaMain, value);
    const u32 stale = value;
    invlpg(kVaMain);
    try_read(kVaMain, value);
    check(stale == 0xaaaa0001 && value == 0xaaaa0002, Detail("before %#x after %#x", stale, value),
          "a changed PTE takes effect at invlpg (the old translation until then)");
    map(kVaMain, kLaZ, kP | kW | kU);
    write_cr3(reinterpret_cast<u32>(g_pd));
    try_read(kVaMain, value);
    check_eq(value, 0xaaaa0003, "a changed PTE takes effect at a cr3 reload");

    map(kVaGlobal, kLaG1, kP | kW | kU | kG);
    try_read(kVaGlobal, value);
    map(kVaGlobal, kLaG2, kP | kW | kU | kG);
    write_cr3(reinterpret_cast<u32>(g_pd));
    u32 kept = 0;
    try_read(kVaGlobal, kept);
    write_cr4(read_cr4() & ~kCr4Pge);
    write_cr4(read_cr4() | kCr4Pge);
    try_read(kVaGlobal, value);
    check(kept == 0xaaaa0004 && value == 0xaaaa0005,
          Detail("after cr3 %#x, after PGE %#x", kept, value),
          "a global page survives a cr3 reload, not a CR4.PGE toggle");

    // H_IA32_INVALIDATE: one hcall does the invlpg of every page of a range.
    constexpr u32 kVaRange = kVaBase + 0x200000;
    u32 before[3] = {}, after[3] = {};
    for (u32 i = 0; i < 3; ++i) {
        map(kVaRange + i * 0x1000, kLaX, kP | kW | kU);
        try_read(kVaRange + i * 0x1000, before[i]);
    }
    for (u32 i = 0; i < 3; ++i) map(kVaRange + i * 0x1000, kLaY, kP | kW | kU);
    const i64 reversed = hcall(isa::H_IA32_INVALIDATE, kVaRange + 0x1000, kVaRange).status;
    const i64 too_far = hcall(isa::H_IA32_INVALIDATE, kVaRange, 0x100001000ull).status;
    const i64 range = hcall(isa::H_IA32_INVALIDATE, kVaRange + 0x10, kVaRange + 0x1001).status;
    for (u32 i = 0; i < 3; ++i) try_read(kVaRange + i * 0x1000, after[i]);
    check(reversed == H_PARAMETER && too_far == H_PARAMETER && range == 0 &&
              before[0] == 0xaaaa0001 && before[2] == 0xaaaa0001 && after[0] == 0xaaaa0002 &&
              after[1] == 0xaaaa0002 && after[2] == 0xaaaa0001,
          Detail("statuses %lld %lld %lld, before %#x %#x, after %#x %#x %#x",
                 static_cast<long long>(reversed), static_cast<long long>(too_far),
                 static_cast<long long>(range), before[0], before[2], after[0], after[1], after[2]),
          "H_IA32_INVALIDATE: the pages the range overlaps take their new PTEs, the next page "
          "keeps its old translation; end < start or past 4 GiB -> H_PARAMETER");
    invlpg(kVaRange + 0x2000);
}

// ---- Two vcpus on one set of page tables (several physical CPUs) ---------------------------
// vcpu 1 turns paging on with vcpu 0's tables. Each vcpu's translations are its own TLB: a PTE
// vcpu 0 changed reaches vcpu 1 at vcpu 1's own invlpg or cr3 load; vcpu 1's accesses set
// Accessed/Dirty in the shared tables; and the hypervisor's A/D updates for one vcpu's walks
// never overwrite an entry the other vcpu rewrote meanwhile (a locked compare-and-exchange, as
// the CPU's own page walker does).
constexpr u32 kVaShared = kVaBase + 0x6000, kVaHammer = kVaBase + 0x8000;
constexpr u32 kLaShared = kLaX + 0x8000; // three value pages, then the hammer pages' pairs
constexpr u32 kHammerPages = 4;

struct SharedTables {
    u32 phase = 0; // 1: vcpu 1 may start; 2..6: the steps below; 7: stop hammering; 8: done
    u32 seen[3] = {};
    u32 reads = 0;
};
SharedTables g_st;

u32 read_va(u32 va) {
    return *reinterpret_cast<volatile u32*>(va);
}
bool wait_phase(u32 p) {
    return spin_until([p] { return load_acquire(g_st.phase) >= p; }, 20000);
}
u32 hammer_la(u32 page, u32 which) {
    return kLaShared + 0x3000 + (page * 2 + which) * 0x1000;
}
u32& hammer_pte(u32 page) {
    return g_pt_test[((kVaHammer >> 12) + page) & 0x3ff];
}

void shared_tables_vcpu1() {
    if (!wait_until([] { return load_acquire(g_st.phase) >= 1; }, 120000)) return;
    write_cr3(reinterpret_cast<u32>(g_pd));
    write_cr4(read_cr4() | kCr4Pse | kCr4Pge);
    write_cr0(read_cr0() | kCr0Pg | kCr0Wp);
    g_st.seen[0] = read_va(kVaShared);
    store_release(g_st.phase, 2u);
    if (!wait_phase(3)) return;
    invlpg(kVaShared);
    g_st.seen[1] = read_va(kVaShared);
    store_release(g_st.phase, 4u);
    if (!wait_phase(5)) return;
    write_cr3(reinterpret_cast<u32>(g_pd));
    g_st.seen[2] = read_va(kVaShared);
    *reinterpret_cast<volatile u32*>(kVaShared + 4) = 0x5eed0001;
    store_release(g_st.phase, 6u);
    u32 reads = 0; // each read after an invlpg: a walk that sets Accessed
    while (load_acquire(g_st.phase) < 7) {
        for (u32 i = 0; i < kHammerPages; ++i, ++reads) {
            invlpg(kVaHammer + i * 0x1000);
            (void)read_va(kVaHammer + i * 0x1000);
        }
    }
    store_release(g_st.reads, reads);
    store_release(g_st.phase, 8u);
}

void check_shared_tables() {
    if (boot().vcpu_count < 2) return;
    for (u32 i = 0; i < 3; ++i)
        *reinterpret_cast<volatile u32*>(kLaShared + i * 0x1000) = 0x5a000001 + i;
    map(kVaShared, kLaShared, kP | kW | kU);
    for (u32 i = 0; i < kHammerPages; ++i) map(kVaHammer + i * 0x1000, hammer_la(i, 0), kP | kU);
    store_release(g_st.phase, 1u);
    bool ok = wait_phase(2);
    check(ok && g_st.seen[0] == 0x5a000001, Detail("phase %u, read %#x", g_st.phase, g_st.seen[0]),
          "vcpu 1 turns paging on with vcpu 0's page tables and reads through them");
    map(kVaShared, kLaShared + 0x1000, kP | kW | kU);
    invlpg(kVaShared);
    const u32 own = read_va(kVaShared);
    store_release(g_st.phase, 3u);
    ok = wait_phase(4);
    check(ok && own == 0x5a000002 && g_st.seen[1] == 0x5a000002,
          Detail("vcpu 0 %#x, vcpu 1 %#x", own, g_st.seen[1]),
          "a PTE vcpu 0 changed reaches vcpu 1 at vcpu 1's own invlpg");
    map(kVaShared, kLaShared + 0x2000, kP | kW | kU);
    store_release(g_st.phase, 5u);
    ok = wait_phase(6);
    const u32 pte = g_pt_test[(kVaShared >> 12) & 0x3ff];
    check(ok && g_st.seen[2] == 0x5a000003, Detail("vcpu 1 %#x", g_st.seen[2]),
          "a PTE vcpu 0 changed reaches vcpu 1 at vcpu 1's cr3 reload");
    check((pte & (kA | kD)) == (kA | kD) &&
              *reinterpret_cast<volatile u32*>(kLaShared + 0x2004) == 0x5eed0001,
          Detail("pte %#x", pte),
          "vcpu 1's write sets Accessed and Dirty in the shared PTE and lands in the page");

    // vcpu 0 flips the hammer pages' PTEs between two frames (never with A set) while vcpu 1
    // walks them; an entry that reverts to the frame written before was overwritten.
    u32 rounds = 0, lost = 0;
    const Deadline d = Deadline::ms(200);
    while (!d.expired()) {
        const u32 which = (++rounds) & 1;
        for (u32 i = 0; i < kHammerPages; ++i)
            __atomic_store_n(&hammer_pte(i), hammer_la(i, which) | kP | kU, __ATOMIC_SEQ_CST);
        for (u32 k = 0; k < 64; ++k) isa::cpu_relax();
        for (u32 i = 0; i < kHammerPages; ++i)
            if ((__atomic_load_n(&hammer_pte(i), __ATOMIC_SEQ_CST) & kPteFrameMask) !=
                hammer_la(i, which))
                ++lost;
    }
    store_release(g_st.phase, 7u);
    ok = wait_phase(8);
    check(ok && lost == 0 && load_acquire(g_st.reads) > 0,
          Detail("%u rounds, vcpu 1 made %u walks, %u entries reverted", rounds,
                 load_acquire(g_st.reads), lost),
          "PTEs vcpu 0 rewrites while vcpu 1's walks set their Accessed bits are never lost");
}

// ---- The switcher's change of the TLS entries (int $X86_SWITCH_TLS_VECTOR) ------------------
alignas(8) u64 g_tls_gdt[9];
u32 g_tls_word_a = 0x7150000a, g_tls_word_c = 0x7150000c;

// Loads g_tls_gdt with `tls` as entries 6..8 (the hypervisor's lgdt: the `tables` exit).
void load_tls_gdt(const u64 (&tls)[3]) {
    for (unsigned i = 0; i < 6; ++i) g_tls_gdt[i] = g_gdt[i];
    for (unsigned i = 0; i < 3; ++i) g_tls_gdt[6 + i] = tls[i];
    struct [[gnu::packed]] {
        u16 limit;
        u32 base;
    } p{sizeof(g_tls_gdt) - 1, reinterpret_cast<u32>(g_tls_gdt)};
    asm volatile("lgdt %0" ::"m"(p) : "memory");
}

u32 fs_selector() {
    u32 sel;
    asm volatile("movl %%fs, %0" : "=r"(sel));
    return sel & 0xffff;
}

u64 exits_so_far();

// Two TLS sets the hypervisor put in GDT rows (by lgdt): the switcher moves between them
// without an exit, the CPU uses the row it loaded, and the hypervisor takes that row's entries
// as the vcpu's at the next exit (its selector checks keep %fs only while entry 6 is a data
// segment). Anything else changes nothing; ring 3 cannot use it.
void check_switcher_tls() {
    constexpr u32 kSelTls = 0x33; // entry 6, RPL 3
    const u64 a[3] = {descriptor(reinterpret_cast<u32>(&g_tls_word_a), 3, 0xf2, 0x4), 0, 0};
    const u64 b[3] = {0, descriptor(0, 0xfffff, 0xf2, 0xc), 0};
    const u64 c[3] = {descriptor(reinterpret_cast<u32>(&g_tls_word_c), 3, 0xf2, 0x4), 0, 0};
    load_tls_gdt(a);
    load_tls_gdt(b);
    const u32 st = switcher_tls(a);
    u32 value = 0;
    asm volatile("movl %1, %%fs\n\tmovl %%fs:0, %0" : "=r"(value) : "r"(kSelTls) : "memory");
    exits_so_far(); // an exit: the hypervisor sees row a, and %fs is checked against it
    u32 after = 0;
    asm volatile("movl %%fs:0, %0" : "=r"(after)::"memory");
    const u32 kept_fs = fs_selector();
    check(st == 0 && value == g_tls_word_a && after == g_tls_word_a && kept_fs == kSelTls,
          Detail("status %u value %#x, after an exit %#x with %%fs %#x", st, value, after, kept_fs),
          "the switcher loads a GDT row with the TLS entries asked for (int $0x85): the CPU uses "
          "it, the hypervisor takes it as the vcpu's at the next exit");
    const u32 back = switcher_tls(b);
    exits_so_far(); // entry 6 is null in row b: the hypervisor's check drops %fs
    const u32 dropped_fs = fs_selector();
    check(back == 0 && dropped_fs == 0, Detail("status %u, %%fs %#x", back, dropped_fs),
          "after the switcher's move back, the hypervisor checks the fs selector against that row");
    const u64 before = exits_so_far();
    u32 bad = 0;
    for (u32 i = 0; i < 100; ++i) bad += switcher_tls(a) + switcher_tls(b);
    const u64 exits = exits_so_far() - before;
    check(bad == 0 && exits < 20, Detail("%u refused, %llu exits", bad, exits),
          "200 changes between two TLS sets in GDT rows take no exit");
    const u32 other = switcher_tls(c);
    u64 high[3] = {a[0], a[1], a[2] | (u64{1} << 40)};
    const u32 one_bit = switcher_tls(high);
    u32 x = 0x9e3779b9, loaded = 0;
    auto next = [&x] { return x = x * 1664525u + 1013904223u; };
    for (u32 i = 0; i < 2000; ++i) {
        u64 t[3] = {u64{next()} << 32 | next(), i & 1 ? 0 : u64{next()} << 32 | next(), 0};
        if (i & 2) t[0] = a[0] ^ (u64{1} << (next() % 64));
        loaded += switcher_tls(t) == 0 ? 1 : 0;
    }
    check(other == 1 && one_bit == 1 && loaded == 0,
          Detail("answers %u %u, %u of 2000 made-up sets loaded", other, one_bit, loaded),
          "TLS entries in no GDT row (one bit off, 2000 made-up sets) change nothing");
    // The lgdt of a set no row has: a row is made for it.
    load_tls_gdt(c);
    asm volatile("movl %1, %%fs\n\tmovl %%fs:0, %0" : "=r"(value) : "r"(kSelTls) : "memory");
    const u32 to_a = switcher_tls(a);
    check(value == g_tls_word_c && to_a == 0, Detail("value %#x, status %u", value, to_a),
          "an lgdt with new TLS entries takes a row, and the others stay");
    asm volatile("movl %0, %%fs" ::"r"(static_cast<u32>(isa::kKernelData)) : "memory");
    // A caller on a stack segment that is a TLS entry: another row would change ss under the
    // switcher's iret, which would fault in ring 0 (the machine would stop). Refused.
    // Static: the asm below pushes, so no operand may be esp-relative.
    static const u16 sel_tls_stack = 0x39; // entry 7, RPL 1
    static u16 ss_during = 0;
    const u64 d[3] = {0, descriptor(0, 0xfffff, 0xb2, 0xc), 0}; // flat ring-1 data
    const u64 e[3] = {0, descriptor(0, 0xfffff, 0xf2, 0xc), 0}; // flat ring-3 data
    load_tls_gdt(e);
    load_tls_gdt(d);
    u32 on_tls_stack = static_cast<u32>(e[0]);
    asm volatile("pushl %%ss\n\t"
                 "movw %[sel], %%ss\n\t"
                 "int $0x85\n\t"
                 "movw %%ss, %[during]\n\t"
                 "popl %%ss"
                 : "+a"(on_tls_stack), [during] "=m"(ss_during)
                 : "b"(static_cast<u32>(e[0] >> 32)), "c"(static_cast<u32>(e[1])),
                   "d"(static_cast<u32>(e[1] >> 32)), "S"(static_cast<u32>(e[2])),
                   "D"(static_cast<u32>(e[2] >> 32)), [sel] "m"(sel_tls_stack)
                 : "memory");
    const u32 on_kernel_stack = switcher_tls(e);
    check(on_tls_stack == 1 && ss_during == sel_tls_stack && on_kernel_stack == 0,
          Detail("on ss %#x: %u; on the kernel's stack segment: %u", ss_during, on_tls_stack,
                 on_kernel_stack),
          "the switcher does not change the TLS entries for a caller whose ss is one of them "
          "(its iret would fault), and does for the same set on another stack segment");
    struct [[gnu::packed]] {
        u16 limit;
        u32 base;
    } p{sizeof(g_gdt) - 1, reinterpret_cast<u32>(g_gdt)};
    asm volatile("lgdt %0" ::"m"(p) : "memory");
}

// ---- Shadow roots per address space (H_IA32_SWITCH_MM) --------------------------------------
alignas(4096) u32 g_pd2[1024];
alignas(4096) u32 g_pt_test2[1024];

i64 switch_mm(const u32* pd, u64 ctx, u64 gen, u64 prev_gen) {
    return hcall(isa::H_IA32_SWITCH_MM, reinterpret_cast<u32>(pd), ctx, gen, prev_gen).status;
}

u32 read_main() {
    u32 value = 0;
    try_read(kVaMain, value);
    return value;
}

u32 read_cr3() {
    u32 v;
    asm volatile("mov %%cr3, %0" : "=r"(v));
    return v;
}

// The switcher's switch to a kept space (int $X86_SWITCH_MM_VECTOR): 0 when it loaded it, 1
// when it changed nothing.
u32 fast_switch_mm(const u32* pd, u64 ctx, u64 gen) {
    u32 status = reinterpret_cast<u32>(pd);
    asm volatile("int $0x84"
                 : "+a"(status)
                 : "b"(static_cast<u32>(ctx)), "c"(static_cast<u32>(ctx >> 32)),
                   "d"(static_cast<u32>(gen)), "S"(static_cast<u32>(gen >> 32))
                 : "memory");
    return status;
}

// Switches between spaces the hypervisor keeps, by the switcher alone: what it loads is what
// the CPU walks and what the hypervisor takes as the vcpu's at the next exit; anything that does
// not match a kept space changes nothing; ring 3 cannot use it.
void check_fast_switch_mm() {
    // Kept: space 101 (g_pd, generation 2, loaded) and 102 (g_pd2, left at generation 1).
    const u32 st = fast_switch_mm(g_pd2, 102, 1);
    const u32 in2 = read_main();
    const u32 cr3 = read_cr3();
    check(st == 0 && in2 == 0xaaaa0002 && cr3 == reinterpret_cast<u32>(g_pd2),
          Detail("status %u value %#x cr3 %#x", st, in2, cr3),
          "the switcher loads a kept space (int $0x84): the CPU walks it, the hypervisor sees "
          "its cr3 at the next exit");
    const u64 before = exits_so_far();
    u32 bad = 0;
    for (u32 i = 0; i < 100; ++i) {
        bad += fast_switch_mm(g_pd, 101, 2);
        bad += fast_switch_mm(g_pd2, 102, 1);
    }
    const u64 exits = exits_so_far() - before;
    check(bad == 0 && exits < 20, Detail("%u refused, %llu exits", bad, exits),
          "200 switches between two kept spaces take no exit");
    const u32 wrong_gen = fast_switch_mm(g_pd, 101, 3);
    const u32 wrong_ctx = fast_switch_mm(g_pd, 102, 2);
    const u32 wrong_cr3 = fast_switch_mm(g_pd2, 101, 2);
    const u32 high_ctx = fast_switch_mm(g_pd, 101 | (u64{1} << 32), 2);
    const u32 none = fast_switch_mm(reinterpret_cast<const u32*>(0), 0, 0);
    const u32 still = read_main();
    check(wrong_gen == 1 && wrong_ctx == 1 && wrong_cr3 == 1 && high_ctx == 1 && none == 1 &&
              still == 0xaaaa0002 && read_cr3() == reinterpret_cast<u32>(g_pd2),
          Detail("answers %u %u %u %u %u, value %#x", wrong_gen, wrong_ctx, wrong_cr3, high_ctx,
                 none, still),
          "a generation, ctx or cr3 the switcher does not keep (or an empty row) changes nothing");
    // Made-up requests: random registers, and the kept spaces' cr3 and ctx with random
    // generations. None loads anything; the space stays the one loaded.
    u32 x = 0x12345678, loaded = 0;
    auto next = [&x] { return x = x * 1664525u + 1013904223u; };
    for (u32 i = 0; i < 2000; ++i) {
        const u32 cr3_arg = (i & 1) ? reinterpret_cast<u32>(i & 2 ? g_pd : g_pd2) : next();
        const u64 ctx = (i & 1) ? (i & 2 ? 101 : 102) : (u64{next()} << 32 | next());
        u64 gen = u64{next()} << 32 | next();
        if (gen == 1 || gen == 2) gen = 3;
        loaded += fast_switch_mm(reinterpret_cast<const u32*>(cr3_arg), ctx, gen) == 0 ? 1 : 0;
    }
    const u32 after_storm = read_main();
    check(loaded == 0 && after_storm == 0xaaaa0002 && read_cr3() == reinterpret_cast<u32>(g_pd2),
          Detail("%u loaded, value %#x", loaded, after_storm),
          "2000 made-up fast switches load nothing");
    // The hypervisor's own switch starts from the space the switcher left loaded.
    switch_mm(g_pd, 101, 2, 1);
    check_eq(read_main(), 0xaaaa0001u, "H_IA32_SWITCH_MM after the switcher's switches");
}

// Two address spaces that map kVaMain to different pages. Switching back to a space at the
// generation it was left at keeps its shadow (a PTE changed meanwhile without a generation
// bump still reads the old page, as a PCID-tagged TLB would); a moved generation drops it.
void check_switch_mm() {
    for (u32 i = 0; i < 1024; ++i) g_pd2[i] = g_pd[i];
    g_pd2[kVaBase >> 22] = reinterpret_cast<u32>(g_pt_test2) | kP | kW | kU;
    g_pt_test2[0] = kLaY | kP | kW | kU;
    map(kVaMain, kLaZ, kP | kW | kU);
    invlpg(kVaMain);

    const i64 st = switch_mm(g_pd, 101, 1, 0);
    const u32 in1 = read_main();
    check(st == 0 && in1 == 0xaaaa0003, Detail("status %lld value %#x", st, in1),
          "H_IA32_SWITCH_MM loads the address space it names");
    switch_mm(g_pd2, 102, 1, 1);
    const u32 in2 = read_main();
    check_eq(in2, 0xaaaa0002, "another space, another page: the shadow follows the switch");

    map(kVaMain, kLaX, kP | kW | kU); // space 1 changes while not loaded, generation kept
    switch_mm(g_pd, 101, 1, 1);
    const u32 kept = read_main();
    switch_mm(g_pd2, 102, 1, 1);
    const u32 in2_again = read_main();
    switch_mm(g_pd, 101, 2, 1);
    const u32 fresh = read_main();
    check(kept == 0xaaaa0003 && in2_again == 0xaaaa0002 && fresh == 0xaaaa0001,
          Detail("kept %#x, other %#x, after the generation moved %#x", kept, in2_again, fresh),
          "a space switched back to at its generation keeps its shadow; a new generation drops it");
    check_fast_switch_mm();

    // Isolation holds in any space: a page past the LPAR's memory faults.
    g_pt_test2[0] = 0x7ff00000 | kP | kW | kU;
    switch_mm(g_pd2, 102, 2, 2);
    u32 value = 0;
    const bool ok = try_read(kVaMain, value);
    check(!ok && g_seen.error == (kPfP | kPfRsvd), Detail("ok %d error %#x", ok, g_seen.error),
          "a kept space maps nothing outside the LPAR (#PF P|RSVD)");
    check_status(hcall(isa::H_IA32_SWITCH_MM, 0x100000000ull, 1, 1, 1).status, H_PARAMETER,
                 "H_IA32_SWITCH_MM refuses a cr3 above 4 GiB");

    map(kVaMain, kLaZ, kP | kW | kU);
    write_cr3(reinterpret_cast<u32>(g_pd));
    check_eq(read_main(), 0xaaaa0003u, "a plain cr3 load after switches flushes and works");
}

// A process's iret and lret pop its own stack, user reads: one on an absent page is #PF with
// U set, as on a CPU (QEMU 7.2 makes these pops as supervisor reads, error 0: a Linux guest
// then takes a fault from user mode without U for a bug of its own, an oops).
void check_ring3_stack_pops(const char* by) {
    run_user(lpar_user_iret_stack, 0x2, kVaAbsent + 0x40);
    const Seen iret = g_seen;
    run_user(lpar_user_lret_stack, 0x2, kVaAbsent + 0x80);
    check(iret.vector == 14 && iret.error == kPfU && iret.cr2 == kVaAbsent + 0x40 &&
              iret.eip == reinterpret_cast<u32>(lpar_user_iret_stack_insn) && (iret.cs & 3) == 3 &&
              g_seen.vector == 14 && g_seen.error == kPfU && g_seen.cr2 == kVaAbsent + 0x80 &&
              g_seen.eip == reinterpret_cast<u32>(lpar_user_lret_stack_insn),
          Detail("iret: vector %u error %#x cr2 %#x eip %#x cs %#x; lret: vector %u error %#x cr2 "
                 "%#x eip %#x",
                 iret.vector, iret.error, iret.cr2, iret.eip, iret.cs, g_seen.vector, g_seen.error,
                 g_seen.cr2, g_seen.eip),
          "ring 3's iret and lret on an absent stack page -> #PF error U at the instruction "
          "(reflected %s)",
          by);
}

void check_ring3() {
    u32 r = run_user(lpar_user_ret42);
    check(r == 42 && g_seen.vector == 0x80 && (g_seen.cs & 3) == 3,
          Detail("eax %u vector %#x cs %#x", r, g_seen.vector, g_seen.cs),
          "ring 3 runs and comes back through int $0x80 (a DPL-3 gate of the guest's IDT)");
    run_user(lpar_user_hcall);
    check(g_seen.vector == 13 && g_seen.error == 0x82 * 8 + 2 && (g_seen.cs & 3) == 3,
          Detail("vector %u error %#x cs %#x", g_seen.vector, g_seen.error, g_seen.cs),
          "ring 3 cannot make an hcall: int $0x82 -> #GP(0x412) to the guest");
    run_user(lpar_user_fast_switch);
    check(g_seen.vector == 13 && g_seen.error == 0x84 * 8 + 2 && (g_seen.cs & 3) == 3,
          Detail("vector %u error %#x cs %#x", g_seen.vector, g_seen.error, g_seen.cs),
          "ring 3 cannot use the switcher's switch: int $0x84 -> #GP(0x422) to the guest");
    run_user(lpar_user_fast_tls);
    check(g_seen.vector == 13 && g_seen.error == 0x85 * 8 + 2 && (g_seen.cs & 3) == 3,
          Detail("vector %u error %#x cs %#x", g_seen.vector, g_seen.error, g_seen.cs),
          "ring 3 cannot change the TLS entries: int $0x85 -> #GP(0x42a) to the guest");
    run_user(lpar_user_cli);
    check(g_seen.vector == 13 && g_seen.error == 0 && (g_seen.cs & 3) == 3,
          Detail("vector %u error %#x cs %#x", g_seen.vector, g_seen.error, g_seen.cs),
          "cli in ring 3 -> #GP(0) to the guest (not emulated)");
    r = run_user(lpar_user_read, 0x2, kVaSuper);
    check(g_seen.vector == 14 && g_seen.error == (kPfP | kPfU) && g_seen.cr2 == kVaSuper,
          Detail("vector %u error %#x cr2 %#x", g_seen.vector, g_seen.error, g_seen.cr2),
          "ring 3 reading a supervisor page -> #PF error P|U");
    r = run_user(lpar_user_read, 0x2, kVaMain);
    check(g_seen.vector == 0x80 && r == 0xaaaa0003, Detail("vector %#x eax %#x", g_seen.vector, r),
          "ring 3 reads a user page");
    check_ring3_stack_pops("by the hypervisor");

    // A timer interrupt while ring 3 spins: delivered on the TSS's ring-1 stack, back to ring 3.
    Vcpu& v = this_vcpu();
    const u32 ticks = static_cast<u32>(load_acquire(v.timer_ticks));
    isa::timer_set(ticks_per_ms());
    r = run_user(lpar_user_spin, 0x202, reinterpret_cast<u32>(&v.timer_ticks), ticks);
    isa::irq_disable();
    check(g_seen.vector == 0x80 && r != ticks,
          Detail("vector %#x ticks %u -> %u", g_seen.vector, ticks, r),
          "a timer interrupt is delivered while the guest runs in ring 3");
}

// x87 and SSE registers belong to the vcpu: both vcpus load their own values, spin through many
// time slices on the one physical CPU, and must find them unchanged.
bool has_sse() {
    u32 a = 1, b, c = 0, d;
    asm volatile("cpuid" : "+a"(a), "=b"(b), "+c"(c), "=d"(d));
    return (d & (1u << 25)) != 0;
}

u32 g_fpu_ready = 0;

// vcpu 1: wakes vcpu 0 if its sti-shadow hlt still sleeps 3 s after it armed the check.
void prod_vcpu0_later() {
    if (!spin_until([] { return load_acquire(g_shadow_armed) != 0; }, 30000)) return;
    if (spin_until([] { return load_acquire(g_shadow_done) != 0; }, 3000)) return;
    store_release(g_shadow_prodded, 1u);
    hcall(H_PROD, 0);
}

void check_fpu_isolation(unsigned vcpu) {
    const bool sse = has_sse();
    alignas(16) u32 in[8][4], out[8][4];
    i32 x87_in[8], x87_out[8];
    for (u32 i = 0; i < 8; ++i) {
        x87_in[i] = static_cast<i32>(vcpu * 1000 + i * 7 + 1);
        for (u32 j = 0; j < 4; ++j) in[i][j] = 0x5a000000u | (vcpu << 16) | (i << 8) | j;
    }
    for (u32 i = 0; i < 8; ++i) asm volatile("fildl %0" ::"m"(x87_in[i]));
    if (sse)
        asm volatile("movups 0(%0), %%xmm0\n\tmovups 16(%0), %%xmm1\n\t"
                     "movups 32(%0), %%xmm2\n\tmovups 48(%0), %%xmm3\n\t"
                     "movups 64(%0), %%xmm4\n\tmovups 80(%0), %%xmm5\n\t"
                     "movups 96(%0), %%xmm6\n\tmovups 112(%0), %%xmm7" ::"r"(in)
                     : "memory");
    fetch_add(g_fpu_ready, 1u);
    // Both vcpus hold their values at once, then each spins through several slices.
    spin_until([] { return load_acquire(g_fpu_ready) >= 2; }, 2000);
    const Deadline d = Deadline::ms(100);
    while (!d.expired()) isa::cpu_relax();
    if (sse)
        asm volatile("movups %%xmm0, 0(%0)\n\tmovups %%xmm1, 16(%0)\n\t"
                     "movups %%xmm2, 32(%0)\n\tmovups %%xmm3, 48(%0)\n\t"
                     "movups %%xmm4, 64(%0)\n\tmovups %%xmm5, 80(%0)\n\t"
                     "movups %%xmm6, 96(%0)\n\tmovups %%xmm7, 112(%0)" ::"r"(out)
                     : "memory");
    for (u32 i = 0; i < 8; ++i) asm volatile("fistpl %0" : "=m"(x87_out[7 - i]));
    bool x87_same = true, sse_same = true;
    for (u32 i = 0; i < 8; ++i) {
        x87_same = x87_same && x87_out[i] == x87_in[i];
        for (u32 j = 0; j < 4; ++j) sse_same = sse_same && (!sse || out[i][j] == in[i][j]);
    }
    check(x87_same, Detail("st: %d %d ... %d", x87_out[0], x87_out[1], x87_out[7]),
          "vcpu %u: its x87 registers survive time slices shared with vcpu %u", vcpu, 1 - vcpu);
    check(sse_same, Detail("xmm0 %#x %#x", out[0][0], out[0][1]),
          "vcpu %u: its SSE registers survive time slices shared with vcpu %u%s", vcpu, 1 - vcpu,
          sse ? "" : " (no SSE: not checked)");
}

// ---- LDTs: the CPU's LDTR must never name memory a guest controls ---------------------------
// At reset the CPU's LDTR has base 0 and limit 0xffff. Were it left so, whatever a process maps
// at linear 0..0xffff would be the CPU's LDT: a call gate written there naming the hypervisor's
// code selector would run the process's own code in ring 0. So the checks forge such an LDT at
// linear 0 (indices 1..3: bytes 8..31 of the start code, which only runs at entry; they are put
// back afterwards) and every TI=1 selector must fault as with no LDT, before any lldt and after
// lldt 0. In between the guest loads it as its own LDT (lldt): then its segments work, validated
// as the GDT's are (the call gate never installed, DPL 0 raised to 1).
constexpr u32 kLdtForged = 8, kLdtWords = 6, kRing0Marker = 0x304e4952; // "RIN0" (user.S)
constexpr u16 kSelLdtData = (1 << 3) | 4 | 3, kSelLdtGate = (2 << 3) | 4 | 3,
              kSelLdtData0 = (3 << 3) | 4 | 1, kSelLdtBeyond = (4 << 3) | 4 | 3;
struct [[gnu::packed]] FarPtr {
    u32 offset;
    u16 selector;
};
FarPtr g_far_gate;
u32 g_ldt_saved[kLdtWords];

void forge_ldt_at_zero() {
    const u32 probe = reinterpret_cast<u32>(lpar_ring0_probe);
    const u64 data3 = descriptor(0, 0xfffff, 0xf3, 0xc); // flat data, DPL 3
    const u64 gate = (probe & 0xffff) | (u64{kSelHvCode} << 16) | (u64{0xec} << 40) |
                     (u64{probe >> 16} << 48); // call gate, DPL 3, to the hypervisor's code
    const u64 data0 = descriptor(0, 0xfffff, 0x92, 0xc); // flat data, DPL 0
    const u32 words[kLdtWords] = {static_cast<u32>(data3), static_cast<u32>(data3 >> 32),
                                  static_cast<u32>(gate),  static_cast<u32>(gate >> 32),
                                  static_cast<u32>(data0), static_cast<u32>(data0 >> 32)};
    for (u32 i = 0; i < kLdtWords; ++i) {
        try_read(kLdtForged + 4 * i, g_ldt_saved[i]);
        try_write(kLdtForged + 4 * i, words[i]);
    }
    g_far_gate = FarPtr{0, kSelLdtGate};
}

void restore_zero_page() {
    for (u32 i = 0; i < kLdtWords; ++i) try_write(kLdtForged + 4 * i, g_ldt_saved[i]);
}

// Far call through the forged gate in ring 1: false if it faulted; eax = what the callee left.
bool try_far_call_gate(u32& eax) {
    reset_seen();
    u32 a = 0;
    asm volatile("movl $1f, %[rec]\n\t"
                 "lcall *%[ptr]\n"
                 "1:\n\t"
                 "movl $0, %[rec]"
                 : "+a"(a), [rec] "=m"(g_recover)
                 : [ptr] "m"(g_far_gate)
                 : "memory");
    eax = a;
    return g_seen.count == 0;
}

bool try_lldt(u32 sel) {
    reset_seen();
    asm volatile("movl $1f, %[rec]\n\tlldt %w[s]\n1:\n\tmovl $0, %[rec]"
                 : [rec] "=m"(g_recover)
                 : [s] "r"(sel)
                 : "memory");
    return g_seen.count == 0;
}

// The TI=1 checks from ring 1 and ring 3; `when` says at which point.
void check_ldt_selectors(const char* when) {
    u32 value = 0;
    bool ok = load_es_and_read(kSelLdtData, value);
    check(!ok && g_seen.vector == 13 && g_seen.error == (kSelLdtData & ~3u),
          Detail("loaded %d, vector %u error %#x", ok, g_seen.vector, g_seen.error),
          "%s: ring 1 loading an LDT selector (0x%x) -> #GP(selector)", when, kSelLdtData);
    u32 bits = probe_sel(kSelLdtData) | (probe_sel(kSelLdtGate) << 4);
    check_eq(bits, 0, "%s: lar/lsl/verr/verw in ring 1 call LDT selectors invalid (ZF = 0)", when);
    u32 eax = 0;
    ok = try_far_call_gate(eax);
    check(!ok && eax != kRing0Marker && g_seen.vector == 13 && g_seen.error == (kSelLdtGate & ~3u),
          Detail("ran %d, eax %#x, vector %u error %#x", ok, eax, g_seen.vector, g_seen.error),
          "%s: ring 1's far call through a call gate forged at linear 0 -> #GP, not ring 0", when);

    u32 r = run_user(lpar_user_load_es, 0x2, kSelLdtData);
    check(g_seen.vector == 13 && g_seen.error == (kSelLdtData & ~3u) && (g_seen.cs & 3) == 3 &&
              r != 7,
          Detail("vector %u error %#x cs %#x eax %u", g_seen.vector, g_seen.error, g_seen.cs, r),
          "%s: ring 3 loading an LDT selector -> #GP(selector) to the guest", when);
    bits = run_user(lpar_user_probe_sel, 0x2, kSelLdtData);
    const u32 gate_bits = run_user(lpar_user_probe_sel, 0x2, kSelLdtGate);
    check(g_seen.vector == 0x80 && bits == 0 && gate_bits == 0,
          Detail("vector %#x, data %#x gate %#x", g_seen.vector, bits, gate_bits),
          "%s: lar/lsl/verr/verw in ring 3 call LDT selectors invalid (ZF = 0)", when);
    r = run_user(lpar_user_far_call, 0x2, reinterpret_cast<u32>(&g_far_gate));
    check(g_seen.vector == 13 && g_seen.error == (kSelLdtGate & ~3u) && r != kRing0Marker,
          Detail("vector %u error %#x eax %#x", g_seen.vector, g_seen.error, r),
          "%s: ring 3's far call through the forged call gate -> #GP, not ring 0", when);
}

// The guest's own LDT (the forged entries, limit 0x1f: 4 entries) after its lldt.
void check_own_ldt() {
    u32 value = 0;
    bool ok = load_es_and_read(kSelLdtData, value);
    check(ok && value == 0x5e6e7e8e,
          Detail("fault vector %u error %#x, value %#x", g_seen.vector, g_seen.error, value),
          "its LDT: ring 1 loads its DPL-3 data selector (0x%x) and reads through it", kSelLdtData);
    u32 rights = 0, data0_rights = 0;
    ok = lar(kSelLdtData, rights);
    const bool data0_ok = lar(kSelLdtData0, data0_rights);
    check(ok && ((rights >> 13) & 3) == 3 && data0_ok && ((data0_rights >> 13) & 3) == 1,
          Detail("lar ok %d rights %#x; DPL-0 entry ok %d rights %#x", ok, rights, data0_ok,
                 data0_rights),
          "its LDT: lar sees the DPL-3 entry at DPL 3 and the DPL-0 one raised to DPL 1");
    ok = lar(kSelLdtGate, rights);
    check(!ok && probe_sel(kSelLdtGate) == 0 && probe_sel(kSelLdtBeyond) == 0,
          Detail("lar gave rights %#x", rights),
          "its LDT: the call gate was never installed, an index past its limit is invalid");
    u32 eax = 0;
    ok = try_far_call_gate(eax);
    check(!ok && eax != kRing0Marker && g_seen.vector == 13 && g_seen.error == (kSelLdtGate & ~3u),
          Detail("ran %d, eax %#x, vector %u error %#x", ok, eax, g_seen.vector, g_seen.error),
          "its LDT: ring 1's far call through its call gate -> #GP, not ring 0");
    u32 r = run_user(lpar_user_load_es, 0x2, kSelLdtData);
    check(g_seen.vector == 0x80 && r == 7,
          Detail("vector %u error %#x eax %u", g_seen.vector, g_seen.error, r),
          "its LDT: ring 3 loads its DPL-3 data selector");
    r = run_user(lpar_user_load_es, 0x2, kSelLdtData0 | 3);
    check(g_seen.vector == 13 && g_seen.error == (kSelLdtData0 & ~3u),
          Detail("vector %u error %#x eax %u", g_seen.vector, g_seen.error, r),
          "its LDT: ring 3 cannot load the (raised) DPL-1 entry: #GP(selector)");
    r = run_user(lpar_user_far_call, 0x2, reinterpret_cast<u32>(&g_far_gate));
    check(g_seen.vector == 13 && g_seen.error == (kSelLdtGate & ~3u) && r != kRing0Marker,
          Detail("vector %u error %#x eax %#x", g_seen.vector, g_seen.error, r),
          "its LDT: ring 3's far call through its call gate -> #GP, not ring 0");
}

void check_ldt() {
    forge_ldt_at_zero();
    u32 word = 0;
    try_read(kLdtForged + 8, word);
    check_eq(word >> 16, kSelHvCode, "the forged call gate is at linear 0x10 (names 0x%x)",
             kSelHvCode);
    store_release(g_probe_word, 0x5e6e7e8eu);
    check_ldt_selectors("no lldt yet");

    // The guest's own LDT descriptor: base 0, limit 0x1f (the forged entries).
    g_gdt[kSelLdt >> 3] = descriptor(0, 0x1f, 0x82, 0);
    g_gdt[7] = descriptor(0, 0x1f, 0x02, 0); // the same, not present
    struct [[gnu::packed]] {
        u16 limit;
        u32 base;
    } p{sizeof(g_gdt) - 1, reinterpret_cast<u32>(g_gdt)};
    asm volatile("lgdt %0" ::"m"(p) : "memory");
    bool loaded = try_lldt(0x38);
    check(!loaded && g_seen.vector == 11 && g_seen.error == 0x38,
          Detail("loaded %d vector %u error %#x", loaded, g_seen.vector, g_seen.error),
          "lldt of a not-present LDT descriptor -> #NP(selector)");
    loaded = try_lldt(kSelLdt);
    check(loaded, Detail("vector %u error %#x", g_seen.vector, g_seen.error),
          "lldt of its own LDT descriptor is accepted");
    if (loaded) check_own_ldt();

    check(try_lldt(0), Detail("vector %u error %#x", g_seen.vector, g_seen.error),
          "lldt of the null selector is accepted (no LDT)");
    check_ldt_selectors("after lldt 0");
    restore_zero_page();
}

// ---- DF: the direction flag is the guest's ----------------------------------------------------
// An interrupt or trap gate leaves DF as it was: a guest may enter the hypervisor with DF set
// (`std; int $0x80` from any process), and the hypervisor's C++ (memcpy as `rep movs`) must not
// run backwards. DF must also come back to the guest as it was, as on a CPU.
void check_direction_flag() {
    i32 status = 0;
    u32 flags = 0;
    asm volatile("subl $80, %%esp\n\t"
                 "movl $0xf00f, (%%esp)\n\t" // an unknown hcall
                 "movl $0, 4(%%esp)\n\t"
                 "std\n\t"
                 "int $0x82\n\t"
                 "pushfl\n\t"
                 "popl %%ecx\n\t"
                 "cld\n\t"
                 "addl $80, %%esp"
                 : "=a"(status), "=c"(flags)
                 :
                 : "memory", "cc");
    check(status == H_FUNCTION && (flags & kEflagsDf),
          Detail("status %d eflags %#x", status, flags),
          "an hcall made with DF set works and returns with DF still set");

    reset_seen();
    asm volatile("movl $1f, %[rec]\n\tstd\n\tud2\n1:\n\tcld\n\tmovl $0, %[rec]"
                 : [rec] "=m"(g_recover)::"memory", "cc");
    check(g_seen.vector == 6 && (g_seen.eflags & kEflagsDf),
          Detail("vector %u eflags %#x", g_seen.vector, g_seen.eflags),
          "a fault (ud2) with DF set reaches the guest with DF in the frame's eflags");

    reset_seen();
    asm volatile("std\n\tint $0x40\n\tcld" ::: "memory", "cc");
    check(g_seen.vector == 0x40 && (g_seen.eflags & kEflagsDf),
          Detail("vector %#x eflags %#x", g_seen.vector, g_seen.eflags),
          "int $0x40 from ring 1 with DF set (a #GP in the hypervisor) keeps DF in the frame");

    // The iret gate entered with DF set: the popped eflags decide (here DF set).
    flags = 0;
    asm volatile("std\n\t"
                 "pushfl\n\t"
                 "andl $~0x200, (%%esp)\n\t" // the virtual IF stays off
                 "pushl %%cs\n\t"
                 "pushl $1f\n\t"
                 "int $0x83\n"
                 "1:\n\t"
                 "pushfl\n\t"
                 "popl %0\n\t"
                 "cld"
                 : "=r"(flags)
                 :
                 : "memory", "cc");
    check(flags & kEflagsDf, Detail("eflags %#x", flags),
          "the iret gate entered with DF set returns with the frame's DF");

    u32 r = run_user(lpar_user_std_int80);
    check(g_seen.vector == 0x80 && r == 5 && (g_seen.eflags & kEflagsDf),
          Detail("vector %#x eax %u eflags %#x", g_seen.vector, r, g_seen.eflags),
          "ring 3's `std; int $0x80` reaches the guest's handler with DF set in the frame");

    // Interrupts while ring 3 runs with DF set: the hypervisor's timer, the guest's virtual one.
    Vcpu& v = this_vcpu();
    const u32 ticks = static_cast<u32>(load_acquire(v.timer_ticks));
    isa::timer_set(ticks_per_ms());
    r = run_user(lpar_user_spin, 0x2 | kEflagsIf | kEflagsDf, reinterpret_cast<u32>(&v.timer_ticks),
                 ticks);
    isa::irq_disable();
    check(g_seen.vector == 0x80 && r != ticks && (g_seen.eflags & kEflagsDf),
          Detail("vector %#x ticks %u -> %u eflags %#x", g_seen.vector, ticks, r, g_seen.eflags),
          "interrupts taken while ring 3 runs with DF set: delivered, DF still set after");
}

// ---- What ring compression must not change for programs ------------------------------------
// Software interrupts ring 3 may make (DPL-3 gates) that the hypervisor sees as #GP(vector*8+2):
// what the handler saw, in order.
struct Soft {
    u32 vector, eip, eflags;
};
constinit Soft g_soft[4] = {};
u32 g_soft_count = 0;

void on_user_soft(isa::TrapFrame& f) {
    if (g_soft_count < 4) g_soft[g_soft_count] = Soft{f.vector, f.eip, f.eflags};
    g_soft_count = g_soft_count + 1;
}

void check_ring3_conformance() {
    set_trap_handler(3, on_user_soft);
    set_trap_handler(0x81, on_user_soft);
    isa::idt_set_dpl(3, 3);
    isa::idt_set_dpl(0x81, 3);

    // Prefixes on int3 / int n change nothing on a CPU.
    g_soft_count = 0;
    run_user(lpar_user_prefixed_int);
    const u32 int3_end = reinterpret_cast<u32>(lpar_user_prefixed_int3_end),
              int81_end = reinterpret_cast<u32>(lpar_user_prefixed_int81_end);
    check(g_soft_count >= 1 && g_soft[0].vector == 3 && g_soft[0].eip == int3_end,
          Detail("%u trap(s): vector %#x eip %#x (want %#x); then vector %u", g_soft_count,
                 g_soft[0].vector, g_soft[0].eip, int3_end, g_seen.vector),
          "ring 3's `cs cs int3` is #BP with eip after the instruction, not #GP");
    check(g_soft_count == 2 && g_soft[1].vector == 0x81 && g_soft[1].eip == int81_end &&
              g_seen.vector == 0x80,
          Detail("%u trap(s): vector %#x eip %#x (want %#x); then vector %u", g_soft_count,
                 g_soft[1].vector, g_soft[1].eip, int81_end, g_seen.vector),
          "ring 3's `66 cd 81` (int $0x81, operand-size prefix) reaches the guest's gate 0x81");

    // NT set by ring 3 survives a system call.
    g_soft_count = 0;
    const u32 flags = run_user(lpar_user_nt);
    check(g_soft_count == 1 && (g_soft[0].eflags & kEflagsNt),
          Detail("%u trap(s), frame eflags %#x", g_soft_count, g_soft[0].eflags),
          "ring 3's NT is in the frame of its int $0x81");
    check(g_seen.vector == 0x80 && (flags & kEflagsNt),
          Detail("vector %#x, eflags after %#x", g_seen.vector, flags),
          "ring 3's NT survives the system call (set again after the return)");
    // Its iret with NT set is a task return through the current TSS's link (0, the CPU's TSS is
    // the hypervisor's): #TS(0) to the guest, as under a kernel that never nests tasks.
    run_user(lpar_user_nt_iret);
    check(g_seen.vector == 10 && g_seen.error == 0 && (g_seen.cs & 3) == 3,
          Detail("vector %u error %#x cs %#x", g_seen.vector, g_seen.error, g_seen.cs),
          "ring 3's iret with NT set -> #TS(0) to the guest");

    isa::idt_set_dpl(3, 0);
    isa::idt_set_dpl(0x81, 0);
    set_trap_handler(3, on_soft);
    set_trap_handler(0x81, nullptr);
}

// The iret gate refuses what iret refuses: #GP(selector) at the instruction, nothing popped
// (Linux's sigreturn hands a process's cs/ss to its iret).
u32 iret_as(u32 cs, u32 ss) {
    reset_seen();
    g_recover = reinterpret_cast<u32>(lpar_user_return);
    const u32 r =
        lpar_run_user_as(reinterpret_cast<u32>(lpar_user_ret42),
                         reinterpret_cast<u32>(g_user_stack + sizeof(g_user_stack)), 0x2, cs, ss);
    g_recover = 0;
    return r;
}

void check_iret_selectors() {
    const u32 at = reinterpret_cast<u32>(lpar_run_user_as_iret);
    struct Case {
        u32 cs, ss, error;
        const char* what;
    };
    const Case cases[] = {
        {kSelData0 | 1, isa::kKernelData, kSelData0, "a data selector as cs (ring 1)"},
        {isa::kUserCode, isa::kKernelData, isa::kKernelData & ~3u, "a ring-1 ss for ring 3"},
        {isa::kUserCode, 3, 0, "a null ss for ring 3"},
        {isa::kUserCode, isa::kUserCode, isa::kUserCode & ~3u, "a code selector as ss"},
        {kSelLdtData, isa::kUserData, kSelLdtData & ~3u, "an LDT selector as cs"},
        {kSelHvCode | 3, isa::kUserData, kSelHvCode, "the hypervisor's code as cs"},
    };
    for (const Case& c : cases) {
        const u32 r = iret_as(c.cs, c.ss);
        check(g_seen.vector == 13 && g_seen.error == c.error && g_seen.eip == at && r != 42,
              Detail("vector %u error %#x eip %#x (int $0x83 at %#x), eax %u", g_seen.vector,
                     g_seen.error, g_seen.eip, at, r),
              "the iret gate with %s (cs %#x ss %#x) -> #GP(%#x) at the instruction", c.what, c.cs,
              c.ss, c.error);
    }
    const u32 r = iret_as(isa::kUserCode, isa::kUserData);
    check(g_seen.vector == 0x80 && r == 42, Detail("vector %u eax %u", g_seen.vector, r),
          "the iret gate with good ring-3 selectors still runs ring 3");
}

// Direct system calls: while this vcpu runs, its DPL-3 trap gate at 0x80 is the CPU's own, so
// ring 3's int $0x80 reaches the ring-1 handler without a trap into the hypervisor (its count of
// reflected int $0x80 stays put); a gate naming anything but ring-1 code never reaches the CPU
// (the hypervisor's slow path raises #GP(selector) for the guest, as a CPU would).
u64 reflected_int80s() {
    return hcall(isa::H_IA32_EXIT_COUNTS).ret[1];
}

// V86 code for cs:0 (V86 mode fetches at linear cs * 16 + ip): `code` is put 16 bytes into
// `buffer` (64-byte aligned, 16 + N bytes at least), so that cs's low bits are 01, a ring-1
// selector's. Returns cs.
template <usize N>
u32 place_v86_code(u8* buffer, const u8 (&code)[N]) {
    for (usize i = 0; i < N; ++i) buffer[16 + i] = code[i];
    return (reinterpret_cast<u32>(buffer) >> 4) + 1;
}

// A page fault in virtual-8086 mode whose cs and ss have the low bits of ring-1 selectors (the
// kernel's own values): it is the hypervisor's (the process gets #GP(0)), never a ring-1 fault
// for the switcher to reflect. Taken for one, the kernel's handler would run on the process's
// esp, with the frame written there by ring 0 (here over a canary) and null data segments.
void check_vm86_ring1_bits() {
    alignas(16) static u32 canary[8];
    // mov $0xf000, %ax; mov %ax, %ds; mov 0x0000, %ax: a read of linear 0xf0000 (past the
    // program, in the identity table of the low 4 MiB), then hlt (#GP(0) in V86 mode).
    constexpr u32 kAbsent = 0xf0000;
    constexpr u8 kReadAbsent[] = {0xb8, 0x00, 0xf0, 0x8e, 0xd8, 0xa1, 0x00, 0x00, 0xf4};
    alignas(64) static u8 code[16 + sizeof(kReadAbsent)];
    const u32 cs = place_v86_code(code, kReadAbsent);
    for (u32& w : canary) w = 0x5a5a5a5a;
    const u32 pte = g_pt_low[kAbsent >> 12];
    g_pt_low[kAbsent >> 12] = 0; // absent, in a table the switcher has after this fault:
    invlpg(kAbsent);
    run_user(lpar_user_read, 0x2, kAbsent);
    const Seen noted = g_seen;
    run_user(lpar_user_iret_vm86_k, 0x2, cs, reinterpret_cast<u32>(&canary[4]));
    g_pt_low[kAbsent >> 12] = pte;
    invlpg(kAbsent);
    bool intact = true;
    for (const u32 w : canary) intact = intact && w == 0x5a5a5a5a;
    check((cs & 3) == 1 && noted.vector == 14 && noted.cr2 == kAbsent && intact &&
              ((g_seen.vector == 13 && g_seen.error == 0 && (g_seen.cs & 3) == 3) ||
               g_seen.vector == 0x80),
          Detail("cs %#x; first fault vector %u cr2 %#x; then vector %u error %#x cs %#x eip "
                 "%#x, canary %s",
                 cs, noted.vector, noted.cr2, g_seen.vector, g_seen.error, g_seen.cs, g_seen.eip,
                 intact ? "intact" : "overwritten"),
          "a V86 page fault with cs and ss of ring-1 selectors is the hypervisor's: #GP(0) for "
          "the process, nothing written at its esp");
}

// The exits `run` costs: the least of `tries`, so that a timer's exit in one does not count.
template <typename F>
u64 least_exits(F run, int tries) {
    u64 least = ~0ull;
    for (int i = 0; i < tries; ++i) {
        const u64 before = exits_so_far();
        run();
        const u64 n = exits_so_far() - before;
        if (n < least) least = n;
    }
    return least;
}

// A process's #GP and the #PF of a page its tables deny are reflected by the switcher, without
// an exit of their own (isa/ia32/fast_reflect.hpp; it needs the ring-1 stack a direct gate
// validates): a round trip through one costs the exits of one through the direct int $0x80 (the
// way back to ring 1 is the iret gate's exit in both), a #PF one more for on_fault's own
// `mov %cr2` (emulated).
u64 round_trip_exits(const char* code, u32 ebx = 0) {
    return least_exits([=] { run_user(code, 0x2, ebx); }, 3);
}

void check_switcher_reflection() {
    isa::idt_set_gate(0x80, 3, true, isa::kKernelCode);
    const u64 direct = round_trip_exits(lpar_user_ret42);
    const u64 gp = round_trip_exits(lpar_user_cli);
    const Seen gp_seen = g_seen;
    run_user(lpar_user_read, 0x2, kVaSuper); // the hypervisor's: its table becomes a row
    const u64 pf = round_trip_exits(lpar_user_read, kVaSuper);
    check(gp_seen.vector == 13 && gp_seen.error == 0 && (gp_seen.cs & 3) == 3 &&
              g_seen.vector == 14 && g_seen.error == (kPfP | kPfU) && g_seen.cr2 == kVaSuper &&
              g_seen.shared_cr2 == kVaSuper && gp == direct && pf == direct + 1,
          Detail("exits per round trip: int $0x80 %llu, #GP %llu, #PF %llu; #GP error %#x, #PF "
                 "error %#x cr2 %#x shared %#x",
                 static_cast<unsigned long long>(direct), static_cast<unsigned long long>(gp),
                 static_cast<unsigned long long>(pf), gp_seen.error, g_seen.error, g_seen.cr2,
                 g_seen.shared_cr2),
          "a process's #GP(0) and its #PF on a supervisor page reach the guest with the right "
          "frame and address and no exit of their own (the switcher reflects them)");
    // Ring 1's own page faults too (Linux's copy_to_user into a page not mapped yet): a write to
    // a read-only page and a read of an absent one, in a table the switcher has. Each costs two
    // exits, both of the handler's: its mov %cr2 and its return (the iret gate); three when the
    // hypervisor reflects the fault.
    const auto ring1_exits = [](bool write, u32 va) {
        return least_exits(
            [=] {
                u32 value = 0;
                if (write) {
                    try_write(va, 1);
                } else {
                    try_read(va, value);
                }
            },
            6);
    };
    const u64 plain = ring1_exits(false, kVaMain);
    const u64 ro = ring1_exits(true, kVaReadOnly);
    const Seen ro_seen = g_seen;
    const u64 absent = ring1_exits(false, kVaAbsent);
    check(ro_seen.vector == 14 && ro_seen.error == (kPfP | kPfW) && ro_seen.cr2 == kVaReadOnly &&
              ro_seen.shared_cr2 == kVaReadOnly && (ro_seen.cs & 3) == 1 && g_seen.vector == 14 &&
              g_seen.error == 0 && g_seen.cr2 == kVaAbsent && g_seen.shared_cr2 == kVaAbsent &&
              ro == plain + 2 && absent == plain + 2,
          Detail("exits %llu, %llu, %llu; write: error %#x cr2 %#x/%#x cs %#x; read: error %#x "
                 "cr2 %#x/%#x",
                 static_cast<unsigned long long>(plain), static_cast<unsigned long long>(ro),
                 static_cast<unsigned long long>(absent), ro_seen.error, ro_seen.cr2,
                 ro_seen.shared_cr2, ro_seen.cs, g_seen.error, g_seen.cr2, g_seen.shared_cr2),
          "ring 1's own page faults reach its handler with the right frame and address, with "
          "no exit of their own (the switcher reflects them)");
    check_ring3_stack_pops("by the switcher");
    check_vm86_ring1_bits();
    // The frame's page out of the shadow: the switcher's store faults, and the hypervisor
    // delivers the #GP after all.
    invlpg(g_tss.esp0 - 4);
    const u64 before = exits_so_far();
    run_user(lpar_user_cli);
    const u64 slow = exits_so_far() - before;
    check(g_seen.vector == 13 && g_seen.error == 0 && (g_seen.cs & 3) == 3 && slow > direct,
          Detail("vector %u error %#x cs %#x, %llu exits (direct %llu)", g_seen.vector,
                 g_seen.error, g_seen.cs, static_cast<unsigned long long>(slow),
                 static_cast<unsigned long long>(direct)),
          "with the ring-1 stack's page out of the shadow, the #GP goes to the hypervisor, which "
          "delivers it");
}

void check_direct_syscall() {
    const u32 after_int = reinterpret_cast<u32>(lpar_user_ret42) + 7; // mov $42, %eax; int $0x80
    const u64 slow_before = reflected_int80s();
    run_user(lpar_user_ret42);
    const u64 slow_interrupt_gate = reflected_int80s();
    check(slow_interrupt_gate == slow_before + 1 && g_seen.vector == 0x80,
          Detail("reflected int $0x80: %llu -> %llu", static_cast<unsigned long long>(slow_before),
                 static_cast<unsigned long long>(slow_interrupt_gate)),
          "an interrupt gate at 0x80 is never the CPU's: int $0x80 is reflected");

    isa::idt_set_gate(0x80, 3, true, isa::kKernelCode);
    u32 good = 0;
    u32 last = 0;
    for (int i = 0; i < 8; ++i) {
        last = run_user(lpar_user_ret42);
        if (last == 42 && g_seen.vector == 0x80 && g_seen.cs == isa::kUserCode &&
            g_seen.eip == after_int)
            ++good;
    }
    const u64 slow_after = reflected_int80s();
    check(good == 8 && slow_after == slow_interrupt_gate,
          Detail("%u of 8 right (eax %u eip %#x cs %#x), reflected %llu -> %llu", good, last,
                 g_seen.eip, g_seen.cs, static_cast<unsigned long long>(slow_interrupt_gate),
                 static_cast<unsigned long long>(slow_after)),
          "ring 3's int $0x80 through a DPL-3 trap gate reaches the ring-1 handler with the "
          "right frame, without a hypervisor exit");

    struct Bogus {
        u32 selector;
        const char* what;
    };
    const Bogus bogus[] = {{kSelHvCode, "the hypervisor's code"},
                           {isa::kUserCode, "ring-3 code"},
                           {kSelData0, "a data segment"}};
    for (const Bogus& b : bogus) {
        isa::idt_set_gate(0x80, 3, true, b.selector);
        const u64 before = reflected_int80s();
        const u32 r = run_user(lpar_user_ret42);
        const u64 after = reflected_int80s();
        check(
            g_seen.vector == 13 && g_seen.error == (b.selector & ~3u) && (g_seen.cs & 3) == 3 &&
                after == before + 1,
            Detail("vector %u error %#x cs %#x eax %u", g_seen.vector, g_seen.error, g_seen.cs, r),
            "a trap gate at 0x80 to %s is refused: int $0x80 -> #GP(%#x) for the guest", b.what,
            b.selector & ~3u);
    }
    check_switcher_reflection();
    isa::idt_set_gate(0x80, 3, true, kSelData0); // as the last refusal above left it
    isa::idt_set_dpl(0x80, 3);
}

// ---- sysenter: a process's sysenter reaches the guest's ring-1 entry ------------------------
// The CPU's sysenter always enters ring 0: the hypervisor's trampoline takes it on to the entry
// and stack of the guest's SYSENTER_EIP/ESP with SYSENTER_CS's segments in ring 1, without an
// exit; a SYSENTER_CS that does not name ring-1 code and a ring-1 stack after it is #GP(0) for
// the process, as SYSENTER_CS 0 is on a CPU. TF carried in by the sysenter reaches the guest
// as a step after its entry's first instruction; NT does not make the trampoline's iret a
// task return.
alignas(16) u8 g_sysenter_stack[512];

void write_msr(u32 msr, u32 value) {
    asm volatile("wrmsr" ::"c"(msr), "a"(value), "d"(0u) : "memory");
}
u64 exits_so_far() {
    return hcall(isa::H_IA32_EXIT_COUNTS).ret[0];
}
u32 run_sysenter(u32 eflags = 0x2, const char* code = lpar_user_sysenter) {
    for (u32& w : lpar_sysenter_seen) w = 0;
    return run_user(code, eflags);
}

void on_step(isa::TrapFrame& f) {
    on_soft(f);
    f.eflags &= ~0x100u;
}
// A step in ring 3: noted, then back to lpar_run_user's caller without TF.
void on_user_step(isa::TrapFrame& f) {
    on_fault(f);
    f.eflags &= ~0x100u;
}

void check_sysenter() {
    constexpr u32 kCs = 0x174, kEsp = 0x175, kEip = 0x176, kTf = 0x100;
    const u32 top = reinterpret_cast<u32>(g_sysenter_stack + sizeof(g_sysenter_stack));
    const u32 user_esp = reinterpret_cast<u32>(g_user_stack + sizeof(g_user_stack));
    const u32 at = reinterpret_cast<u32>(lpar_user_sysenter_insn);
    const u32* seen = lpar_sysenter_seen;

    write_msr(kEsp, top);
    write_msr(kEip, reinterpret_cast<u32>(lpar_sysenter_entry));
    write_msr(kCs, 0);
    run_sysenter();
    check(g_seen.vector == 13 && g_seen.error == 0 && g_seen.eip == at && seen[0] == 0,
          Detail("vector %u error %#x eip %#x (sysenter at %#x)", g_seen.vector, g_seen.error,
                 g_seen.eip, at),
          "sysenter with SYSENTER_CS 0 -> #GP(0) for the process, as on a CPU");

    write_msr(kCs, isa::kKernelCode & ~3u);
    const u64 before = exits_so_far();
    u32 good = 0, last = 0;
    for (int i = 0; i < 8; ++i) {
        last = run_sysenter();
        if (last == 0x5e && g_seen.count == 0 && seen[0] == top && seen[1] == 0x202 &&
            seen[2] == isa::kKernelCode && seen[3] == isa::kKernelData && seen[4] == user_esp)
            ++good;
    }
    const u64 exits = exits_so_far() - before;
    // Each run enters ring 3 through the iret gate (one exit); a sysenter that trapped would
    // add at least one more.
    check(good == 8 && exits < 8 + 6,
          Detail("%u of 8 right (eax %#x esp %#x eflags %#x cs %#x ss %#x ebp %#x), %llu exits",
                 good, last, seen[0], seen[1], seen[2], seen[3], seen[4],
                 static_cast<unsigned long long>(exits)),
          "ring 3's sysenter reaches SYSENTER_EIP in ring 1 on SYSENTER_ESP, with SYSENTER_CS's "
          "code and stack segments and the process's registers, without a hypervisor exit");

    last = run_sysenter(0x2 | kEflagsNt | 0x8d5); // NT and the arithmetic flags
    check(last == 0x5e && seen[1] == (0x202 | kEflagsNt | 0x8d5) && seen[2] == isa::kKernelCode,
          Detail("eax %#x eflags %#x cs %#x", last, seen[1], seen[2]),
          "sysenter with NT and the arithmetic flags set: they reach the entry's EFLAGS (NT "
          "does not turn the trampoline's iret into a task return)");

    set_trap_handler(1, on_step);
    last = run_sysenter(0x2, lpar_user_sysenter_tf);
    set_trap_handler(1, nullptr);
    check(last == 0x5e && g_seen.vector == 1 &&
              g_seen.eip == reinterpret_cast<u32>(lpar_sysenter_entry_step) &&
              g_seen.cs == isa::kKernelCode && (g_seen.eflags & kTf),
          Detail("eax %#x, vector %u eip %#x cs %#x eflags %#x (step expected at %#x)", last,
                 g_seen.vector, g_seen.eip, g_seen.cs, g_seen.eflags,
                 reinterpret_cast<u32>(lpar_sysenter_entry_step)),
          "sysenter with TF set: the guest's #DB comes after its entry's first instruction, "
          "in ring 1 (the trampoline's own step stays in the hypervisor)");

    // The way back: a sysenter from ring 1 with ebp = X86_SYSEXIT_EBP is sysexit to edx/ecx in
    // ring 3, with the user segments SYSENTER_CS + 16 and + 24 imply (here the flat ones).
    const u32 after_int = reinterpret_cast<u32>(lpar_user_ret42) + 7; // mov $42; int $0x80
    good = 0;
    for (int i = 0; i < 4; ++i) {
        reset_seen();
        last = lpar_sysexit_to(reinterpret_cast<u32>(lpar_user_ret42), user_esp, 0);
        if (last == 42 && g_seen.vector == 0x80 && g_seen.cs == isa::kUserCode &&
            g_seen.eip == after_int)
            ++good;
    }
    check(good == 4,
          Detail("%u of 4 right (eax %u, vector %#x cs %#x eip %#x)", good, last, g_seen.vector,
                 g_seen.cs, g_seen.eip),
          "ring 1's sysenter with ebp = X86_SYSEXIT_EBP returns to ring 3 at edx on ecx with "
          "the user segments of SYSENTER_CS + 16 and + 24");
    // With TF set: whatever steps the trampoline takes stay in ring 0, and TF goes on to ring 3
    // with the flags, as a CPU's sysexit takes it: the process's #DB comes at the landing.
    reset_seen();
    set_trap_handler(1, on_user_step);
    last = lpar_sysexit_to(reinterpret_cast<u32>(lpar_user_ret42), user_esp, 1);
    set_trap_handler(1, nullptr);
    check(g_seen.vector == 1 && g_seen.cs == isa::kUserCode &&
              g_seen.eip == reinterpret_cast<u32>(lpar_user_ret42) && (g_seen.eflags & kTf),
          Detail("eax %u, vector %#x cs %#x eip %#x eflags %#x", last, g_seen.vector, g_seen.cs,
                 g_seen.eip, g_seen.eflags),
          "the same with TF set: the trampoline's steps stay in ring 0, ring 3 gets the #DB "
          "at the landing, as after a CPU's sysexit");

    // A process in V86 mode with IOPL 3 (QEMU's iret loads it from ring 3) asking sysenter for
    // the kernel's sysexit: back in ring 3 it must not keep IOPL 3 (port I/O, cli).
    {
        constexpr u8 kSysexitAsk[] = {0x66, 0xbd, 0xee, 0xff, 0xc0, 0xff, // mov $0xffc0ffee, %ebp
                                      0x0f, 0x34};                        // sysenter
        alignas(64) static u8 code[16 + sizeof(kSysexitAsk)];
        const u32 cs = place_v86_code(code, kSysexitAsk);
        const u32 flags = run_user(lpar_user_vm86_sysexit, 0x2, cs);
        const bool landed = g_seen.vector == 0x80 && g_seen.cs == isa::kUserCode;
        check((landed && (flags & 0x3000) == 0) || (!landed && g_seen.vector == 13),
              Detail("vector %#x cs %#x, eflags in ring 3 %#x", g_seen.vector, g_seen.cs, flags),
              "a sysexit asked for from V86 mode with IOPL 3 returns to ring 3 with IOPL 0");
    }

    // A process in V86 mode with IOPL 3 clears the real IF and loops: the local APIC's timer
    // cannot interrupt it, the NMI watchdog does (without it this check never returns), and
    // the process gets #GP(0) in its loop.
    {
        constexpr u8 kCliLoop[] = {0xfa, 0xeb, 0xfe}; // cli; jmp .
        alignas(64) static u8 code[16 + sizeof(kCliLoop)];
        const u32 cs = place_v86_code(code, kCliLoop);
        run_user(lpar_user_vm86_iopl3, 0x2, cs);
        check(g_seen.vector == 13 && g_seen.error == 0 && g_seen.cs == isa::kUserCode &&
                  g_seen.eip == 1,
              Detail("vector %#x error %#x cs %#x eip %#x", g_seen.vector, g_seen.error, g_seen.cs,
                     g_seen.eip),
              "a process in V86 mode with IOPL 3 that clears the real IF and loops is stopped by "
              "the NMI watchdog: #GP(0) at its loop");
    }

    // The same loop with IF set: the host's timer ends it (#GP(0) at the loop), and that
    // interrupt is acknowledged. Without the EOI the local APIC's in-service bit would block the
    // CPU's timer for good: the second loop would never end (the watchdog leaves IF set alone).
    {
        constexpr u8 kLoop[] = {0xeb, 0xfe}; // jmp .
        alignas(64) static u8 code[16 + sizeof(kLoop)];
        const u32 cs = place_v86_code(code, kLoop);
        u32 ended = 0;
        for (int i = 0; i < 3; ++i) {
            reset_seen();
            run_user(lpar_user_vm86_iopl3, 0x2, cs);
            if (g_seen.vector == 13 && g_seen.error == 0 && g_seen.cs == isa::kUserCode &&
                g_seen.eip == 0)
                ++ended;
        }
        check(ended == 3,
              Detail("%u of 3 (the last: vector %#x error %#x cs %#x eip %#x)", ended,
                     g_seen.vector, g_seen.error, g_seen.cs, g_seen.eip),
              "a process looping in V86 mode with IF set is stopped by the host's timer, #GP(0) at "
              "its loop, 3 times in a row (the timer's interrupt was acknowledged)");
    }

    struct Bogus {
        u32 cs;
        const char* what;
    };
    const Bogus bogus[] = {{kSelHvCode, "the hypervisor's code"},
                           {isa::kUserCode & ~3u, "ring-3 code"},
                           {kSelData0, "a data segment"},
                           {kSelCode0, "ring-1 code followed by a gate, not a stack"},
                           {kSelLdt | 4, "an LDT selector"}};
    for (const Bogus& b : bogus) {
        write_msr(kCs, b.cs);
        run_sysenter();
        check(g_seen.vector == 13 && g_seen.error == 0 && g_seen.eip == at && seen[0] == 0,
              Detail("vector %u error %#x eip %#x, entry esp %#x", g_seen.vector, g_seen.error,
                     g_seen.eip, seen[0]),
              "SYSENTER_CS naming %s (%#x): sysenter -> #GP(0) for the process", b.what, b.cs);
    }
    write_msr(kCs, 0);
}

// ---- Debug registers: the guest's own breakpoints, none on the switcher --------------------
u32 g_watch;
u32 g_dr6;          // DR6 as the #DB handler read it (then cleared, as Linux does)
u32 g_target_calls; // runs of db_target

template <unsigned N>
void write_dr(u32 value) {
    asm volatile("mov %0, %%dr%c1" ::"r"(value), "i"(N) : "memory");
}
template <unsigned N>
u32 read_dr() {
    u32 value;
    asm volatile("mov %%dr%c1, %0" : "=r"(value) : "i"(N));
    return value;
}

[[gnu::noinline]] void db_target() {
    g_target_calls = g_target_calls + 1;
    asm volatile("" ::: "memory");
}

void on_debug(isa::TrapFrame& f) {
    g_dr6 = read_dr<6>();
    write_dr<6>(0);
    if ((f.cs & 3) == 3) return on_fault(f);
    on_soft(f);
    // An instruction breakpoint is a fault: resume with RF so that it does not hit again.
    if (g_dr6 & 0xf) f.eflags |= 0x10000;
}

// DR7 with breakpoint i enabled (local): rw 0 execute, 1 write, 3 read/write; len 0 (1 byte)
// or 3 (4 bytes).
constexpr u32 dr7_enable(unsigned i, unsigned rw, unsigned len) {
    return 0x400 | (1u << (2 * i)) | (((len << 2) | rw) << (16 + 4 * i));
}

void check_debug_registers() {
    set_trap_handler(1, on_debug);
    write_dr<0>(reinterpret_cast<u32>(&g_watch));
    write_dr<7>(dr7_enable(0, 1, 3));
    check(read_dr<0>() == reinterpret_cast<u32>(&g_watch) && read_dr<7>() == dr7_enable(0, 1, 3),
          Detail("dr0 %#x dr7 %#x", read_dr<0>(), read_dr<7>()),
          "dr0 and dr7 read back what ring 1 wrote");
    reset_seen();
    u32 after = 0;
    asm volatile("movl $1f, %[after]\n\tmovl $5, %[w]\n1:"
                 : [after] "=r"(after), [w] "=m"(g_watch)::"memory");
    check(g_seen.vector == 1 && g_seen.eip == after && (g_dr6 & 0xf) == 1 && g_watch == 5,
          Detail("count %u vector %u eip %#x (after %#x) dr6 %#x", g_seen.count, g_seen.vector,
                 g_seen.eip, after, g_dr6),
          "a write watchpoint (dr0) traps after ring 1's store, DR6.B0 set");

    write_dr<1>(reinterpret_cast<u32>(&db_target));
    write_dr<7>(dr7_enable(0, 1, 3) | dr7_enable(1, 0, 0));
    reset_seen();
    g_target_calls = 0;
    db_target();
    check(g_seen.count == 1 && g_seen.eip == reinterpret_cast<u32>(&db_target) &&
              (g_dr6 & 0xf) == 2 && g_target_calls == 1,
          Detail("count %u eip %#x dr6 %#x calls %u", g_seen.count, g_seen.eip, g_dr6,
                 g_target_calls),
          "an instruction breakpoint (dr1) faults once at the function, RF lets it run");

    // Breakpoints the hypervisor's own ring-0 code would hit: the switcher's #PF and hcall
    // stubs. Never armed (the guest reads them back, they never fire); the others still work.
    constexpr u32 kSwitcher = 0xffc00000;
    write_dr<2>(kSwitcher + 14 * 16);
    write_dr<3>(kSwitcher + 48 * 16);
    const u32 dr7 = dr7_enable(0, 1, 3) | dr7_enable(2, 0, 0) | dr7_enable(3, 0, 0);
    write_dr<7>(dr7);
    reset_seen();
    hcall(H_PROD, 0);
    u32 r = run_user(lpar_user_ret42);
    check(r == 42 && g_seen.vector == 0x80 && read_dr<7>() == dr7 &&
              read_dr<2>() == kSwitcher + 14 * 16,
          Detail("r %u vector %u dr7 %#x", r, g_seen.vector, read_dr<7>()),
          "breakpoints on the switcher's code are kept but never fire in the hypervisor");
    reset_seen();
    asm volatile("movl $6, %[w]" : [w] "=m"(g_watch)::"memory");
    check(g_seen.vector == 1 && (g_dr6 & 0xf) == 1,
          Detail("count %u vector %u dr6 %#x", g_seen.count, g_seen.vector, g_dr6),
          "next to refused ones, dr0's watchpoint still fires");

    // Ring 3: a read watchpoint, an instruction breakpoint.
    write_dr<7>(dr7_enable(0, 3, 3));
    run_user(lpar_user_read, 0x2, reinterpret_cast<u32>(&g_watch));
    check(g_seen.vector == 1 && (g_seen.cs & 3) == 3 &&
              g_seen.eip == reinterpret_cast<u32>(lpar_user_read) + 2 && (g_dr6 & 0xf) == 1,
          Detail("vector %u cs %#x eip %#x dr6 %#x", g_seen.vector, g_seen.cs, g_seen.eip, g_dr6),
          "ring 3's read of a watched word: #DB after the load, DR6.B0");
    write_dr<1>(reinterpret_cast<u32>(lpar_user_ret42));
    write_dr<7>(dr7_enable(1, 0, 0));
    run_user(lpar_user_ret42);
    check(g_seen.vector == 1 && g_seen.eip == reinterpret_cast<u32>(lpar_user_ret42) &&
              (g_dr6 & 0xf) == 2,
          Detail("vector %u eip %#x dr6 %#x", g_seen.vector, g_seen.eip, g_dr6),
          "an instruction breakpoint in ring 3: #DB at the instruction, DR6.B1");

    write_dr<7>(0);
    reset_seen();
    r = run_user(lpar_user_ret42);
    asm volatile("movl $7, %[w]" : [w] "=m"(g_watch)::"memory");
    check(r == 42 && g_seen.count == 1 && g_seen.vector == 0x80,
          Detail("count %u vector %u", g_seen.count, g_seen.vector),
          "dr7 = 0: no breakpoint fires any more");
    set_trap_handler(1, nullptr);
}

// Ring 3's iret with VM set in the popped EFLAGS: a CPU ignores VM at CPL 3 and returns; QEMU
// enters virtual-8086 mode, whose trap frame is larger: the hypervisor gives the process #GP(0)
// (and must neither misread the frame nor take it for a fault of its own).
// Where ring 3's iret with VM set goes: in protected mode (a CPU, which ignores VM at CPL 3) to
// code that returns 7; in V86 mode (QEMU) to cs * 16 + eip, filled with hlt (#GP(0) there),
// whatever the program's layout puts elsewhere.
alignas(16) u8 g_vm86_code[(isa::kUserCode << 4) + 64];

void check_vm86_iret() {
    constexpr u8 kReturn7[] = {0xb8, 7, 0, 0, 0, 0xcd, 0x80, 0x0f, 0x0b}; // mov $7,%eax; int $0x80
    for (u8& b : g_vm86_code) b = 0xf4;
    for (u32 i = 0; i < sizeof(kReturn7); ++i) g_vm86_code[i] = kReturn7[i];
    const u32 r = run_user(lpar_user_iret_vm86, 0x2, reinterpret_cast<u32>(g_vm86_code));
    check((g_seen.vector == 13 && g_seen.error == 0 && (g_seen.cs & 3) == 3) ||
              (r == 7 && g_seen.vector == 0x80),
          Detail("r %u vector %u error %#x cs %#x eflags %#x", r, g_seen.vector, g_seen.error,
                 g_seen.cs, g_seen.eflags),
          "ring 3's iret with VM set: #GP(0) for the process (V86 under QEMU) or it runs on");
}

void check_bad_hcall_stack() {
    tessera::i32 status = lpar_hcall_at(kVaAbsent + 0x100);
    check_status(status, H_PARAMETER, "an hcall with esp on a not-present page -> H_PARAMETER");
    status = lpar_hcall_at(0xfff00000);
    check_status(status, H_PARAMETER, "an hcall with esp in the hypervisor's hole -> H_PARAMETER");
}

} // namespace

// H_IA32_PROTECT: the loaded space's entries of a range keep their read translation (a read
// costs no exit, and still sees the old page while the PTE changed without a flush, as a TLB
// would) and lose write permission (the write refills from the guest's entry as it is now).
void check_protect() {
    constexpr u32 kVaProt = kVaBase + 0x204000;
    map(kVaProt, kLaY, kP | kW | kU | kA | kD);
    const bool wrote = try_write(kVaProt, 0xaaaa0002);
    u32 first = 0, kept = 0, after = 0;
    try_read(kVaProt, first);
    map(kVaProt, kLaZ, kP | kW | kU | kA | kD); // no invlpg: the shadow keeps kLaY
    const i64 reversed = hcall(isa::H_IA32_PROTECT, kVaProt + 0x1000, kVaProt).status;
    const i64 st = hcall(isa::H_IA32_PROTECT, kVaProt, kVaProt + 0x1000).status;
    const u64 none = least_exits([] {}, 3); // exits_so_far's own
    const u64 read_exits = least_exits([&] { try_read(kVaProt, kept); }, 3) - none;
    const u64 before = exits_so_far();
    const bool rewrote = try_write(kVaProt, 0xaaaa0003);
    const u64 write_exits = exits_so_far() - before - none;
    try_read(kVaProt, after);
    check(wrote && rewrote && first == 0xaaaa0002 && reversed == H_PARAMETER && st == 0 &&
              kept == 0xaaaa0002 && read_exits == 0 && write_exits >= 1 && after == 0xaaaa0003,
          Detail("statuses %lld %lld, reads %#x %#x %#x, exits: read %llu write %llu",
                 static_cast<long long>(reversed), static_cast<long long>(st), first, kept, after,
                 static_cast<unsigned long long>(read_exits),
                 static_cast<unsigned long long>(write_exits)),
          "H_IA32_PROTECT: a read keeps its translation with no exit, a write refills from the "
          "guest's entry; end < start -> H_PARAMETER");
    map(kVaProt, 0, 0);
    invlpg(kVaProt);
}

// H_IA32_FORK_MM: the parent's space loses write permission where its tables no longer grant
// it (dup_mmap write-protected the page) and keeps it where they do (shared memory), and the
// child's space is made at the fork from the child's own tables for the pages the parent used
// (Accessed set in them, as a fill sets it), then kept at the child's first switch: a PTE the
// child changed afterwards without a new generation still reads the page of the fork, as a TLB
// entry made then would; a new generation reads the new one.
void check_fork_mm() {
    constexpr u64 kEnd = 0xc0000000;
    // A shared page, on a logical page no other check uses.
    constexpr u32 kVaForkShared = kVaBase + 0x206000, kLaForkShared = kLaX + 0x7000;
    const u32 child = reinterpret_cast<u32>(g_pd2);
    for (u32 i = 0; i < 1024; ++i) g_pd2[i] = g_pd[i];
    g_pd2[kVaBase >> 22] = reinterpret_cast<u32>(g_pt_test2) | kP | kW | kU;
    g_pt_test2[0] = kLaY | kP | kU; // the child's copy-on-write view: read-only and old
    map(kVaMain, kLaZ, kP | kW | kU | kA | kD);
    invlpg(kVaMain);
    map(kVaForkShared, kLaForkShared, kP | kW | kU | kA | kD);
    switch_mm(g_pd, 201, 1, 0);
    const u32 parent_value = read_main(); // the parent's shadow maps kVaMain now
    const bool shared_wrote = try_write(kVaForkShared, 0xaaaa0002); // and kVaForkShared, writable
    map(kVaMain, kLaZ, kP | kU | kA | kD); // dup_mmap's write-protect, no invlpg
    const i64 no_ctx = hcall(isa::H_IA32_FORK_MM, kEnd, child, 0, 5).status;
    const i64 own_ctx = hcall(isa::H_IA32_FORK_MM, kEnd, child, 201, 5).status;
    const i64 high_cr3 = hcall(isa::H_IA32_FORK_MM, kEnd, 0x100000000ull | child, 202, 5).status;
    const bool old_before = (g_pt_test2[0] & kA) == 0;
    const i64 st = hcall(isa::H_IA32_FORK_MM, kEnd, child, 202, 5, 2).status;
    const bool accessed = (g_pt_test2[0] & kA) != 0;
    const u64 none = least_exits([] {}, 3);
    u64 before = exits_so_far();
    const bool shared_rewrote = try_write(kVaForkShared, 0xaaaa0004);
    const u64 shared_exits = exits_so_far() - before - none;
    map(kVaMain, kLaZ, kP | kW | kU | kA | kD); // writable again (a reuse), no invlpg
    before = exits_so_far();
    const bool wrote = try_write(kVaMain, parent_value);
    const u64 write_exits = exits_so_far() - before - none;
    check(no_ctx == H_PARAMETER && own_ctx == H_PARAMETER && high_cr3 == H_PARAMETER &&
              old_before && st == 0 && accessed && parent_value == 0xaaaa0003 && wrote &&
              write_exits >= 1 && shared_wrote && shared_rewrote && shared_exits == 0,
          Detail("statuses %lld %lld %lld %lld, child A %d -> %d, parent %#x, write exits %llu, "
                 "shared page's %llu",
                 static_cast<long long>(no_ctx), static_cast<long long>(own_ctx),
                 static_cast<long long>(high_cr3), static_cast<long long>(st), !old_before,
                 accessed, parent_value, static_cast<unsigned long long>(write_exits),
                 static_cast<unsigned long long>(shared_exits)),
          "H_IA32_FORK_MM: the parent's write-protected entries lose W, its shared ones keep it, "
          "the child's tables are walked and marked Accessed; no ctx, the loaded ctx or a cr3 "
          "above 4 GiB -> H_PARAMETER");
    map(kVaForkShared, 0, 0);
    invlpg(kVaForkShared);
    g_pt_test2[0] = kLaX | kP | kU;                 // the child's PTE changes, no new generation
    const u32 fast = fast_switch_mm(g_pd2, 202, 5); // the parent's generation is recorded
    const u32 kept = read_main();
    switch_mm(g_pd2, 202, 6, 5);
    const u32 fresh = read_main();
    check(fast == 0 && kept == 0xaaaa0002 && fresh == 0xaaaa0001,
          Detail("switcher %u, at the kept generation %#x, after a new one %#x", fast, kept, fresh),
          "H_IA32_FORK_MM: the child's space holds what its tables said at the fork, loaded by "
          "the switcher at its first switch");
    map(kVaMain, kLaZ, kP | kW | kU);
    write_cr3(reinterpret_cast<u32>(g_pd));
    check_eq(read_main(), 0xaaaa0003u, "a plain cr3 load after the fork's spaces works");
}

// H_IA32_REFILL: a copy-on-write break's flush and fill in one hcall. The read-only old page's
// entry goes (a read before it still sees the old page, as a TLB would), and the new page's is
// made from the guest's entry as it is now (Accessed set, as a fill sets it; writable, since it
// is dirty): the reads and writes after it cost no exit.
void check_refill() {
    constexpr u32 kVaRefill = kVaBase + 0x205000;
    map(kVaRefill, kLaZ, kP | kU | kA);
    invlpg(kVaRefill);
    u32 fresh_page = 0, old_page = 0, stale = 0, now = 0;
    try_read(kVaRefill, fresh_page);
    map(kVaRefill, kLaY, kP | kU | kA); // the shared, read-only page
    invlpg(kVaRefill);
    try_read(kVaRefill, old_page);
    map(kVaRefill, kLaZ, kP | kW | kU | kD); // the copy: no invlpg
    try_read(kVaRefill, stale);
    const i64 high = hcall(isa::H_IA32_REFILL, 0x100000000ull | kVaRefill, 0).status;
    const i64 st = hcall(isa::H_IA32_REFILL, kVaRefill + 0x10, 0).status;
    const bool accessed = (g_pt_test[(kVaRefill >> 12) & 0x3ff] & kA) != 0;
    const u64 none = least_exits([] {}, 3); // exits_so_far's own
    const u64 read_exits = least_exits([&] { try_read(kVaRefill, now); }, 3) - none;
    const u64 write_exits = least_exits([&] { try_write(kVaRefill, fresh_page); }, 3) - none;
    check(high == H_PARAMETER && st == 0 && fresh_page != old_page && stale == old_page &&
              accessed && now == fresh_page && read_exits == 0 && write_exits == 0,
          Detail("statuses %lld %lld, pages %#x %#x, stale %#x, A %d, now %#x, exits: read %llu "
                 "write %llu",
                 static_cast<long long>(high), static_cast<long long>(st), fresh_page, old_page,
                 stale, accessed, now, static_cast<unsigned long long>(read_exits),
                 static_cast<unsigned long long>(write_exits)),
          "H_IA32_REFILL: the old page's entry goes, the new one's is filled from the guest's "
          "entry (A set; W, since dirty); a va above 4 GiB -> H_PARAMETER");
    map(kVaRefill, 0, 0);
    invlpg(kVaRefill);
}

// H_IA32_MOVE: mremap's flush of a moved range with its new addresses filled. The guest moves
// its entry from one page to another (no invlpg): until the hcall the old address still reads
// through the shadow, as a TLB would; after it the old address faults, and the new one reads the
// page with no exit (made at the move: the old entry was in the shadow). An unaligned range ->
// H_PARAMETER.
void check_move() {
    constexpr u32 kVaOld = kVaBase + 0x220000, kVaNew = kVaBase + 0x231000; // other groups
    map(kVaOld, kLaY, kP | kW | kU | kA | kD);
    invlpg(kVaOld);
    u32 before = 0, stale = 0, after = 0, gone = 0;
    try_read(kVaOld, before);
    map(kVaNew, kLaY, kP | kW | kU | kA | kD);
    map(kVaOld, 0, 0);
    const bool stale_ok = try_read(kVaOld, stale);
    const i64 bad = hcall(isa::H_IA32_MOVE, kVaOld + 0x10, kVaOld + 0x1000, kVaNew, 0).status;
    const i64 st = hcall(isa::H_IA32_MOVE, kVaOld, kVaOld + 0x1000, kVaNew, 0).status;
    const bool old_faults = !try_read(kVaOld, gone) && g_seen.vector == 14;
    const u64 none = least_exits([] {}, 3); // exits_so_far's own
    const u64 read_exits = least_exits([&] { try_read(kVaNew, after); }, 3) - none;
    check(bad == H_PARAMETER && st == 0 && stale_ok && stale == before && old_faults &&
              after == before && before == 0xaaaa0002 && read_exits == 0,
          Detail("statuses %lld %lld, read %#x, stale %d %#x, old faults %d, new %#x, exits %llu",
                 static_cast<long long>(bad), static_cast<long long>(st), before, stale_ok, stale,
                 old_faults, after, static_cast<unsigned long long>(read_exits)),
          "H_IA32_MOVE: the old address's entry goes, the new one reads the moved page with no "
          "exit; an unaligned range -> H_PARAMETER");
    map(kVaNew, 0, 0);
    invlpg(kVaNew);
}

// The prefill of a write's fill gives W to the read-only shadow entries of its group whose
// guest entries let write (memory a fork's H_IA32_PROTECT or H_IA32_FORK_MM took W from in the
// shadow while the guest's entries kept it, as for shared memory; pages Linux makes writable
// again): after one write's exit, a write to a neighbour costs none.
void check_prefill_upgrade() {
    constexpr u32 kVaUp = kVaBase + 0x210000; // the start of a 16-page group
    constexpr u32 kRw = kP | kW | kU | kA | kD;
    map(kVaUp, kLaY, kRw);
    map(kVaUp + 0x1000, kLaZ, kRw);
    invlpg(kVaUp);
    invlpg(kVaUp + 0x1000);
    u32 y = 0, z = 0;
    try_read(kVaUp, y); // both entries writable in the shadow (the neighbour prefilled)
    try_read(kVaUp + 0x1000, z);
    const i64 st = hcall(isa::H_IA32_PROTECT, kVaUp, kVaUp + 0x2000).status; // both lose W
    const u64 none = least_exits([] {}, 3);
    u64 before = exits_so_far();
    const bool first = try_write(kVaUp, y);
    const u64 first_exits = exits_so_far() - before - none;
    before = exits_so_far();
    const bool second = try_write(kVaUp + 0x1000, z);
    const u64 second_exits = exits_so_far() - before - none;
    check(st == 0 && first && second && first_exits >= 1 && second_exits == 0,
          Detail("status %lld, writes %d %d, exits %llu %llu", static_cast<long long>(st), first,
                 second, static_cast<unsigned long long>(first_exits),
                 static_cast<unsigned long long>(second_exits)),
          "a write's fill gives W back to its group's read-only entries the guest lets write");
    for (u32 va = kVaUp; va <= kVaUp + 0x1000; va += 0x1000) {
        map(va, 0, 0);
        invlpg(va);
    }
}

void lpar_main(const Boot& b) {
    if (b.vcpu_count == 2) check_fpu_isolation(b.vcpu);
    if (b.vcpu != 0) {
        if (b.vcpu == 1) {
            prod_vcpu0_later();
            shared_tables_vcpu1();
        }
        return;
    }
    if (b.memory_size < 16 * MiB) {
        check(false, "ia32 needs at least 16 MiB (has %llu)", b.memory_size);
        return;
    }
    const u32 faults[] = {0, 6, 10, 11, 12, 13, 14, 0x80};
    for (u32 v : faults) set_trap_handler(v, on_fault);
    isa::idt_set_dpl(0x80, 3);
    check_descriptors();
    check_switcher_tls();
    check_exceptions();
    check_emulation();
    check_tick_ahead();
    check_self_timer();
    check_raise_timer();
    check_later_timer();
    check_paging_off();
    enable_paging();
    check_paging();
    check_protect();
    check_shared_tables();
    check_switch_mm();
    check_fork_mm();
    check_refill();
    check_move();
    check_prefill_upgrade();
    check_ring3();
    check_ldt();
    check_direction_flag();
    check_ring3_conformance();
    check_iret_selectors();
    check_direct_syscall();
    check_sysenter();
    check_debug_registers();
    check_vm86_iret();
    check_bad_hcall_stack();
}
