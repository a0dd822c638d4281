// The LPAR configuration language, version 1 (docs/bundle-format.md): a line-oriented text that
// names each LPAR and its memory, logical CPUs, images (bundle entries), command line and console.
//
//   tessera-config 1
//   # comment
//   [lpar alpha]
//   memory = 256M            # a multiple of 16M, at most 4G
//   cpus = 2                 # 1..8, default 1
//   kernel = vmlinux         # a bundle entry (required)
//   initrd = initrd.img      # a bundle entry (optional)
//   cmdline = "console=hvc0" # a quoted string, escapes \" and \\ (optional)
//   console = yes            # multiplexed to the machine console: yes | no (default yes)
//   vty = 0x30000000         # the vty's unit address (default 0x30000000)
//   kind = linux             # linux | test (default linux)
//   control = no             # may manage other LPARs (docs/management.md): yes | no
//   lan = net0               # on logical LAN net0 (repeatable), optionally with a MAC:
//   lan = net1 02:00:00:00:00:01
//   cpu-affinity = 1,2-3     # physical CPUs its vcpus may run on (default: any)
//
// parse_config() checks the text alone; check_config_against_bundle() checks its references to
// the bundle. Both report the first problem as "FILE:LINE: message".
#pragma once

#include <tessera/bundle_format.hpp>
#include <tessera/types.hpp>

#include "common/bundle.hpp"

namespace tessera {

inline constexpr u32 kConfigVersion = 1;
inline constexpr usize kConfigMaxLpars = 16;       // = kMaxLpars (common/lpar.hpp)
inline constexpr u32 kConfigMaxCpus = 8;           // = kMaxVcpusPerLpar (common/lpar.hpp)
inline constexpr usize kConfigNameMax = 32;        // = kLparNameMax, including the terminator
inline constexpr u64 kConfigMemoryUnit = 16 * MiB; // = kChunkSize (common/chunks.hpp)
inline constexpr u64 kConfigMaxMemory = 4 * GiB;   // = kMaxLparChunks * kChunkSize
inline constexpr usize kConfigCmdlineMax = 1024;   // including the terminator
inline constexpr usize kConfigFileMax = 128;       // the file name kept for messages (truncated)
inline constexpr u32 kConfigDefaultVty = 0x3000'0000;
inline constexpr usize kConfigMaxLans = 4;      // per LPAR; = vio::kMaxLansPerLpar
inline constexpr usize kConfigLanNameMax = 32;  // = llan::kLanNameMax, including the terminator
inline constexpr u32 kConfigMaxPcpus = 32;      // = kMaxPcpus (common/sched.hpp)
inline constexpr usize kConfigMaxLanNames = 8;  // distinct LANs in the machine
inline constexpr usize kConfigMaxAdapters = 16; // l-lan adapters in the machine
inline constexpr u32 kConfigLanUnitBase = 0x3000'0002; // = vio::kLanUnitBase
inline constexpr usize kConfigMaxVscsi = 8;      // v-scsi devices per LPAR; = vio::kMaxVscsiPerLpar
inline constexpr usize kConfigMaxVscsiPairs = 8; // server/client pairs in the machine
inline constexpr u32 kConfigVscsiUnitBase = 0x3000'0010; // = vio::kVscsiUnitBase

// How the hypervisor enters an LPAR's kernel.
enum class LparKind : u8 {
    Linux, // the ISA's Linux boot protocol (device tree / boot_params, command line, initrd)
    Test,  // a Tessera test-LPAR program (tests/): entered at its start, no boot protocol
};

const char* to_string(LparKind k);

// How a test run judges the LPAR's end (`expect = exit|crash`): a misbehaving test LPAR is
// expected to be stopped by the hypervisor, and that counts as a passed check.
enum class LparExpect : u8 { Exit, Crash };

// `lan = NAME [MAC]`: the LPAR has an l-lan adapter on the logical LAN NAME. Without a MAC it
// gets a stable locally administered one derived from the LPAR's and the LAN's names.
struct LanConfig {
    char name[kConfigLanNameMax] = {};
    u64 mac = 0; // mac[0] in bits 47..40 (PAPR's register encoding)
    bool mac_given = false;
    u32 line = 0;
};

// `vscsi-server = NAME` (the LPAR serves disks on the channel NAME) or `vscsi = NAME` (the LPAR
// is a client of NAME's server). Names share the LAN names' rules and length.
struct VscsiConfig {
    char name[kConfigLanNameMax] = {};
    u32 line = 0;
};

// The MAC an adapter gets when its `lan =` line names none: 02:xx:xx:xx:xx:xx, the rest a hash
// of the LPAR's and the LAN's names (the same in every boot).
u64 derived_mac(const char* lpar, const char* lan);

struct LparConfig {
    char name[kConfigNameMax] = {};
    u64 memory = 0; // bytes, a non-zero multiple of kConfigMemoryUnit, at most kConfigMaxMemory
    u32 cpus = 1;
    char kernel[bundle::kNameSize] = {}; // bundle entry name
    char initrd[bundle::kNameSize] = {}; // bundle entry name, or empty for none
    char cmdline[kConfigCmdlineMax] = {};
    bool console = true;
    bool control = false; // may use the LPAR management hcalls (docs/management.md)
    u32 cpu_affinity = 0; // bit n: its vcpus may run on physical CPU n; 0 = on any
    u32 vty = kConfigDefaultVty;
    LparKind kind = LparKind::Linux;
    LparExpect expect = LparExpect::Exit;
    LanConfig lans[kConfigMaxLans];
    usize lan_count = 0;
    VscsiConfig vscsi[kConfigMaxVscsi]; // client lines, in order
    usize vscsi_count = 0;
    VscsiConfig vscsi_serves[kConfigMaxVscsi]; // server lines, in order
    usize vscsi_serve_count = 0;

    // Where things were written, for messages (0: not written).
    u32 line = 0; // the [lpar NAME] line
    u32 memory_line = 0;
    u32 kernel_line = 0;
    u32 initrd_line = 0;

    bool has_initrd() const { return initrd[0] != '\0'; }
};

struct Config {
    u32 version = 0;
    char file[kConfigFileMax] = {}; // the name used in messages
    LparConfig lpars[kConfigMaxLpars];
    usize count = 0; // 0 until parse_config() succeeded

    const LparConfig* find(const char* name) const;
    const LparConfig* begin() const { return lpars; }
    const LparConfig* end() const { return lpars + count; }
};

// The v-scsi devices of an LPAR, in unit-address order (kConfigVscsiUnitBase + index): first one
// client device per `vscsi =` line, then one server device per client of each `vscsi-server =`
// line (its clients in file order). `peer` is the LPAR at the other end.
struct VscsiDevice {
    bool server = false;
    const char* name = nullptr;
    const LparConfig* peer = nullptr;
    u32 line = 0; // the line that created it (the client's line for a server device)
};
// Fills out[0..n) (n <= cap) and returns the count (it may be larger than cap).
usize vscsi_devices(const Config& config, const LparConfig& lpar, VscsiDevice* out, usize cap);

// Parses `len` bytes of configuration text (not necessarily NUL-terminated) named `file` in
// messages. On success fills `out` (LPARs in file order) and returns true; on failure returns
// false with "FILE:LINE: message" in `err` and out.count == 0.
bool parse_config(const char* file, const char* text, usize len, Config& out, InputError& err);

// Checks a parsed configuration against its bundle: every kernel names an entry of kind kernel,
// every initrd an entry of kind initrd, and each LPAR's memory can hold its kernel and initrd.
// Messages name the line, the LPAR and the key: "lpars.conf:5: lpar alpha: kernel: ...".
bool check_config_against_bundle(const Config& config, const Bundle& bundle, InputError& err);

} // namespace tessera
