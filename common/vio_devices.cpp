#include "common/vio_devices.hpp"

#include "common/guest_fdt.hpp"
#include "common/llan.hpp"
#include "common/lpar.hpp"
#include "common/rt/format.hpp"
#include "common/rt/string.hpp"
#include "common/vswitch.hpp"

namespace tessera::vio {

// The configuration's limits are the devices' (common/lpar_config.hpp cannot include these).
static_assert(kConfigMaxLans == kMaxLansPerLpar);
static_assert(kConfigLanNameMax == llan::kLanNameMax);
static_assert(kConfigLanUnitBase == kLanUnitBase);
static_assert(kConfigMaxLpars <= llan::kMaxLanMembers);
static_assert(kMaxLansPerLpar <= guest_fdt::kMaxLans);
static_assert(kLanFirstIrq + kMaxLansPerLpar <= xics::kFirstSource + xics::kSourceCount);

namespace {

constinit llan::Adapter adapters[kMaxLanAdapters];
constinit usize adapters_used = 0;
constinit llan::Lan lans[kMaxLans];
constinit usize lans_used = 0;

llan::Lan* lan_named(const char* name) {
    for (usize i = 0; i < lans_used; ++i) {
        if (rt::str_compare(lans[i].name(), name) == 0) return &lans[i];
    }
    if (lans_used == kMaxLans) return nullptr;
    lans[lans_used].init(name);
    return &lans[lans_used++];
}

} // namespace

bool attach_lans(Lpar& lpar, const LparConfig& lc, char* why, usize why_len) {
    for (usize i = 0; i < lc.lan_count; ++i) {
        const LanConfig& c = lc.lans[i];
        const u32 ua = kLanUnitBase + static_cast<u32>(i);
        llan::Lan* lan = lan_named(c.name);
        if (ua == lpar.vty.termno()) {
            rt::format(why, why_len, "lan %s: unit address %#x is the vty's", c.name, ua);
            return false;
        }
        if (adapters_used == kMaxLanAdapters || lan == nullptr) {
            rt::format(why, why_len, "lan %s: no room for another adapter or LAN", c.name);
            return false;
        }
        llan::Adapter& a = adapters[adapters_used];
        a.init(lpar, ua, kLanFirstIrq + static_cast<u32>(i), c.mac);
        if (!lpar.vio.add_window(a.window()) || !lpar.vio.add_lan(a) || !lan->join(a)) {
            a.window().unbind();
            rt::format(why, why_len, "lan %s: no room on the LPAR's bus or the LAN", c.name);
            return false;
        }
        ++adapters_used;
    }
    return true;
}

} // namespace tessera::vio
