// A pseries client that is not Linux (docs/test-lpars.md "client"): a static position-independent
// ELF (ET_DYN) loaded as `kind = linux`, entered big-endian like any PAPR client. It checks from
// the inside what such a client relies on: the entry state, where it was loaded, its own
// relocation, the device tree (RTAS at the top of the real-mode area, in the reserve map), and
// the vty through termno 0 (the early-console convention); every line it prints goes there.
// It ends with H_TESSERA_TEST_EXIT like the test LPARs.
#include <elf.h>
#include <tessera/hcall.hpp>
#include <tessera/types.hpp>

#include "common/rt/format.hpp"
#include "common/rt/panic.hpp"

using namespace tessera;

namespace {

constexpr u64 kMsrSf = u64{1} << 63, kMsrMe = u64{1} << 12, kMsrLe = 1;
constexpr u64 kSetModeLe = 4;
constexpr u64 kRmaMax = 1 * GiB; // what Linux assumes of a POWER8 hash LPAR's real-mode area
constexpr u32 kRtasBlobFirst = 0x7c641b78; // mr r4,r3: the hypervisor's RTAS blob, big-endian

struct Hcall {
    i64 status;
    u64 r4, r5, r6;
};

Hcall call(u64 number, u64 a0 = 0, u64 a1 = 0, u64 a2 = 0, u64 a3 = 0) {
    register u64 r3 asm("r3") = number;
    register u64 r4 asm("r4") = a0;
    register u64 r5 asm("r5") = a1;
    register u64 r6 asm("r6") = a2;
    register u64 r7 asm("r7") = a3;
    register u64 r8 asm("r8") = 0, r9 asm("r9") = 0, r10 asm("r10") = 0, r11 asm("r11") = 0,
                    r12 asm("r12") = 0;
    asm volatile("sc 1"
                 : "+r"(r3), "+r"(r4), "+r"(r5), "+r"(r6), "+r"(r7), "+r"(r8), "+r"(r9), "+r"(r10),
                   "+r"(r11), "+r"(r12)
                 :
                 : "r0", "cr0", "cr1", "cr2", "cr3", "cr4", "cr5", "cr6", "cr7", "xer", "memory");
    return {static_cast<i64>(r3), r4, r5, r6};
}

// ---- console: termno 0 ---------------------------------------------------------------------
constinit i64 g_put_status = hcall::H_SUCCESS; // the first failure of H_PUT_TERM_CHAR(0, ...)

void write(const char* s, usize n) {
    while (n > 0) {
        usize len = n < 16 ? n : 16;
        u64 hi = 0, lo = 0;
        for (usize i = 0; i < len; ++i)
            (i < 8 ? hi : lo) |= u64{static_cast<u8>(s[i])} << (56 - 8 * (i % 8));
        i64 st = call(hcall::H_PUT_TERM_CHAR, 0, len, hi, lo).status;
        if (st != hcall::H_SUCCESS && g_put_status == hcall::H_SUCCESS) g_put_status = st;
        s += len;
        n -= len;
    }
}

__attribute__((format(printf, 1, 2))) void print(const char* fmt, ...) {
    char line[160];
    va_list ap;
    va_start(ap, fmt);
    usize n = rt::vformat(line, sizeof(line), fmt, ap);
    va_end(ap);
    write(line, n < sizeof(line) ? n : sizeof(line) - 1);
}

constinit unsigned g_passed = 0, g_failed = 0;

__attribute__((format(printf, 3, 4))) void check(bool ok, const char* detail, const char* what,
                                                 ...) {
    char line[128];
    va_list ap;
    va_start(ap, what);
    rt::vformat(line, sizeof(line), what, ap);
    va_end(ap);
    (ok ? g_passed : g_failed) += 1;
    if (ok)
        print("ok - %s\r\n", line);
    else
        print("FAIL - %s (%s)\r\n", line, detail);
}

// ---- the device tree, read in place (big-endian, bounds-checked) ----------------------------
u32 be32(const u8* p) {
    return u32{p[0]} << 24 | u32{p[1]} << 16 | u32{p[2]} << 8 | p[3];
}
u64 be64(const u8* p) {
    return u64{be32(p)} << 32 | be32(p + 4);
}
bool same(const char* a, const char* b) {
    while (*a && *a == *b) ++a, ++b;
    return *a == *b;
}

constexpr u32 kFdtMagic = 0xd00dfeed;
constexpr u32 kBeginNode = 1, kEndNode = 2, kProp = 3, kNop = 4, kEnd = 9;

struct Fdt {
    const u8* base;
    u32 size;
    bool valid() const { return size >= 40 && be32(base) == kFdtMagic; }
    // The value of property `prop` of the root's child `node`, or null.
    const u8* find(const char* node, const char* prop, u32& len) const {
        const u32 st = be32(base + 8), strings = be32(base + 12), st_size = be32(base + 36);
        if (st > size || st_size > size - st || strings > size) return nullptr;
        u32 at = st, end = st + st_size;
        int depth = 0;
        bool inside = false;
        while (at + 4 <= end) {
            u32 token = be32(base + at);
            at += 4;
            if (token == kBeginNode) {
                const char* name = reinterpret_cast<const char*>(base + at);
                u32 n = 0;
                while (at + n < end && name[n]) ++n;
                ++depth;
                inside = depth == 2 && same(name, node);
                at = (at + n + 1 + 3) & ~3u;
            } else if (token == kEndNode) {
                if (inside) return nullptr;
                --depth;
            } else if (token == kProp) {
                if (at + 8 > end) return nullptr;
                u32 plen = be32(base + at), nameoff = be32(base + at + 4);
                at += 8;
                if (plen > end - at) return nullptr;
                if (inside && strings + nameoff < size &&
                    same(reinterpret_cast<const char*>(base + strings + nameoff), prop)) {
                    len = plen;
                    return base + at;
                }
                at = (at + plen + 3) & ~3u;
            } else if (token != kNop) {
                return nullptr; // kEnd or garbage
            }
        }
        return nullptr;
    }
    // Whether the reserve map has exactly [addr, addr + len).
    bool reserves(u64 addr, u64 len) const {
        for (u32 at = be32(base + 16); at + 16 <= size; at += 16) {
            u64 a = be64(base + at), l = be64(base + at + 8);
            if (a == 0 && l == 0) return false;
            if (a == addr && l == len) return true;
        }
        return false;
    }
};

void check_device_tree(u64 fdt_addr, u64 image_end) {
    Fdt fdt{reinterpret_cast<const u8*>(fdt_addr), 0};
    bool magic = be32(fdt.base) == kFdtMagic;
    fdt.size = magic ? be32(fdt.base + 4) : 0;
    char d[96];
    rt::format(d, sizeof(d), "at 0x%lx: 0x%x", fdt_addr, be32(fdt.base));
    check(fdt.valid(), d, "r3 is a flattened device tree");
    if (!fdt.valid()) return;

    u32 len = 0;
    const u8* reg = fdt.find("memory@0", "reg", len);
    u64 memory = reg && len == 16 ? be64(reg + 8) : 0;
    const u8* base_p = fdt.find("rtas", "linux,rtas-base", len);
    u64 rtas = base_p && len == 4 ? be32(base_p) : 0;
    const u8* size_p = fdt.find("rtas", "rtas-size", len);
    u64 rtas_size = size_p && len == 4 ? be32(size_p) : 0;
    rt::format(d, sizeof(d), "memory 0x%lx, rtas-base 0x%lx, rtas-size 0x%lx", memory, rtas,
               rtas_size);
    check(memory != 0 && rtas_size != 0, d, "/memory@0 reg, /rtas linux,rtas-base and rtas-size");
    const u64 rma_top = memory < kRmaMax ? memory : kRmaMax;
    check(rtas + rtas_size == rma_top, d, "RTAS sits at the top of the real-mode area (0x%lx)",
          rma_top);
    check(rtas >= image_end && fdt_addr >= image_end, d,
          "RTAS and the device tree are above the image (which ends at 0x%lx)", image_end);
    check(fdt.reserves(rtas, rtas_size), d, "the reserve map holds the RTAS region");
    const u32 first = rtas ? be32(reinterpret_cast<const u8*>(rtas)) : 0;
    rt::format(d, sizeof(d), "0x%08x", first);
    check(first == kRtasBlobFirst, d, "the RTAS blob is there, big-endian (mr r4,r3)");
}

void fn_in_data() {}
// A pointer in writable data: an R_PPC64_RELATIVE relocation the entry code applied.
void (*volatile g_fn)() = &fn_in_data;

} // namespace

// The runtime's fatal path (common/rt/abi/libc.cpp calls it): one failure, and the end.
[[noreturn]] void tessera::panic(const char* fmt, ...) {
    char line[128];
    va_list ap;
    va_start(ap, fmt);
    rt::vformat(line, sizeof(line), fmt, ap);
    va_end(ap);
    print("FAIL - panic: %s\r\n", line);
    for (;;) call(hcall::H_TESSERA_TEST_EXIT, g_passed, g_failed + 1);
}

extern "C" char __executable_start[], _end[];

// Applies the image's own relocations; returns how many it could not apply (0: all done).
// Runs before anything is relocated: it reads only its arguments and the image.
extern "C" u64 client_relocate(const Elf64_Dyn* dyn, u64 bias) {
    u64 rela = 0, relasz = 0, relaent = sizeof(Elf64_Rela);
    for (; dyn->d_tag != DT_NULL; ++dyn) {
        if (dyn->d_tag == DT_RELA) rela = dyn->d_un.d_ptr;
        if (dyn->d_tag == DT_RELASZ) relasz = dyn->d_un.d_val;
        if (dyn->d_tag == DT_RELAENT) relaent = dyn->d_un.d_val;
        if (dyn->d_tag == DT_REL) return 1; // ppc64 uses RELA only
    }
    if (relaent != sizeof(Elf64_Rela)) return 1;
    u64 bad = 0;
    for (u64 off = 0; off + relaent <= relasz; off += relaent) {
        const auto* r = reinterpret_cast<const Elf64_Rela*>(rela + bias + off);
        const u64 type = ELF64_R_TYPE(r->r_info);
        if (type == R_PPC64_RELATIVE)
            *reinterpret_cast<u64*>(r->r_offset + bias) = r->r_addend + bias;
        else if (type != R_PPC64_NONE)
            ++bad;
    }
    return bad;
}

extern "C" [[noreturn]] void client_main(u64 fdt, u64 base, u64 r5, u64 entry_msr, u64 bias) {
    print("# client: a position-independent PAPR client, printing through termno 0\r\n");
    const u64 start = reinterpret_cast<u64>(__executable_start);
    const u64 end = reinterpret_cast<u64>(_end);
    char d[96];
    rt::format(d, sizeof(d), "MSR 0x%lx", entry_msr);
    check(entry_msr == (kMsrSf | kMsrMe), d, "entered big-endian with MSR = SF|ME");
    u64 msr;
    asm volatile("mfmsr %0" : "=r"(msr));
    rt::format(d, sizeof(d), "MSR 0x%lx", msr);
    check((msr & kMsrLe) != 0, d, "its FIXUP_ENDIAN-style stub switched to little-endian");
    rt::format(d, sizeof(d), "r4 0x%lx, image at 0x%lx..0x%lx, bias 0x%lx", base, start, end, bias);
    check(base == start, d, "r4 is where the image was loaded");
    check(bias == start, d, "the load bias (from the TOC) moves link address 0 to the image");
    check(start == 0, d, "an ET_DYN client is loaded at logical 0, as QEMU's spapr loads it");
    rt::format(d, sizeof(d), "0x%lx", r5);
    check(r5 == 0, d, "r5 = 0: no Open Firmware client interface");
    rt::format(d, sizeof(d), "0x%lx, want 0x%lx", reinterpret_cast<u64>(g_fn),
               reinterpret_cast<u64>(&fn_in_data));
    check(g_fn == &fn_in_data, d, "its relocations are applied (a function pointer in data)");
    check_device_tree(fdt, end);

    const Hcall get = call(hcall::H_GET_TERM_CHAR, 0);
    rt::format(d, sizeof(d), "status %ld, count %lu", get.status, get.r4);
    check(get.status == hcall::H_SUCCESS, d, "H_GET_TERM_CHAR from termno 0");
    const i64 le = call(hcall::H_SET_MODE, 1, kSetModeLe).status;
    rt::format(d, sizeof(d), "status %ld", le);
    check(le == hcall::H_SUCCESS, d, "H_SET_MODE asks for little-endian interrupts");
    rt::format(d, sizeof(d), "status %ld", g_put_status);
    check(g_put_status == hcall::H_SUCCESS, d, "every H_PUT_TERM_CHAR to termno 0 succeeded");

    print("%u passed, %u failed\r\n", g_passed, g_failed);
    for (;;) call(hcall::H_TESSERA_TEST_EXIT, g_passed, g_failed);
}
