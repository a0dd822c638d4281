// The hypervisor's own GDT. Besides flat ring-0 code and data it has one small segment for %gs:
// Debian's libfdt (built -fstack-protector-strong, i386 glibc ABI) reads its stack guard at
// %gs:0x14, so %gs points at a block whose word 5 is the guard.
#include <tessera/arch.hpp>

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

// Access bytes: present, DPL 0, code/data; flags: 4 KiB granularity, 32-bit.
constexpr u8 kCode0 = 0x9a, kData0 = 0x92, kFlags32 = 0xc;

struct GuardBlock {
    u32 words[8];
};
GuardBlock guard_block = {{0, 0, 0, 0, 0, 0x7e55e7a0u, 0, 0}};

Descriptor gdt[4];

} // namespace

// Selector values used by the entry code and the future switcher.
inline constexpr u16 kHvCode = 0x08, kHvData = 0x10, kHvGuard = 0x18;

void early_init() {
    gdt[0] = Descriptor{};
    gdt[1] = make(0, 0xfffff, kCode0, kFlags32);
    gdt[2] = make(0, 0xfffff, kData0, kFlags32);
    gdt[3] = make(reinterpret_cast<uptr>(&guard_block), sizeof(guard_block) - 1, kData0, 0x4);
    Pointer p{sizeof(gdt) - 1, static_cast<u32>(reinterpret_cast<uptr>(gdt))};
    asm volatile("lgdt %0\n\t"
                 "ljmp %1, $1f\n"
                 "1:\n\t"
                 "mov %2, %%ds\n\t"
                 "mov %2, %%es\n\t"
                 "mov %2, %%ss\n\t"
                 "mov %2, %%fs\n\t"
                 "mov %3, %%gs"
                 :
                 : "m"(p), "i"(kHvCode), "r"(static_cast<u32>(kHvData)),
                   "r"(static_cast<u32>(kHvGuard))
                 : "memory");
    // TODO(bring-up): IDT with register-dumping handlers and the TSS arrive with the pc bring-up.
}

u64 timebase() {
    u32 lo, hi;
    asm volatile("rdtsc" : "=a"(lo), "=d"(hi));
    return (static_cast<u64>(hi) << 32) | lo;
}

} // namespace tessera::arch
