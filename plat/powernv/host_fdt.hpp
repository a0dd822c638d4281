// What the hypervisor learns from the host device tree skiboot hands over in r3.
#pragma once

#include "isa/ppc64/cpu_char.hpp"

#include <tessera/arch.hpp>

namespace tessera::powernv {

struct HostInfo {
    static constexpr usize kMaxRanges = 16;
    RealRange ram[kMaxRanges];
    usize ram_count = 0;
    RealRange reserved[kMaxRanges];
    usize reserved_count = 0;
    RealRange bundle;    // /chosen linux,initrd-start..end
    u64 timebase_hz = 0; // /cpus/*/timebase-frequency
    u64 l1d_bytes = 0;   // /cpus/*/d-cache-size (0: not given)
    u32 cpu_threads = 0; // ibm,ppc-interrupt-server#s entries over all cpu nodes
    // One physical CPU per core: the first thread (interrupt server = PIR) of each cpu node,
    // with its ICP's MMIO base (an "IBM,ppc-xicp" node's reg for that server; 0 when none).
    static constexpr usize kMaxCores = 16;
    struct Core {
        u32 pir = 0;
        u64 icp = 0;
    };
    Core cores[kMaxCores];
    usize core_count = 0;
    // /ibm,opal/fw-features: the chip's speculation facts as the firmware states them (on QEMU's
    // powernv there are none: fw.present stays false).
    arch::FwFeatures fw;
};

// Reads the tree; returns false (with a message on the console) if it is not a valid FDT.
bool read_host_fdt(const void* fdt, HostInfo& out);

} // namespace tessera::powernv
