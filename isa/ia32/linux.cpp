// Booting Linux in a pc LPAR (docs/ia32.md, guests/linux-ia32/): the vmlinux ELF32 at its
// physical addresses, the initramfs and the command line above it, and a boot_params ("zero
// page") that describes the LPAR's logical memory as e820 RAM. The LPAR's virtual I/O devices
// are described as on pseries: the same guest device tree (common/guest_fdt, its /vdevice
// nodes) in a setup_data entry of type SETUP_DTB, which the PV kernel's VIO bus reads
// (guests/linux-ia32/patches/0002-tessera-vio.patch). The boot vcpu enters the kernel's 32-bit
// entry (e_entry, paging off) in ring 1 with esi = boot_params, as a boot loader hands over to
// startup_32; ebx = the TSC rate in kHz as for every vcpu.
#include "common/elf_loader.hpp"
#include "common/guest_fdt.hpp"
#include "common/linux_images.hpp"
#include "common/lpar.hpp"
#include "common/rt/format.hpp"
#include "common/rt/string.hpp"
#include "common/vio_devices.hpp"
#include "hcall/rtas.hpp"
#include "isa/ia32/boot_params.hpp"

#include <elf.h>
#include <tessera/arch.hpp>

namespace tessera::arch {
namespace {

constexpr u64 kLowRamEnd = 0x9f000; // conventional memory a PC's e820 reports (below the EBDA)
constexpr u64 kHighRam = 1 * MiB;
constexpr u64 kCmdlineMax = 2048;

bool fail(char* why, usize len, const char* msg, unsigned long long a = 0) {
    rt::format(why, len, msg, a);
    return false;
}

template <class T>
void put(u8* page, usize offset, T value) {
    __builtin_memcpy(page + offset, &value, sizeof(value));
}

// The guest device tree, in a setup_data entry (16-byte header, then the tree) in low memory
// above the zero page and the command line; Linux keeps setup_data and the first MiB reserved.
alignas(8) u8 fdt_buffer[guest_fdt::kMaxSize];
constexpr u64 kSetupData = 0x10000;
static_assert(kSetupData + bootp::kSetupDataHeader + guest_fdt::kMaxSize <= kLowRamEnd);

// Builds the LPAR's device tree into fdt_buffer: what x86 Linux reads of it is /vdevice (the
// CPU and memory nodes are pseries facts it ignores; it has e820 and the TSC rate in ebx).
guest_fdt::Result build_fdt(const Lpar& lpar, const LinuxImages& images) {
    guest_fdt::IsaFacts facts;
    const u64 tsc = plat::timebase_hz();
    facts.cpu_name = "ia32";
    facts.timebase_hz = tsc == 0 || tsc > 0xffff'ffff ? 0xffff'ffff : tsc;
    facts.clock_hz = facts.timebase_hz;
    guest_fdt::Description d;
    d.partition_name = lpar.name;
    d.partition_no = lpar.id;
    d.model = "Tessera,pc-LPAR";
    d.compatible = "tessera,pc";
    d.cpu_count = lpar.vcpu_count;
    d.memory_size = lpar.memory.size();
    d.bootargs = images.cmdline;
    d.vty_termno = static_cast<u32>(lpar.vty.termno());
    vio::describe(lpar, d);
    d.rtas_size = 0; // no RTAS blob: the PV kernel calls RTAS through H_RTAS
    d.rtas_tokens = hcall::rtas::tokens();
    d.isa = &facts;
    return guest_fdt::build(d, fdt_buffer, sizeof(fdt_buffer));
}

} // namespace

bool linux_load(Lpar& lpar, const LinuxImages& images, BootEntry& entry, char* why, usize why_len) {
    LogicalMap& mem = lpar.memory;
    const u64 size = mem.size();
    ElfLoaded elf;
    if (!load_elf(mem, linux_images::kernel(mem, images), EM_386, elf, why, why_len, LogicalAddr(0),
                  linux_images::keep(images)))
        return false;
    if (elf.is64) return fail(why, why_len, "the kernel is not a 32-bit ELF");
    if (elf.low.value() < kHighRam)
        return fail(why, why_len, "the kernel loads below 1 MiB (at %#llx)", elf.low.value());

    // Below the kernel at 1 MiB..: nothing; the zero page and the command line go in low
    // memory (where a boot loader puts them), the initramfs at the top of memory (page-aligned,
    // below what a non-PAE kernel maps directly: 896 MiB). A staged initrd moves there first,
    // before boot_params and the device tree are written, wherever it was.
    constexpr u64 kZeroPage = 0x7000, kCmdline = 0x8000;
    const usize cmdline_len = rt::str_length(images.cmdline);
    if (cmdline_len >= kCmdlineMax)
        return fail(why, why_len, "the command line is longer than %llu bytes", kCmdlineMax - 1);
    u64 top = size < 896 * MiB ? size : 896 * MiB;
    u64 initrd = 0;
    if (images.initrd_size) {
        initrd = (top - images.initrd_size) & ~u64{0xfff};
        if (images.initrd_size > top || initrd < elf.high.value())
            return fail(why, why_len, "the initramfs does not fit above the kernel in %llu MiB",
                        size / MiB);
        if (!linux_images::place_initrd(mem, images, LogicalAddr(initrd)))
            return fail(why, why_len, "cannot copy the initramfs");
    }

    static u8 page[bootp::kSize];
    __builtin_memset(page, 0, sizeof(page));
    put<u16>(page, bootp::kBootFlag, 0xaa55);
    put<u32>(page, bootp::kHeaderMagic, bootp::kHdrS);
    put<u16>(page, bootp::kVersion, bootp::kProtocol);
    put<u8>(page, bootp::kTypeOfLoader, 0xff); // "undefined" boot loader
    put<u8>(page, bootp::kLoadFlags, bootp::kLoadedHigh | bootp::kKeepSegments);
    put<u32>(page, bootp::kRamdiskImage, static_cast<u32>(initrd));
    put<u32>(page, bootp::kRamdiskSize, static_cast<u32>(images.initrd_size));
    put<u32>(page, bootp::kCmdLinePtr, static_cast<u32>(kCmdline));
    put<u32>(page, bootp::kInitrdAddrMax, static_cast<u32>(top - 1));
    put<u32>(page, bootp::kCmdlineSize, static_cast<u32>(kCmdlineMax - 1));
    put<u32>(page, bootp::kHardwareSubarch, 0);
    // e820: low RAM, the legacy hole (reserved, nothing there), RAM from 1 MiB to the end.
    struct Range {
        u64 addr, len;
        u32 type;
    };
    const Range ranges[] = {{0, kLowRamEnd, bootp::kE820Ram},
                            {kLowRamEnd, kHighRam - kLowRamEnd, bootp::kE820Reserved},
                            {kHighRam, size - kHighRam, bootp::kE820Ram}};
    for (usize i = 0; i < 3; ++i) {
        const usize at = bootp::kE820Table + i * 20;
        put<u64>(page, at, ranges[i].addr);
        put<u64>(page, at + 8, ranges[i].len);
        put<u32>(page, at + 16, ranges[i].type);
    }
    put<u8>(page, bootp::kE820Entries, 3);
    const guest_fdt::Result fdt = build_fdt(lpar, images);
    if (fdt.error != guest_fdt::Error::None) {
        rt::format(why, why_len, "device tree: %s", guest_fdt::to_string(fdt.error));
        return false;
    }
    u8 header[bootp::kSetupDataHeader] = {};
    put<u64>(header, 0, 0); // next: none
    put<u32>(header, 8, bootp::kSetupDtb);
    put<u32>(header, 12, static_cast<u32>(fdt.size));
    put<u64>(page, bootp::kSetupData, kSetupData);
    if (!mem.copy_in(LogicalAddr(kSetupData), header, sizeof(header)) ||
        !mem.copy_in(LogicalAddr(kSetupData + sizeof(header)), fdt_buffer, fdt.size))
        return fail(why, why_len, "no room for the device tree in low memory");
    if (!mem.copy_in(LogicalAddr(kZeroPage), page, sizeof(page)) ||
        !mem.copy_in(LogicalAddr(kCmdline), images.cmdline, cmdline_len + 1))
        return fail(why, why_len, "no room for boot_params in low memory");

    entry.entry = elf.entry;
    entry.args[0] = 0; // eax, edx, ecx: nothing (startup_32 ignores them)
    entry.args[1] = 0;
    entry.args[2] = 0;
    entry.args[3] = kZeroPage; // esi
    entry.nargs = 4;
    return true;
}

} // namespace tessera::arch
