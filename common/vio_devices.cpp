#include "common/vio_devices.hpp"

#include "common/crq.hpp"
#include "common/guest_fdt.hpp"
#include "common/llan.hpp"
#include "common/lpar.hpp"
#include "common/rt/format.hpp"
#include "common/rt/string.hpp"
#include "common/vswitch.hpp"

#include <tessera/bundle_format.hpp>

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

// An entry is in use while its device has an LPAR (release() gives it back).
constinit llan::Adapter adapters[kMaxLanAdapters];
constinit llan::Lan lans[kMaxLans]; // a Lan with no members is free (lans_used: high-water mark)
constinit usize lans_used = 0;

// A v-scsi device and what pairs it: the channel's name and the two LPARs' names.
// A slot is in use while its device has an LPAR.
struct VscsiSlot {
    crq::Device device;
    const char* channel = nullptr;
    const char* server = nullptr;
    const char* client = nullptr;
    bool used() const { return device.lpar() != nullptr; }
};
constinit VscsiSlot vscsi[kMaxVscsiDevices];

crq::Device* vscsi_partner(const VscsiSlot& me) {
    for (const VscsiSlot& s : vscsi) {
        if (&s != &me && s.used() && s.device.role() != me.device.role() &&
            rt::str_compare(s.channel, me.channel) == 0 &&
            rt::str_compare(s.server, me.server) == 0 && rt::str_compare(s.client, me.client) == 0)
            return const_cast<crq::Device*>(&s.device);
    }
    return nullptr;
}

// The LAN of that name: the existing one, else a new one in a free entry (or null when none).
llan::Lan* lan_named(const char* name) {
    llan::Lan* free = nullptr;
    for (usize i = 0; i < lans_used; ++i) {
        if (lans[i].member_count() == 0) {
            if (free == nullptr) free = &lans[i];
            continue;
        }
        if (rt::str_compare(lans[i].name(), name) == 0) return &lans[i];
    }
    if (free == nullptr && lans_used < kMaxLans) free = &lans[lans_used++];
    if (free != nullptr) free->init(name);
    return free;
}

llan::Adapter* free_adapter() {
    for (llan::Adapter& a : adapters)
        if (a.lpar() == nullptr) return &a;
    return nullptr;
}

// Adapter i of the LPAR on LAN `name` with `mac`.
bool attach_lan(Lpar& lpar, usize i, const char* name, u64 mac, char* why, usize why_len) {
    const u32 ua = kLanUnitBase + static_cast<u32>(i);
    if (ua == lpar.vty.termno()) {
        rt::format(why, why_len, "lan %s: unit address %#x is the vty's", name, ua);
        return false;
    }
    llan::Adapter* a = free_adapter();
    llan::Lan* lan = a != nullptr ? lan_named(name) : nullptr;
    if (lan == nullptr) {
        rt::format(why, why_len, "lan %s: no room for another adapter or LAN", name);
        return false;
    }
    if (lan->has_mac(mac)) {
        rt::format(why, why_len, "lan %s: another adapter on it has this LPAR's MAC", name);
        return false;
    }
    a->init(lpar, ua, kLanFirstIrq + static_cast<u32>(i), mac);
    if (!lpar.vio.add_window(a->window()) || !lpar.vio.add_lan(*a) || !lan->join(*a)) {
        a->release();
        rt::format(why, why_len, "lan %s: no room on the LPAR's bus or the LAN", name);
        return false;
    }
    return true;
}

} // namespace

bool attach_lans(Lpar& lpar, const LparConfig& lc, char* why, usize why_len) {
    for (usize i = 0; i < lc.lan_count; ++i) {
        if (!attach_lan(lpar, i, lc.lans[i].name, lc.lans[i].mac, why, why_len)) return false;
    }
    return true;
}

bool attach_lan_list(Lpar& lpar, const char* list, char* why, usize why_len) {
    char names[kMaxLansPerLpar][kConfigLanNameMax] = {};
    usize n = 0;
    for (const char* p = list != nullptr ? list : ""; *p;) {
        if (*p == ' ' || *p == ',') {
            ++p;
            continue;
        }
        usize len = 0;
        while (p[len] && p[len] != ' ' && p[len] != ',') ++len;
        bool good = len < kConfigLanNameMax && bundle::is_name_start(p[0]);
        for (usize i = 0; good && i < len; ++i) good = bundle::is_name_char(p[i]) && p[i] != '+';
        if (!good) {
            rt::format(why, why_len, "lan '%.*s': use up to %zu letters, digits, '.', '_', '-'",
                       static_cast<int>(len < 40 ? len : 40), p, kConfigLanNameMax - 1);
            return false;
        }
        if (n == kMaxLansPerLpar) {
            rt::format(why, why_len, "more than %zu LANs", kMaxLansPerLpar);
            return false;
        }
        rt::mem_copy(names[n], p, len);
        names[n][len] = '\0';
        for (usize j = 0; j < n; ++j) {
            if (rt::str_compare(names[j], names[n]) == 0) {
                rt::format(why, why_len, "lan %s: named twice", names[n]);
                return false;
            }
        }
        ++n;
        p += len;
    }
    for (usize i = 0; i < n; ++i) {
        if (!attach_lan(lpar, i, names[i], derived_mac(lpar.name, names[i]), why, why_len)) {
            release(lpar);
            return false;
        }
    }
    return true;
}

void release(Lpar& lpar) {
    for (usize i = 0; i < kMaxLansPerLpar; ++i) {
        llan::Adapter* a = lpar.vio.lan_at(i);
        if (a == nullptr) continue;
        if (a->lan() != nullptr) a->lan()->leave(*a);
        a->release();
    }
    for (usize i = 0; i < kMaxVscsiPerLpar; ++i) {
        crq::Device* d = lpar.vio.crq_at(i);
        if (d == nullptr) continue;
        d->release();
        for (VscsiSlot& s : vscsi) {
            if (&s.device != d) continue;
            s.channel = s.server = s.client = nullptr;
        }
    }
    lpar.vio.clear();
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
        VscsiSlot* free = nullptr;
        for (VscsiSlot& s : vscsi)
            if (free == nullptr && !s.used()) free = &s;
        if (ua == lpar.vty.termno() || c.peer == nullptr || free == nullptr) {
            rt::format(why, why_len, "vscsi %s: no room, no partner or the vty's unit address",
                       c.name);
            return false;
        }
        VscsiSlot& slot = *free;
        slot.device.init(lpar, c.server ? crq::Role::Server : crq::Role::Client, ua,
                         kVscsiFirstIrq + static_cast<u32>(i));
        slot.channel = c.name;
        slot.server = c.server ? lc.name : c.peer->name;
        slot.client = c.server ? c.peer->name : lc.name;
        if (!lpar.vio.add_window(slot.device.window()) || !lpar.vio.add_crq(slot.device)) {
            slot.device.release();
            rt::format(why, why_len, "vscsi %s: no room on the LPAR's bus", c.name);
            return false;
        }
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
