// The device tree a pseries (PAPR) LPAR boots with, built with libfdt's sequential-write API into
// a caller's buffer; the caller copies it into the LPAR's logical memory and enters the kernel
// kexec-style (ppc64: r3 = the tree's logical address).
//
// ISA-neutral: the caller describes the LPAR (Description) and the ISA fills IsaFacts with its CPU
// node properties and the hcall function sets its own hcalls implement; this file knows property
// names only. What it writes (Linux 6.1 pseries needs every item marked *):
//   /            device_type "chrp"*, model, compatible, #address-cells = #size-cells = <2>*,
//                ibm,partition-name; header boot_cpuid_phys = 0* (vcpu 0 boots)
//   /chosen      bootargs, linux,initrd-start/-end (64-bit, when there is an initrd),
//                linux,stdout-path and stdout-path = "/vdevice/vty@<termno>"*
//   /cpus        #address-cells <1>, #size-cells <0>; per logical CPU i: <IsaFacts::cpu_name>@i
//                with device_type "cpu"*, reg = <i>, ibm,ppc-interrupt-server#s = <i>*,
//                timebase-frequency*, clock-frequency, d-/i-cache-size/-line-size/-block-size/
//                -sets, status "okay", then IsaFacts::cpu_props (ibm,pft-size*, ...)
//   /memory@0    device_type "memory"*, reg = <0 size>*
//   /rtas        ibm,hypertas-functions* ("hcall-term", "hcall-interrupt" for the ISA-neutral
//                hcalls, then IsaFacts::hypertas), linux,rtas-base*, linux,rtas-entry, rtas-size*
//                (left out with the reserve map entry when rtas_size is 0: pc, RTAS by H_RTAS),
//                rtas-error-log-max, rtas-event-scan-rate, ibm,extended-os-term (so a panicking
//                Linux calls ibm,os-term), one u32 property per RTAS token
//   /interrupt-controller  device_type "PowerPC-External-Interrupt-Presentation", compatible
//                "IBM,ppc-xicp"*, interrupt-controller, #address-cells <0>, #interrupt-cells <2>,
//                ibm,interrupt-server-ranges = <0 cpu_count>
//   /vdevice     device_type "vdevice"*, compatible "IBM,vdevice", #address-cells <1>,
//                #size-cells <0>, #interrupt-cells <2>*, interrupt-controller* (children's
//                interrupts resolve here); vty@<termno>: device_type "serial"*, compatible
//                "hvterm1"*, reg = <termno>* (no interrupts property: hvc_vio polls);
//                l-lan@<ua> per logical LAN adapter (ibmveth): device_type "network"*, compatible
//                "IBM,l-lan"*, reg = <ua>*, interrupts = <source 0>* (0: edge),
//                ibm,my-dma-window = <liobn 0 0 size-hi size-lo>* with ibm,#dma-address-cells
//                = ibm,#dma-size-cells = <2>* (else Linux parses the window's size with /vdevice's
//                #size-cells, 0), local-mac-address* and mac-address (6 bytes),
//                ibm,mac-address-filters = <0>*; no ibm,illan-options (no checksum offload)
//                v-scsi@<ua> per v-scsi client (ibmvscsi): device_type "vscsi"*, compatible
//                "IBM,v-scsi"*, reg, interrupts and a one-window ibm,my-dma-window as l-lan;
//                v-scsi-host@<ua> per v-scsi server device (ibmvscsis): device_type
//                "v-scsi-host"*, compatible "IBM,v-scsi-host"*, empty ibm,vserver, and two
//                windows in ibm,my-dma-window*: <local-liobn 0 0 size> <remote-liobn 0 0 size>
//                (the remote one is the client's window, for H_COPY_RDMA); no
//                ibm,max-virtual-dma-size (ibmvscsis reads it with the wrong byte order)
//   reserve map  the RTAS region
// Left out on purpose: ibm,architecture-vec-5 (keeps Linux on the hash MMU and XICS) and an ICS
// node (Linux's ics-rtas needs only the ibm,get-xive/set-xive tokens).
//
// Placement (the loader's job): Linux reads the tree and calls RTAS in real mode, so both must lie
// in the RMA, which Linux takes as min(memory, 1 GiB) before POWER9. For instance the RTAS blob at
// rma_top - hcall::rtas::kRegionSize and the tree in the kMaxSize below it, clear of the kernel
// (at 0, up to its _end) and the initrd. Linux reserves the tree, the initrd and its own image by
// itself; the RTAS region is in the reserve map.
#pragma once

#include <tessera/addr.hpp>
#include <tessera/types.hpp>

namespace tessera::guest_fdt {

// Room that always suffices for kMaxCpus CPUs, bootargs up to kMaxBootargs and the IsaFacts of
// the supported ISAs; the finished tree is much smaller (build() reports its size).
inline constexpr usize kMaxSize = 64 * KiB;
inline constexpr u32 kMaxCpus = 64;            // Tessera LPARs have at most 8; about 400 bytes each
inline constexpr usize kMaxBootargs = 4 * KiB; // including the terminator

// A property made of 32-bit cells, written big-endian.
struct CellsProperty {
    const char* name = nullptr;
    const u32* cells = nullptr;
    usize count = 0; // 0: an empty property (a flag such as "ibm,vmx" without a value is not one)
};

// One cache level as the OF CPU binding describes it; size 0 leaves its properties out.
struct Cache {
    u32 size = 0;       // bytes
    u32 line_size = 0;  // bytes
    u32 block_size = 0; // bytes (the dcbz / icbi granule)
    u32 sets = 0;       // 0: not written
};

// What the ISA knows: its CPU nodes and the hcall function sets its own hcalls implement.
struct IsaFacts {
    const char* cpu_name = nullptr; // node name before '@', e.g. "PowerPC,POWER8"
    u64 timebase_hz = 0;            // timebase-frequency: 1..0xffffffff
    u64 clock_hz = 0;               // clock-frequency: 1..0xffffffff
    Cache dcache;
    Cache icache;
    const CellsProperty* cpu_props = nullptr; // the same for every CPU node
    usize cpu_prop_count = 0;
    const char* const* hypertas = nullptr; // ibm,hypertas-functions entries, e.g. "hcall-pft"
    usize hypertas_count = 0;
};

// An RTAS service the LPAR may call: a /rtas property `name` = <token>.
struct RtasToken {
    const char* name = nullptr;
    u32 token = 0;
};

struct RtasTokens {
    const RtasToken* entries = nullptr;
    usize count = 0;
};

// A logical LAN adapter (common/llan.hpp) as the guest sees it.
struct Lan {
    u32 unit_address = 0; // reg, and the LIOBN of its TCE window
    u32 irq = 0;          // its XICS source
    u64 mac = 0;          // mac[0] in bits 47..40
    u64 window_size = 0;  // bytes of IOBA space
};
inline constexpr usize kMaxLans = 4;

// A v-scsi device (common/crq.hpp): a client's one window or a server's two.
struct Vscsi {
    bool server = false;
    u32 unit_address = 0; // reg, and the LIOBN of its own window
    u32 irq = 0;
    u32 remote_liobn = 0; // servers: the remote window's LIOBN
    u64 window_size = 0;  // both windows' size
};
inline constexpr usize kMaxVscsi = 8;

struct Description {
    const char* partition_name = nullptr; // ibm,partition-name (the LPAR's name); null: left out
    u32 partition_no =
        0; // ibm,partition-no (the LPAR's id; ibmvscsi/ibmvscsis log it); 0: left out
    const char* model = "Tessera,pSeries-LPAR";
    const char* compatible = "tessera,pseries";
    u32 cpu_count = 1;              // logical CPUs 0..cpu_count-1 = XICS servers; CPU 0 boots
    u64 memory_size = 0;            // logical memory [0, memory_size)
    const char* bootargs = nullptr; // null: no bootargs property
    LogicalAddr initrd_start;
    u64 initrd_size = 0; // 0: no initrd properties
    u32 vty_termno = 0x30000000;
    Lan lans[kMaxLans];
    usize lan_count = 0;
    Vscsi vscsi[kMaxVscsi];
    usize vscsi_count = 0;
    // Where the caller puts the RTAS blob (hcall/rtas.hpp rtas_blob()); the region is reserved.
    // rtas_size 0: no blob (the guest calls RTAS through H_RTAS, as on pc); the tokens are
    // still listed.
    LogicalAddr rtas_base;
    u32 rtas_size = 0;
    RtasTokens rtas_tokens; // hcall::rtas::tokens()
    const IsaFacts* isa = nullptr;
    // A control LPAR (docs/management.md): a /tessera-lpar-control node (compatible
    // "tessera,lpar-control", the hcall block's first and last number) tells its driver that the
    // management hcalls answer.
    bool control = false;
};

enum class Error : u8 {
    None,
    BadBuffer,      // null or not 8-byte aligned (libfdt reads need 8-byte alignment)
    NoSpace,        // the buffer is too small; nothing usable was written
    BadDescription, // see check() in guest_fdt.cpp: missing ISA facts, sizes out of range...
    Libfdt,         // any other libfdt failure (a bug): `libfdt_error` says which
};
const char* to_string(Error e);

struct Result {
    Error error = Error::None;
    usize size = 0;       // bytes of the finished tree (its totalsize) when error is None
    int libfdt_error = 0; // the negative FDT_ERR_* code behind NoSpace / Libfdt
};

// Builds the tree into buf[0, capacity). Never writes outside the buffer; on error the buffer
// holds nothing usable.
Result build(const Description& d, void* buf, usize capacity);

} // namespace tessera::guest_fdt
