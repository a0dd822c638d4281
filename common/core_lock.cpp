#include "common/core_lock.hpp"
#include <tessera/hot.hpp>

namespace tessera {
namespace {
constinit Spinlock lock;
}

TESSERA_HOT Spinlock& core_lock() {
    return lock;
}

} // namespace tessera
