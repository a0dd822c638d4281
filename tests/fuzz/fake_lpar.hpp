// Fake real memory for the harnesses that give an LPAR memory: `chunks` chunks of a host buffer
// at real `ram_base` (1 GiB unless given) behind a RealWindow. The LPAR under attack gets the first
// `lpar_chunks`, a neighbour (owner 2) the rest; the neighbour's memory is filled with a pattern
// whose edges neighbour_intact() checks after every input, so a write through a bad translation is
// caught.
#pragma once

#include "common/chunks.hpp"
#include "common/lpar.hpp"
#include "tests/fuzz/fuzz.hpp"

#include <memory>
#include <vector>

namespace tessera::fuzz {

inline constexpr u8 kNeighbourByte = 0xa5;
inline constexpr usize kEdge = 4096; // bytes checked at each end of each neighbour chunk

struct FakeLpar {
    u64 ram_base; // the real address of ram[0]
    std::vector<u8> ram;
    std::unique_ptr<ChunkPool> pool = std::make_unique<ChunkPool>();
    std::unique_ptr<Lpar> lpar = std::make_unique<Lpar>();
    LogicalMap neighbour;
    u32 lpar_chunks;

    FakeLpar(u32 vcpus, u32 chunks, u32 lpar_chunks_, u64 ram_base_ = 1 * GiB)
        : ram_base(ram_base_), ram(usize{chunks} * kChunkSize), lpar_chunks(lpar_chunks_) {
        const RealRange range{RealAddr(ram_base), ram.size()};
        const RealWindow w{reinterpret_cast<uptr>(ram.data()), RealAddr(ram_base), ram.size()};
        FUZZ_CHECK(pool->init(&range, 1, nullptr, 0, w));
        lpar->id = 1;
        FUZZ_CHECK(lpar->memory.assign(*pool, 1, u64{lpar_chunks} * kChunkSize));
        // The guest has used its memory (the pool zeroes a chunk at its first use): harnesses
        // write its buffers straight into `ram`.
        for (u32 c = 0; c < lpar_chunks; ++c)
            FUZZ_CHECK(lpar->memory.host_ptr(LogicalAddr(u64{c} * kChunkSize), 1) != nullptr);
        if (chunks > lpar_chunks)
            FUZZ_CHECK(neighbour.assign(*pool, 2, u64{chunks - lpar_chunks} * kChunkSize));
        std::memset(ram.data() + usize{lpar_chunks} * kChunkSize, kNeighbourByte,
                    ram.size() - usize{lpar_chunks} * kChunkSize);
        setup(vcpus);
    }

    // A fresh LPAR object (state Created) over the same chunks, for every input: the map is
    // moved over, not reassigned (releasing would scrub 16 MiB per chunk). The memory keeps
    // what earlier inputs wrote.
    void reset(u32 vcpus) {
        const LogicalMap keep = lpar->memory;
        lpar = std::make_unique<Lpar>();
        lpar->id = 1;
        lpar->memory = keep;
        setup(vcpus);
    }
    // Created -> Running, vcpu 0 on a CPU, the others Offline.
    void start() {
        FUZZ_CHECK(lpar->mark_loaded() && lpar->start());
        lpar->vcpus[0].state = VcpuState::Running;
    }

    void setup(u32 vcpus) {
        lpar->vcpu_count = vcpus;
        for (u32 i = 0; i < kMaxVcpusPerLpar; ++i) {
            lpar->vcpus[i].index = i;
            lpar->vcpus[i].lpar = lpar.get();
        }
        lpar->xics.reset(vcpus);
    }

    // The real address of the neighbour's first byte.
    u64 neighbour_real() const { return ram_base + u64{lpar_chunks} * kChunkSize; }

    bool neighbour_intact() const {
        for (usize c = lpar_chunks; c < ram.size() / kChunkSize; ++c) {
            const u8* base = ram.data() + c * kChunkSize;
            for (usize i = 0; i < kEdge; ++i)
                if (base[i] != kNeighbourByte || base[kChunkSize - 1 - i] != kNeighbourByte)
                    return false;
        }
        return true;
    }
};

} // namespace tessera::fuzz
