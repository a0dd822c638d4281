// The machine's virtual I/O devices, in static tables sized by the configuration's limits: the
// l-lan adapters (with their TCE windows) and the named LANs they sit on. Boot creates them from
// the LPAR configuration; afterwards they are owned by the run loop's CPU (on SMP: each LAN's
// lock covers its member adapters).
#pragma once

#include <tessera/types.hpp>

#include "common/guest_fdt.hpp"
#include "common/lpar_config.hpp"

namespace tessera {
class Lpar;
}

namespace tessera::vio {

inline constexpr usize kMaxLanAdapters = kConfigMaxAdapters;
inline constexpr usize kMaxLans = kConfigMaxLanNames;
inline constexpr usize kMaxVscsiDevices = 2 * kConfigMaxVscsiPairs;

// Gives the LPAR (its memory assigned) an l-lan adapter per `lan =` line, in order: unit address
// and LIOBN kLanUnitBase + i, interrupt source kLanFirstIrq + i, the configured MAC; each joins
// the LAN of its name (created on first use). False with the reason when a table is full or a
// unit address is taken (the vty's, say).
bool attach_lans(Lpar& lpar, const LparConfig& lc, char* why, usize why_len);

// A run-time LPAR's LANs (TLPAR_CREATE): `list` names them, separated by spaces or commas (at
// most kMaxLansPerLpar, each named as a configuration's `lan =` line would be, none twice). The
// i-th gets what a configured LPAR's i-th `lan =` line without a MAC gets (derived_mac of the
// two names). All or nothing: false with the reason, and no device attached, when a name is
// bad, a table or a LAN is full, or an adapter on that LAN has the MAC already.
bool attach_lan_list(Lpar& lpar, const char* list, char* why, usize why_len);

// Takes the LPAR's devices out of the tables (it is being destroyed; it has ended or never
// ran): its adapters leave their LANs, its v-scsi devices lose their partners and the partners
// them, every window is unbound and the bus cleared. The entries, and a LAN nobody is on any
// more, are free for another LPAR, so nothing in the tables names this one afterwards.
void release(Lpar& lpar);

// Gives the LPAR its v-scsi devices (client and server CRQ devices, common/crq.hpp) in the
// order vscsi_devices() lists them: unit address and LIOBN kVscsiUnitBase + i, interrupt source
// kVscsiFirstIrq + i. Each is paired with its partner if that LPAR's devices exist already (LPARs
// are created in file order; the later one pairs both). False with the reason when a table is
// full or a unit address is taken.
bool attach_vscsi(Lpar& lpar, const Config& config, const LparConfig& lc, char* why, usize why_len);

// The LPAR's devices as its guest device tree describes them (guest_fdt's l-lan, v-scsi and
// v-scsi-host nodes, in bus order): fills d.lans / d.lan_count and d.vscsi / d.vscsi_count. Both
// ISAs' Linux loaders use it, so pseries and pc guests see the same nodes.
void describe(const Lpar& lpar, guest_fdt::Description& d);

} // namespace tessera::vio
