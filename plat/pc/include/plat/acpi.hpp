// The processors a PC's firmware reports in its ACPI tables (the MADT), found from the RSDP.
//
// Pure logic over a reader of real memory, so that the host tests (tests/unit/pc/) can feed it
// tables of their own; plat/pc/smp.cpp reads through the hypervisor's identity map.
#pragma once

#include <tessera/addr.hpp>
#include <tessera/types.hpp>

namespace tessera::pc::acpi {

// Copies `len` bytes of real memory at `at` into `out`; false where there is no memory.
struct RealReader {
    bool (*read)(const void* ctx, RealAddr at, void* out, usize len);
    const void* ctx;
    bool operator()(RealAddr at, void* out, usize len) const { return read(ctx, at, out, len); }
};

enum class Status {
    Ok,
    NoRsdp,      // no "RSD PTR " with a good checksum in the EBDA's first KiB or 0xe0000-0xfffff
    NoRootTable, // the RSDT (or XSDT) is missing, unreadable or fails its checksum
    NoMadt,      // no table with the signature "APIC"
    BadMadt,     // the MADT fails its checksum or an entry runs past its end
};
const char* to_string(Status s);

inline constexpr u32 kMaxListed = 64;

struct Processors {
    u32 enabled = 0;               // processor entries (local APIC or x2APIC) marked enabled
    u32 disabled = 0;              // entries not enabled (absent or hot-pluggable later)
    u32 apic_ids[kMaxListed] = {}; // the first kMaxListed enabled ones' APIC IDs, in order
};

// Finds the RSDP, its root table and the MADT, and counts the processors the MADT lists.
Status find_processors(const RealReader& memory, Processors& out);

} // namespace tessera::pc::acpi
