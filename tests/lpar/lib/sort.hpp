// Sorting a few measurements (the benchmark LPARs' rounds) in place, ascending: an insertion
// sort, as the programs have a dozen values at most and no library.
#pragma once

#include "lpar.hpp"

namespace lpar {

inline void sort_ascending(u64* v, unsigned n) {
    for (unsigned i = 1; i < n; ++i)
        for (unsigned j = i; j > 0 && v[j - 1] > v[j]; --j) {
            const u64 t = v[j];
            v[j] = v[j - 1];
            v[j - 1] = t;
        }
}

} // namespace lpar
