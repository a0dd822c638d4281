// Booting a pseries client (Linux or any other PAPR program): the ELF at its physical addresses
// (a position-independent one at logical 0), the initrd above it, the RTAS blob at the top of the
// real-mode area with the device tree right below it; the boot vcpu enters kexec-style with r3 =
// the device tree, r4 = the image's base, r5 = 0 (no Open Firmware).
#include "common/elf_loader.hpp"
#include "common/guest_fdt.hpp"
#include "common/linux_images.hpp"
#include "common/lpar.hpp"
#include "common/rt/format.hpp"
#include "common/vio_devices.hpp"
#include "hcall/rtas.hpp"
#include "isa/ppc64/htab.hpp"

#include <elf.h>
#include <tessera/arch.hpp>

namespace tessera::arch {
namespace {

alignas(8) u8 fdt_buffer[guest_fdt::kMaxSize];

// What the device tree says about the CPUs, matching what this backend implements: the HTAB's
// page sizes (isa/ppc64/htab.hpp, docs/hcalls.md), 32 SLB entries, 256M and 1T segments.
constexpr u32 kSlbSize[] = {32};
constexpr u32 kSegmentSizes[] = {28, 40, 0xffffffff, 0xffffffff};
constexpr u32 kSegmentPageSizes[] = {
    0x0c, 0x000, 1, 0x0c, 0x00,             // 4K segment base: 4K pages
    0x10, 0x110, 2, 0x10, 0x01, 0x18, 0x08, // 64K base: 64K and 16M pages
    0x18, 0x100, 1, 0x18, 0x00,             // 16M base: 16M pages
};
// Facilities Linux enables only when the device tree names them: VMX + VSX (ibm,vmx = 2),
// decimal floating point, PURR.
constexpr u32 kVmx[] = {2};
constexpr u32 kOne[] = {1};
// (guest_fdt adds hcall-term and hcall-interrupt.) hcall-splpar: Linux registers its VPA and
// idles with H_CEDE instead of spinning.
const char* const kHypertas[] = {"hcall-pft", "hcall-bulk", "hcall-splpar", "hcall-set-mode"};

// Where a position-independent client goes: logical 0, QEMU spapr's KERNEL_LOAD_ADDR. The client
// owns the real-mode interrupt vectors at 0x100.., which a PIE linked at 0 then has in place.
constexpr LogicalAddr kPieBase{0};
// The real-mode area Linux assumes on a POWER8 hash LPAR is at most 1 GiB (ppc64_rma_size).
// RTAS (entered in real mode) and the device tree go at its top, as QEMU's spapr puts them, far
// from the image and initrd at the bottom: a client that ignores the FDT's reserve map and uses
// the memory right above itself does not overwrite them.
constexpr u64 kRmaMax = 1 * GiB;

bool fail(char* why, usize len, const char* msg, unsigned long long a = 0) {
    rt::format(why, len, msg, a);
    return false;
}

} // namespace

bool linux_load(Lpar& lpar, const LinuxImages& images, BootEntry& entry, char* why, usize why_len) {
    LogicalMap& mem = lpar.memory;
    ElfLoaded elf;
    if (!load_elf(mem, linux_images::kernel(mem, images), EM_PPC64, elf, why, why_len, kPieBase,
                  linux_images::keep(images)))
        return false;
    if (!elf.is64) return fail(why, why_len, "the kernel is not a 64-bit ELF");

    // Above the kernel: the initrd (a staged one moves there first, before RTAS and the device
    // tree are written, wherever it was). At the top of the RMA: RTAS, the device tree below it.
    u64 at = align_up(elf.high.value(), 1 * MiB);
    LogicalAddr initrd(at);
    if (images.initrd_size) {
        if (!linux_images::place_initrd(mem, images, initrd))
            return fail(why, why_len, "the initrd does not fit above the kernel in %llu MiB",
                        mem.size() / MiB);
        at = align_up(at + images.initrd_size, 64 * KiB);
    }
    const u64 rma_top = mem.size() < kRmaMax ? mem.size() : kRmaMax;
    if (rma_top < at || rma_top - at < hcall::rtas::kRegionSize)
        return fail(why, why_len, "no room for RTAS above the kernel and initrd in %llu MiB",
                    mem.size() / MiB);
    LogicalAddr rtas(rma_top - hcall::rtas::kRegionSize);
    u8 blob[hcall::kRtasBlobSize];
    usize blob_size = hcall::rtas_blob(blob, sizeof(blob));
    if (!mem.fill(rtas, 0, hcall::rtas::kRegionSize) || !mem.copy_in(rtas, blob, blob_size))
        return fail(why, why_len, "RTAS could not be written");

    const u32 pft_size[] = {0, lpar.arch.htab.shift()};
    const guest_fdt::CellsProperty cpu_props[] = {
        {"ibm,pft-size", pft_size, 2},
        {"ibm,slb-size", kSlbSize, 1},
        {"ibm,processor-segment-sizes", kSegmentSizes, 4},
        {"ibm,segment-page-sizes", kSegmentPageSizes,
         sizeof(kSegmentPageSizes) / sizeof(kSegmentPageSizes[0])},
        {"ibm,vmx", kVmx, 1},
        {"ibm,dfp", kOne, 1},
        {"ibm,purr", kOne, 1},
    };
    guest_fdt::IsaFacts facts;
    facts.cpu_name = "PowerPC,POWER8";
    facts.timebase_hz = plat::timebase_hz();
    facts.clock_hz = 3'425'000'000;
    facts.dcache = {64 * 1024, 128, 128, 0};
    facts.icache = {32 * 1024, 128, 128, 0};
    facts.cpu_props = cpu_props;
    facts.cpu_prop_count = sizeof(cpu_props) / sizeof(cpu_props[0]);
    facts.hypertas = kHypertas;
    facts.hypertas_count = sizeof(kHypertas) / sizeof(kHypertas[0]);

    guest_fdt::Description d;
    d.partition_name = lpar.name;
    d.partition_no = lpar.id;
    d.cpu_count = lpar.vcpu_count;
    d.memory_size = mem.size();
    d.bootargs = images.cmdline;
    d.initrd_start = initrd;
    d.initrd_size = images.initrd_size;
    d.vty_termno = static_cast<u32>(lpar.vty.termno());
    vio::describe(lpar, d);
    d.rtas_base = rtas;
    d.rtas_size = hcall::rtas::kRegionSize;
    d.rtas_tokens = hcall::rtas::tokens();
    d.isa = &facts;
    d.control = lpar.control;
    guest_fdt::Result r = guest_fdt::build(d, fdt_buffer, sizeof(fdt_buffer));
    if (r.error != guest_fdt::Error::None) {
        rt::format(why, why_len, "device tree: %s", guest_fdt::to_string(r.error));
        return false;
    }
    // Right below RTAS, on a 64K boundary (the page size of a 64K-page kernel).
    if (rtas.value() - at < r.size)
        return fail(why, why_len, "no room for the device tree above the kernel and initrd");
    LogicalAddr fdt(align_down(rtas.value() - r.size, 64 * KiB));
    if (fdt.value() < at || !mem.copy_in(fdt, fdt_buffer, r.size))
        return fail(why, why_len, "no room for the device tree above the kernel and initrd");

    entry = BootEntry{elf.entry, {fdt.value(), elf.low.value(), 0, 0}, 3};
    return true;
}

} // namespace tessera::arch
