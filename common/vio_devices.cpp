#include "common/vio_devices.hpp"

#include "common/crq.hpp"
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
static_assert(kConfigMaxVscsi == kMaxVscsiPerLpar);
static_assert(kConfigVscsiUnitBase == kVscsiUnitBase);
static_assert(kLanUnitBase + kMaxLansPerLpar <= kVscsiUnitBase);
static_assert(kVscsiFirstIrq + kMaxVscsiPerLpar <= xics::kFirstSource + xics::kSourceCount);
static_assert(kMaxVscsiPerLpar <= guest_fdt::kMaxVscsi);

namespace {

constinit llan::Adapter adapters[kMaxLanAdapters];
constinit usize adapters_used = 0;
constinit llan::Lan lans[kMaxLans];
constinit usize lans_used = 0;

// A v-scsi device and what pairs it: the channel's name and the two LPARs' names.
struct VscsiSlot {
    crq::Device device;
    const char* channel = nullptr;
    const char* server = nullptr;
    const char* client = nullptr;
};
constinit VscsiSlot vscsi[kMaxVscsiDevices];
constinit usize vscsi_used = 0;

crq::Device* vscsi_partner(const VscsiSlot& me) {
    for (usize i = 0; i < vscsi_used; ++i) {
        const VscsiSlot& s = vscsi[i];
        if (&s != &me && s.device.role() != me.device.role() &&
            rt::str_compare(s.channel, me.channel) == 0 &&
            rt::str_compare(s.server, me.server) == 0 && rt::str_compare(s.client, me.client) == 0)
            return const_cast<crq::Device*>(&s.device);
    }
    return nullptr;
}

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

bool attach_vscsi(Lpar& lpar, const Config& config, const LparConfig& lc, char* why,
                  usize why_len) {
    VscsiDevice devs[kMaxVscsiPerLpar];
    const usize n = vscsi_devices(config, lc, devs, kMaxVscsiPerLpar);
    if (n > kMaxVscsiPerLpar) {
        rt::format(why, why_len, "vscsi: %zu devices, at most %zu", n, kMaxVscsiPerLpar);
        return false;
    }
    for (usize i = 0; i < n; ++i) {
        const VscsiDevice& c = devs[i];
        const u32 ua = kVscsiUnitBase + static_cast<u32>(i);
        if (ua == lpar.vty.termno() || c.peer == nullptr || vscsi_used == kMaxVscsiDevices) {
            rt::format(why, why_len, "vscsi %s: no room, no partner or the vty's unit address",
                       c.name);
            return false;
        }
        VscsiSlot& slot = vscsi[vscsi_used];
        slot.device.init(lpar, c.server ? crq::Role::Server : crq::Role::Client, ua,
                         kVscsiFirstIrq + static_cast<u32>(i));
        slot.channel = c.name;
        slot.server = c.server ? lc.name : c.peer->name;
        slot.client = c.server ? c.peer->name : lc.name;
        if (!lpar.vio.add_window(slot.device.window()) || !lpar.vio.add_crq(slot.device)) {
            slot.device.window().unbind();
            rt::format(why, why_len, "vscsi %s: no room on the LPAR's bus", c.name);
            return false;
        }
        ++vscsi_used;
        if (crq::Device* p = vscsi_partner(slot)) {
            if (c.server)
                crq::Device::pair(slot.device, *p);
            else
                crq::Device::pair(*p, slot.device);
        }
    }
    return true;
}

void describe(const Lpar& lpar, guest_fdt::Description& d) {
    d.lan_count = 0;
    d.vscsi_count = 0;
    for (usize i = 0; i < kMaxLansPerLpar && d.lan_count < guest_fdt::kMaxLans; ++i) {
        const llan::Adapter* a = lpar.vio.lan_at(i);
        if (a) d.lans[d.lan_count++] = {a->unit_address(), a->irq(), a->mac(), a->window().size()};
    }
    for (usize i = 0; i < kMaxVscsiPerLpar && d.vscsi_count < guest_fdt::kMaxVscsi; ++i) {
        const crq::Device* v = lpar.vio.crq_at(i);
        if (v)
            d.vscsi[d.vscsi_count++] = {v->role() == crq::Role::Server, v->unit_address(), v->irq(),
                                        v->remote_liobn(), v->window().size()};
    }
}

} // namespace tessera::vio
