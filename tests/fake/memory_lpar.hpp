// An LPAR over fake real memory, as the hypervisor sees it: a host buffer behind a RealWindow at
// real 1 GiB, given to the LPAR as `bytes` of logical memory, with `vcpus` logical CPUs and one
// XICS server each (LPAR id `id`, 1 by default). For hcall tests that read or write guest memory.
#pragma once

#include "common/chunks.hpp"
#include "common/lpar.hpp"

#include <doctest/doctest.h>
#include <memory>
#include <vector>

namespace tessera::test {

struct MemoryLpar {
    static constexpr u64 kRamBase = 1 * GiB;
    std::vector<u8> ram;
    std::unique_ptr<ChunkPool> pool = std::make_unique<ChunkPool>();
    std::unique_ptr<Lpar> lpar = std::make_unique<Lpar>();

    explicit MemoryLpar(u32 vcpus, u64 bytes = kChunkSize, u32 id = 1) : ram(bytes) {
        const RealRange range{RealAddr(kRamBase), bytes};
        const RealWindow w{reinterpret_cast<uptr>(ram.data()), RealAddr(kRamBase), bytes};
        REQUIRE(pool->init(&range, 1, nullptr, 0, w));
        lpar->id = id;
        REQUIRE(lpar->memory.assign(*pool, id, bytes));
        lpar->vcpu_count = vcpus;
        for (u32 i = 0; i < vcpus; ++i) {
            lpar->vcpus[i].index = i;
            lpar->vcpus[i].lpar = lpar.get();
        }
        lpar->xics.reset(vcpus);
    }
    // Created -> Running (vcpu 0 Runnable, the others Offline).
    void start() {
        REQUIRE(lpar->mark_loaded());
        REQUIRE(lpar->start());
    }
};

} // namespace tessera::test
