// The core lock: one ticket spinlock (common/spinlock.hpp) for all of the ISA-neutral core's
// shared state when several physical CPUs run the hypervisor.
//
// Rule: a physical CPU holds it whenever it is in hypervisor context and touches the core: the
// scheduler, the LPAR table and every LPAR's lifecycle, vcpus, memory map, virtual XICS, vty,
// logical devices, the console multiplexer, the chunk pool, the log. It is dropped only
// while a guest runs (arch::vcpu_run, around the world switch) and while a CPU idles
// (plat::idle_cpu). Guests therefore run in parallel; hypervisor work (hcalls, exits, the
// scheduler) is serialised. See docs/architecture.md, "Several physical CPUs".
#pragma once

#include "common/spinlock.hpp"

namespace tessera {

namespace detail {
inline constinit Spinlock the_core_lock;
} // namespace detail

// Inline: every exit takes it, the page-table hcalls' short one too.
inline Spinlock& core_lock() {
    return detail::the_core_lock;
}

} // namespace tessera
