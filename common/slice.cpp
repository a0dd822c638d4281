#include "common/slice.hpp"

namespace tessera {

SliceNeed slice_need(u64 base, usize contenders, u64 housekeeping) {
    if (contenders != 0 || housekeeping <= base) return SliceNeed{base, false};
    return SliceNeed{housekeeping, true};
}

} // namespace tessera
