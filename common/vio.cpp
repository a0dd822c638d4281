#include "common/vio.hpp"

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

tce::Window* Bus::window(u64 liobn) const {
    if (liobn >> 32 != 0) return nullptr;
    for (tce::Window* w : windows_) {
        if (w != nullptr && w->liobn() == liobn) return w;
    }
    return nullptr;
}

void Bus::clear() {
    for (tce::Window*& w : windows_) w = nullptr;
}

} // namespace tessera::vio
