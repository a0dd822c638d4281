#include "common/vswitch.hpp"

#include "common/lpar.hpp"
#include "common/rt/string.hpp"

namespace tessera::llan {

void Lan::init(const char* name) {
    rt::str_copy(name_, name, sizeof name_);
    for (Adapter*& m : members_) m = nullptr;
    count_ = 0;
}

bool Lan::join(Adapter& a) {
    if (count_ == kMaxLanMembers) return false;
    members_[count_++] = &a;
    a.set_lan(this);
    return true;
}

void Lan::leave(Adapter& a) {
    for (usize i = 0; i < count_; ++i) {
        if (members_[i] != &a) continue;
        for (usize j = i + 1; j < count_; ++j) members_[j - 1] = members_[j];
        members_[--count_] = nullptr;
        a.set_lan(nullptr);
        return;
    }
}

bool Lan::has_mac(u64 mac) const {
    for (usize i = 0; i < count_; ++i)
        if (members_[i]->mac() == mac) return true;
    return false;
}

hcall::Ret Lan::forward(const Adapter& from, const TxFrame& frame) {
    bool dropped = false;
    for (usize i = 0; i < count_; ++i) {
        Adapter& to = *members_[i];
        if (&to == &from || !to.lpar()->is_live() || !to.accepts(frame.dst_mac)) continue;
        const Adapter::Rx r = to.receive(frame);
        dropped |= r == Adapter::Rx::NoBuffer || r == Adapter::Rx::Fault;
    }
    return dropped ? hcall::H_DROPPED : hcall::H_SUCCESS;
}

} // namespace tessera::llan
