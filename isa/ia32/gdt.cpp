// The hypervisor's CPU tables and its address space: GDT (with the ring-1 and ring-3 guest
// segments), TSS, IDT, and paging (identity over the low 4 GiB - 4 MiB in 4 MiB pages, the
// switcher in the last 4 MiB). GDT, TSS and IDT live in the switcher's data page
// (isa/ia32/switcher.S) because the CPU reads them while a guest's address space is loaded.
// Every physical CPU has its own data and stack page and its own page tables for them
// (isa/ia32/pcpu.hpp); in hypervisor context a CPU reaches its own at their switcher addresses.
//
// The %gs segment: Debian's libfdt (built -fstack-protector-strong, i386 glibc ABI) reads its
// stack guard at %gs:0x14, so %gs points at a block whose word 5 is the guard; word 0 is the
// CPU's index (arch::cpu_index).
#include "common/log.hpp"
#include "isa/ia32/cpu.hpp"
#include "isa/ia32/cr.hpp"
#include "isa/ia32/direct_gate.hpp"
#include "isa/ia32/gdt_rows.hpp"
#include "isa/ia32/guest_mmu.hpp"
#include "isa/ia32/pcpu.hpp"
#include "isa/ia32/shadow.hpp"
#include "isa/ia32/sysenter.hpp"

#include <arch/x86.hpp>
#include <tessera/arch.hpp>
#include <tessera/hot.hpp>

extern "C" {
extern char switcher_start[], sw_stubs[], sw_stub_hcall[], sw_stub_iret[], sw_data[], sw_gdt[],
    sw_tss[], sw_df_tss[], sw_idt[], sw_ldt[], sw_stack[], sw_stack_top[], switcher_end[],
    sw_sysenter[], sw_sysenter_target[], sw_switch_mm[], sw_fast_spaces[], sw_switch_tls[],
    sw_tls_keys[];
extern tessera::u32 sw_hv_cr3;
void ia32_df_entry(); // switcher.S: the double fault's task starts here
}

namespace tessera::arch {
namespace {

struct [[gnu::packed]] Descriptor {
    u16 limit_lo;
    u16 base_lo;
    u8 base_mid;
    u8 access;
    u8 flags_limit_hi; // G D/B L AVL | limit 19:16
    u8 base_hi;
};
static_assert(sizeof(Descriptor) == 8);

struct [[gnu::packed]] Pointer {
    u16 limit;
    u32 base;
};

constexpr Descriptor make(u32 base, u32 limit, u8 access, u8 flags) {
    return Descriptor{static_cast<u16>(limit & 0xffff),
                      static_cast<u16>(base & 0xffff),
                      static_cast<u8>(base >> 16),
                      access,
                      static_cast<u8>((flags << 4) | ((limit >> 16) & 0xf)),
                      static_cast<u8>(base >> 24)};
}

// Access bytes (present, accessed bit pre-set: the GDT page is read-only while a guest runs):
// code execute/read, data read/write, at DPL 0, 1 and 3; a 32-bit available TSS.
constexpr u8 kCode0 = 0x9b, kData0 = 0x93, kCode1 = 0xbb, kData1 = 0xb3, kCode3 = 0xfb,
             kData3 = 0xf3, kTss32 = 0x89;
constexpr u8 kFlags32 = 0xc;   // 4 KiB granularity, 32-bit
constexpr u8 kTaskGate = 0x85; // present, DPL 0
constexpr u8 kLdt = 0x82;      // an LDT descriptor: present, DPL 0

constexpr u32 kStackGuard = 0x7e55e7a0u;
constexpr u32 kPtePwt = 1u << 3, kPtePcd = 1u << 4;

void wrmsr(u32 msr, u32 value) {
    asm volatile("wrmsr" ::"c"(msr), "a"(value), "d"(0u) : "memory");
}

// This CPU's copy of a switcher object, at its switcher address (hypervisor context).
template <typename T>
T* mine(const void* sym) {
    return reinterpret_cast<T*>(switcher_va(sym));
}

const char* const kExceptionNames[32] = {"#DE divide error",
                                         "#DB debug",
                                         "NMI",
                                         "#BP breakpoint",
                                         "#OF overflow",
                                         "#BR bound",
                                         "#UD invalid opcode",
                                         "#NM device not available",
                                         "#DF double fault",
                                         "coprocessor overrun",
                                         "#TS invalid TSS",
                                         "#NP segment not present",
                                         "#SS stack fault",
                                         "#GP general protection",
                                         "#PF page fault",
                                         "reserved 15",
                                         "#MF x87 error",
                                         "#AC alignment check",
                                         "#MC machine check",
                                         "#XM SIMD error",
                                         "#VE virtualization",
                                         "#CP control protection",
                                         "reserved 22",
                                         "reserved 23",
                                         "reserved 24",
                                         "reserved 25",
                                         "reserved 26",
                                         "reserved 27",
                                         "reserved 28",
                                         "reserved 29",
                                         "reserved 30",
                                         "reserved 31"};

} // namespace

bool has_error_code(u32 vector) {
    return vector == 8 || (vector >= 10 && vector <= 14) || vector == 17 || vector == 21 ||
           vector == 29 || vector == 30;
}

TESSERA_HOT u32 switcher_va(const void* p) {
    return X86_SWITCHER_VA +
           static_cast<u32>(reinterpret_cast<uptr>(p) - reinterpret_cast<uptr>(switcher_start));
}

// This CPU's switcher page table (every address space it runs on maps the switcher with it).
TESSERA_HOT u32 switcher_pde() {
    return static_cast<u32>(reinterpret_cast<uptr>(this_pcpu().switcher_pt)) | kPteP | kPteW;
}

namespace {

// This CPU's GDT rows as the hypervisor writes them (the guests' mapping is read-only).
GdtRows my_rows() {
    return GdtRows{mine<u64[kGdtEntries]>(sw_gdt), mine<TlsKey>(sw_tls_keys), this_pcpu().gdt_made,
                   switcher_va(sw_gdt)};
}

void lgdt_row(unsigned row) {
    Pointer g{kGdtEntries * 8 - 1, switcher_va(sw_gdt) + row * kGdtEntries * 8};
    asm volatile("lgdt %0" ::"m"(g) : "memory");
    this_pcpu().gdt_row = static_cast<u8>(row);
}

} // namespace

u64 gdt_descriptor(unsigned index) {
    if (index >= X86_GDT_ENTRIES) return 0;
    return my_rows().gdt[0][index]; // the hypervisor's entries are the same in every row
}

void gdt_load_guest_window(const u64 (&entries)[kGuestGdtEntries], const TlsSets& tls) {
    static_assert(kGuestGdtEntries == X86_GDT_GUEST_ENTRIES);
    gdt_rows_write(my_rows(), entries, tls);
    if (tls.cur != this_pcpu().gdt_row) lgdt_row(tls.cur);
}

TESSERA_HOT bool gdt_resync_tls(TlsSets& tls, u64 (&window)[kGuestGdtEntries]) {
    Pointer g{};
    asm volatile("sgdt %0" : "=m"(g));
    const u32 row = (g.base - switcher_va(sw_gdt)) / (kGdtEntries * 8);
    Pcpu& p = this_pcpu();
    if (row == p.gdt_row) return false;
    if (row >= kGdtRows || !(tls.valid & (1u << row))) {
        // Not a row of this vcpu's (the switcher loads only keyed rows, so it cannot happen):
        // the next entry writes the rows and loads one again.
        p.gdt_window_gen = 0;
        p.gdt_row = 0xff;
        return false;
    }
    p.gdt_row = static_cast<u8>(row);
    return gdt_rows_resync(tls, row, window);
}

TESSERA_HOT void ldt_load(const GuestLdt& ldt) {
    static_assert(kGuestLdtEntries == X86_LDT_ENTRIES);
    bool& loaded = this_pcpu().ldt_loaded;
    if (ldt.selector == 0) {
        if (loaded) asm volatile("lldt %w0" ::"r"(0u) : "memory");
        loaded = false;
        return;
    }
    auto* gdt = mine<Descriptor[kGdtEntries]>(sw_gdt);
    u8* copy = mine<u8>(sw_ldt);
    const Descriptor d = make(switcher_va(sw_ldt), ldt.limit, kLdt, 0);
    if (loaded && __builtin_memcmp(&gdt[0][X86_LDT >> 3], &d, sizeof(d)) == 0 &&
        __builtin_memcmp(copy, ldt.entries, sizeof(ldt.entries)) == 0)
        return;
    // Through the hypervisor's view (the guests' mapping of these pages is read-only); the
    // hypervisor's entries are the same in every GDT row.
    __builtin_memcpy(copy, ldt.entries, sizeof(ldt.entries));
    for (unsigned r = 0; r < kGdtRows; ++r) gdt[r][X86_LDT >> 3] = d;
    asm volatile("lldt %w0" ::"r"(static_cast<u32>(X86_LDT)) : "memory");
    loaded = true;
}

namespace {

constexpr u8 kHvGate = 0x8e; // present, DPL 0, 32-bit interrupt gate (IF cleared on entry)

// The hypervisor's own IDT entry for a vector that may be direct: its stub's DPL-0 interrupt
// gate (as gdt_init_cpu sets it), or not present beyond the stubs (int $0x80: #GP(0x402)).
u64 hypervisor_gate(u32 vector) {
    if (vector >= X86_STUB_VECTORS) return 0;
    return gate_value(switcher_va(sw_stubs + 16 * vector), X86_HV_CODE, kHvGate);
}

} // namespace

TESSERA_HOT void idt_load_direct(const DirectGates& gates) {
    // The same validation as the CPU's entries come from: nothing to write. (Under QEMU a
    // store to the IDT's page costs far more than a load.)
    Pcpu& p = this_pcpu();
    if (gates.seq != 0 && gates.seq == p.direct_seq) return;
    // Through the hypervisor's view (the guests' mapping of this page is read-only).
    auto* idt = mine<u64>(sw_idt);
    for (usize i = 0; i < kDirectCount; ++i) {
        const u32 vector = kDirectVectors[i];
        const u64 want = gates.entry[i] != 0 ? gates.entry[i] : hypervisor_gate(vector);
        if (idt[vector] != want) idt[vector] = want;
    }
    auto* tss = mine<Tss>(sw_tss);
    if (tss->esp1 != gates.esp1) tss->esp1 = gates.esp1;
    if (tss->ss1 != gates.ss1) tss->ss1 = gates.ss1;
    p.direct_seq = gates.seq;
}

// The trampoline's iret frame goes under the top of this CPU's stack page: sysenter's esp leaves
// room for the frame's esp and ss words above the eflags word it pushes first (switcher.S).
void sysenter_init_cpu() {
    constexpr u32 kAboveEsp = 8;
    wrmsr(kMsrSysenterCs, 0);
    wrmsr(kMsrSysenterEsp, switcher_va(sw_stack_top) - kAboveEsp);
    wrmsr(kMsrSysenterEip, switcher_va(sw_sysenter));
    this_pcpu().sysenter_cs = 0;
}

TESSERA_HOT void sysenter_load(const SysenterTarget& target) {
    // Through the hypervisor's view of this CPU's data page (the guests' is read-only); only
    // when it changes (a store there costs more than a load under QEMU, as idt_load_direct's).
    auto* loaded = mine<SysenterTarget>(sw_sysenter_target);
    if (!(*loaded == target)) *loaded = target;
    // The guest's kernel code selector (RPL 0), for the user segments sysexit derives from it.
    Pcpu& p = this_pcpu();
    const u32 cs = target.cs & ~3u;
    if (cs != p.sysenter_cs) {
        wrmsr(kMsrSysenterCs, cs);
        p.sysenter_cs = cs;
    }
}

void fast_spaces_load(const FastSpace* rows) {
    // Through the hypervisor's view of this CPU's data page, a row only when it changed (as
    // sysenter_load).
    auto* loaded = mine<FastSpace>(sw_fast_spaces);
    for (unsigned i = 0; i < kShadowRoots; ++i)
        if (!(loaded[i] == rows[i])) loaded[i] = rows[i];
}

u32 hypervisor_cr3() {
    return static_cast<u32>(reinterpret_cast<uptr>(this_pcpu().hv_dir));
}

const char* exception_name(u32 vector) {
    return vector < 32 ? kExceptionNames[vector] : "interrupt";
}

// CPU `index`'s tables, written at their identity addresses (the boot CPU prepares every
// CPU's before starting it).
void build_cpu_tables(u32 index) {
    Pcpu& p = pcpu_init(index);
    p.gs_block[0] = index;
    p.gs_block[5] = kStackGuard;
    // Indices below X86_GDT_GUEST_ENTRIES are the running vcpu's (null until it loads a GDT).
    auto* gdt = reinterpret_cast<Descriptor*>(pcpu_object(index, sw_gdt));
    for (u32 i = 0; i < X86_GDT_ENTRIES; ++i) gdt[i] = Descriptor{};
    gdt[X86_HV_CODE >> 3] = make(0, 0xfffff, kCode0, kFlags32);
    gdt[X86_HV_DATA >> 3] = make(0, 0xfffff, kData0, kFlags32);
    gdt[X86_HV_GUARD >> 3] =
        make(reinterpret_cast<uptr>(&p.gs_block), sizeof(p.gs_block) - 1, kData0, 0x4);
    gdt[X86_TSS >> 3] = make(switcher_va(sw_tss), sizeof(Tss) - 1, kTss32, 0);
    gdt[X86_DF_TSS >> 3] = make(switcher_va(sw_df_tss), sizeof(Tss) - 1, kTss32, 0);
    gdt[X86_GUEST_KCODE >> 3] = make(0, 0xfffff, kCode1, kFlags32);
    gdt[X86_GUEST_KDATA >> 3] = make(0, 0xfffff, kData1, kFlags32);
    gdt[X86_GUEST_UCODE >> 3] = make(0, 0xfffff, kCode3, kFlags32);
    gdt[X86_GUEST_UDATA >> 3] = make(0, 0xfffff, kData3, kFlags32);
    // Every GDT row has the hypervisor's entries (load_cpu_tables copies the busy TSS), no
    // guest's, and no key yet.
    for (u32 r = 1; r < kGdtRows; ++r)
        __builtin_memcpy(gdt + r * kGdtEntries, gdt, kGdtEntries * sizeof(Descriptor));
    auto* keys = reinterpret_cast<TlsKey*>(pcpu_object(index, sw_tls_keys));
    for (u32 r = 0; r < kGdtRows; ++r) keys[r] = TlsKey{};
    for (u64& made : p.gdt_made) made = 0;
    p.gdt_row = 0;

    auto* tss = reinterpret_cast<Tss*>(pcpu_object(index, sw_tss));
    *tss = Tss{};
    tss->ss0 = X86_HV_DATA;
    tss->esp0 = switcher_va(sw_stack_top);
    tss->iomap_base = sizeof(Tss); // no I/O bitmap: every port access from ring 1/3 is #GP

    // The double fault is a task of its own (IDT vector 8 is a task gate): the CPU switches to
    // this TSS's stack and cr3 whatever the fault left of esp, so even a broken ring-0 stack is
    // reported (isa/ia32/fault.cpp). The CPU saves the faulting context in the main TSS.
    auto* df = reinterpret_cast<Tss*>(pcpu_object(index, sw_df_tss));
    *df = Tss{};
    df->cr3 = static_cast<u32>(reinterpret_cast<uptr>(p.hv_dir));
    df->eip = static_cast<u32>(reinterpret_cast<uptr>(&ia32_df_entry));
    df->eflags = X86_HV_EFLAGS;
    df->esp = df->esp0 = static_cast<u32>(reinterpret_cast<uptr>(p.df_stack_top));
    df->ss = df->ss0 = df->ds = df->es = df->fs = X86_HV_DATA;
    df->gs = X86_HV_GUARD;
    df->cs = X86_HV_CODE;
    df->ldt = 0; // the null LDTR, as everywhere
    df->iomap_base = sizeof(Tss);

    // IDT: interrupt gates (IF cleared on entry), DPL 0 except the hcall, iret and the fast
    // switches' gates (DPL 1: ring 3 gets #GP), and the double fault's task gate. Unused
    // vectors stay not-present (#NP -> reported as a fault).
    auto* idt = reinterpret_cast<u64*>(pcpu_object(index, sw_idt));
    for (u32 v = 0; v < 256; ++v) idt[v] = 0;
    for (u32 v = 0; v < X86_STUB_VECTORS; ++v) idt[v] = hypervisor_gate(v);
    constexpr u8 kDpl1 = 1u << 5;
    idt[X86_HCALL_VECTOR] = gate_value(switcher_va(sw_stub_hcall), X86_HV_CODE, kHvGate | kDpl1);
    idt[X86_IRET_VECTOR] = gate_value(switcher_va(sw_stub_iret), X86_HV_CODE, kHvGate | kDpl1);
    idt[X86_SWITCH_MM_VECTOR] = gate_value(switcher_va(sw_switch_mm), X86_HV_CODE, kHvGate | kDpl1);
    idt[X86_SWITCH_TLS_VECTOR] =
        gate_value(switcher_va(sw_switch_tls), X86_HV_CODE, kHvGate | kDpl1);
    idt[8] = gate_value(0, X86_DF_TSS, kTaskGate);

    // Paging: identity in 4 MiB pages (supervisor) below the switcher, uncached where the
    // IOAPIC and the local APIC are; the switcher's pages: code and tables read-only, the stack
    // page writable (the CPU pushes the trap frame there). The hypervisor's own view also has
    // the tables page writable (it can write it through the identity map anyway): a task
    // switch writes the old TSS, the new one's link and the busy bit in the GDT, and the double
    // fault's task gate must work from the hypervisor's cr3. This CPU's data and stack pages
    // stand in for CPU 0's.
    for (u32 i = 0; i < 1023; ++i) p.hv_dir[i] = (i << 22) | kPteP | kPteW | kPtePs;
    p.hv_dir[X86_LAPIC_BASE >> 22] |= kPtePcd | kPtePwt;
    const uptr start = reinterpret_cast<uptr>(switcher_start);
    const u32 pages = static_cast<u32>((reinterpret_cast<uptr>(switcher_end) - start) / 4096);
    const u32 stack_page = static_cast<u32>((reinterpret_cast<uptr>(sw_stack) - start) / 4096);
    const u32 data_page = static_cast<u32>((reinterpret_cast<uptr>(sw_data) - start) / 4096);
    const u32 gdt_page = static_cast<u32>((reinterpret_cast<uptr>(sw_gdt) - start) / 4096);
    for (u32 i = 0; i < 1024; ++i) p.switcher_pt[i] = p.hv_switcher_pt[i] = 0;
    for (u32 i = 0; i < pages; ++i) {
        uptr frame = start + i * 4096;
        if (i == stack_page) frame = reinterpret_cast<uptr>(p.stack);
        if (i == data_page) frame = reinterpret_cast<uptr>(p.data);
        if (i == gdt_page) frame = reinterpret_cast<uptr>(p.gdt_rows);
        const u32 page = static_cast<u32>(frame) | kPteP;
        const bool tables = i == data_page || i == gdt_page;
        p.switcher_pt[i] = page | (i == stack_page ? kPteW : 0);
        p.hv_switcher_pt[i] = page | (i == stack_page || tables ? kPteW : 0);
    }
    p.hv_dir[1023] = static_cast<u32>(reinterpret_cast<uptr>(p.hv_switcher_pt)) | kPteP | kPteW;
    *reinterpret_cast<u32*>(pcpu_object(index, &sw_hv_cr3)) =
        static_cast<u32>(reinterpret_cast<uptr>(p.hv_dir));
}

// Loads CPU `index`'s tables on the calling CPU, paging off, and turns paging on.
void load_cpu_tables(u32 index) {
    Pcpu& p = pcpu(index);
    // Paging is still off: load the GDT and TR at their real addresses (ltr marks the TSS busy
    // while the page is writable), the switcher addresses once paging is on.
    //
    // And a null LDTR, for good: the CPU comes out of reset with LDTR base 0, limit 0xffff, so
    // the "LDT" would be whatever a guest maps at linear 0..0xffff, and a call gate a process
    // writes there naming X86_HV_CODE would run its code in ring 0. With a null LDTR every
    // selector with TI = 1 is #GP(selector), in every ring; guests' lldt is emulated.
    Pointer gp{X86_GDT_ENTRIES * 8 - 1,
               static_cast<u32>(reinterpret_cast<uptr>(pcpu_object(index, sw_gdt)))};
    asm volatile("lgdt %0\n\t"
                 "ljmp %1, $1f\n"
                 "1:\n\t"
                 "mov %2, %%ds\n\t"
                 "mov %2, %%es\n\t"
                 "mov %2, %%ss\n\t"
                 "mov %2, %%fs\n\t"
                 "mov %3, %%gs\n\t"
                 "ltr %w4\n\t"
                 "lldt %w5"
                 :
                 : "m"(gp), "i"(X86_HV_CODE), "r"(static_cast<u32>(X86_HV_DATA)),
                   "r"(static_cast<u32>(X86_HV_GUARD)), "r"(static_cast<u32>(X86_TSS)), "r"(0u)
                 : "memory");
    p.ldt_loaded = false;
    // ltr marked row 0's TSS busy: so is every row's.
    auto* gdt = reinterpret_cast<u64*>(pcpu_object(index, sw_gdt));
    for (u32 r = 1; r < kGdtRows; ++r) gdt[r * kGdtEntries + (X86_TSS >> 3)] = gdt[X86_TSS >> 3];
    p.gdt_row = 0;
    // Caches on (an application processor comes out of INIT with CD and NW set), paging on.
    constexpr u32 kCr0Cd = 1u << 30, kCr0Nw = 1u << 29;
    cr::write4(cr::read4() | kCr4Pse);
    cr::write3(static_cast<u32>(reinterpret_cast<uptr>(p.hv_dir)));
    cr::write0((cr::read0() & ~(kCr0Cd | kCr0Nw)) | kCr0Pg | kCr0Wp);

    Pointer g{X86_GDT_ENTRIES * 8 - 1, switcher_va(sw_gdt)};
    Pointer i{256 * 8 - 1, switcher_va(sw_idt)};
    asm volatile("lgdt %0\n\tlidt %1" ::"m"(g), "m"(i) : "memory");
    sysenter_init_cpu();
}

void early_init() {
    build_cpu_tables(0);
    load_cpu_tables(0);
    fpu_init();
}

TESSERA_HOT u64 timebase() {
    u32 lo, hi;
    asm volatile("rdtsc" : "=a"(lo), "=d"(hi));
    return (static_cast<u64>(hi) << 32) | lo;
}

} // namespace tessera::arch
