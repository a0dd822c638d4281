// 64-bit atomics for ILP32: GCC emits libatomic calls for 8-byte __atomic loads and stores on
// i686 without SSE; test LPARs have no libatomic, so here they are, on lock cmpxchg8b.
#include <tessera/types.hpp>

using tessera::u64;

namespace {
inline u64 cas8(volatile u64* p, u64 expected, u64 desired) {
    return __sync_val_compare_and_swap(p, expected, desired);
}
} // namespace

extern "C" {
u64 lpar_atomic_load_8(const volatile void* p, int) asm("__atomic_load_8");
void lpar_atomic_store_8(volatile void* p, u64 v, int) asm("__atomic_store_8");
u64 lpar_atomic_exchange_8(volatile void* p, u64 v, int) asm("__atomic_exchange_8");
u64 lpar_atomic_fetch_add_8(volatile void* p, u64 v, int) asm("__atomic_fetch_add_8");

u64 lpar_atomic_load_8(const volatile void* p, int) {
    return cas8(const_cast<volatile u64*>(static_cast<const volatile u64*>(p)), 0, 0);
}
u64 lpar_atomic_exchange_8(volatile void* p, u64 v, int) {
    volatile u64* q = static_cast<volatile u64*>(p);
    u64 old = *q;
    for (;;) {
        u64 seen = cas8(q, old, v);
        if (seen == old) return old;
        old = seen;
    }
}
void lpar_atomic_store_8(volatile void* p, u64 v, int m) {
    lpar_atomic_exchange_8(p, v, m);
}
u64 lpar_atomic_fetch_add_8(volatile void* p, u64 v, int) {
    volatile u64* q = static_cast<volatile u64*>(p);
    u64 old = *q;
    for (;;) {
        u64 seen = cas8(q, old, old + v);
        if (seen == old) return old;
        old = seen;
    }
}
}
