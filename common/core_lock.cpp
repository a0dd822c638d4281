#include "common/core_lock.hpp"

namespace tessera {
namespace {
constinit Spinlock lock;
}

Spinlock& core_lock() {
    return lock;
}

} // namespace tessera
