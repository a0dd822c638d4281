#include "common/vio.hpp"

#include "common/crq.hpp"
#include "common/llan.hpp"
#include "common/tce.hpp"

namespace tessera::vio {

bool Bus::add_window(tce::Window& w) {
    if (window(w.liobn()) != nullptr) return false;
    for (tce::Window*& slot : windows_) {
        if (slot == nullptr) {
            slot = &w;
            return true;
        }
    }
    return false;
}

bool Bus::add_crq(crq::Device& d) {
    if (has_unit(d.unit_address())) return false;
    for (crq::Device*& slot : crqs_) {
        if (slot == nullptr) {
            slot = &d;
            return true;
        }
    }
    return false;
}

crq::Device* Bus::crq(u64 unit_address) const {
    if (unit_address >> 32 != 0) return nullptr;
    for (crq::Device* d : crqs_) {
        if (d != nullptr && d->unit_address() == unit_address) return d;
    }
    return nullptr;
}

void Bus::owner_ended() {
    for (crq::Device* d : crqs_) {
        if (d != nullptr) d->owner_ended();
    }
}

bool Bus::add_lan(llan::Adapter& a) {
    if (has_unit(a.unit_address())) return false;
    for (llan::Adapter*& slot : lans_) {
        if (slot == nullptr) {
            slot = &a;
            return true;
        }
    }
    return false;
}

llan::Adapter* Bus::lan(u64 unit_address) const {
    if (unit_address >> 32 != 0) return nullptr;
    for (llan::Adapter* a : lans_) {
        if (a != nullptr && a->unit_address() == unit_address) return a;
    }
    return nullptr;
}

tce::Window* Bus::window(u64 liobn) const {
    if (liobn >> 32 != 0) return nullptr;
    for (tce::Window* w : windows_) {
        if (w != nullptr && w->liobn() == liobn) return w;
    }
    return nullptr;
}

void Bus::clear() {
    for (tce::Window*& w : windows_) w = nullptr;
    for (llan::Adapter*& a : lans_) a = nullptr;
    for (crq::Device*& d : crqs_) d = nullptr;
}

} // namespace tessera::vio
