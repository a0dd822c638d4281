#include "vio_attack.hpp"

namespace lpar::vio_attack {
namespace {

using namespace tessera::hcall;

constexpr u64 kUa = 0x30000002; // the first l-lan adapter; its LIOBN is the same number
constexpr u64 kWindow = 64 * tessera::MiB;
constexpr u64 kPage = 4096;
constexpr u64 kDmaPages = 16;
constexpr u64 kCanaryPages = 4;
constexpr u8 kCanaryByte = 0x5c;
constexpr u64 kValid = u64{0x80} << 56;

// The only pages ever mapped with access, then the canary that never is.
alignas(4096) u8 dma[kDmaPages * kPage];
alignas(4096) u8 canary[kCanaryPages * kPage];
// H_PUT_TCE_INDIRECT's list: never mapped, so no frame can rewrite it between fill and call.
alignas(4096) u8 tce_list[kPage];

u64 la(const void* p) {
    return static_cast<u64>(reinterpret_cast<uintptr_t>(p));
}

u64 pick_ioba(Lcg& rng) {
    switch (rng.below(6)) {
    case 0:
        return kWindow - kPage * (1 + rng.below(2));
    case 1:
        return kWindow + rng.below(3) * kPage;
    case 2:
        return rng.next();
    default:
        return rng.below(24) * kPage + (rng.below(4) == 0 ? rng.below(kPage) : 0);
    }
}

// A TCE: access bits only ever with a DMA page (else the address is one that must be refused).
u64 pick_tce(Lcg& rng, const Boot& b) {
    const u64 access = rng.below(4);
    const u64 reserved = rng.below(8) == 0 ? 0xffc : 0;
    switch (rng.below(8)) {
    case 0:
        return b.memory_size | access | reserved; // past the end
    case 1:
        return (u64{1} << (40 + rng.below(23))) | access;
    case 2: // the canary, without access: the address must not matter
        return la(canary) + rng.below(kCanaryPages) * kPage;
    case 3:
        return la(canary) | reserved; // also without access
    default:
        return (la(dma) + rng.below(kDmaPages) * kPage) | access | reserved;
    }
}

u64 pick_desc(Lcg& rng) {
    static constexpr u64 kLens[] = {0,    1,    14,   16,   60,    64,      512,
                                    1514, 2048, 4096, 8192, 65536, 0xffffff};
    const u64 len = kLens[rng.below(sizeof kLens / sizeof kLens[0])];
    const u64 ctl = rng.below(8) == 0 ? rng.below(256) : 0x80;
    return ctl << 56 | len << 32 | (pick_ioba(rng) & 0xffff'ffff);
}

void count(Counts& c, i64 status) {
    ++c.hcalls;
    if (status == H_SUCCESS) ++c.accepted;
    if (!valid_status(status)) ++c.bad_status;
}

} // namespace

bool available() {
    return hcall(H_VIO_SIGNAL, kUa, 0).status == H_SUCCESS;
}

void prepare() {
    for (u8& x : canary) x = kCanaryByte;
}

void round(Lcg& rng, const Boot& b, unsigned calls, Counts& c) {
    for (unsigned i = 0; i < calls; ++i) {
        i64 st = 0;
        switch (rng.below(12)) {
        case 0:
        case 1:
            st = hcall(H_PUT_TCE, kUa, pick_ioba(rng), pick_tce(rng, b)).status;
            break;
        case 2:
            st = hcall(H_GET_TCE, kUa, pick_ioba(rng)).status;
            break;
        case 3: {
            static constexpr u64 kCounts[] = {0, 1, 16, 16384, 16385, ~u64{0}};
            st = hcall(H_STUFF_TCE, kUa, pick_ioba(rng), pick_tce(rng, b),
                       kCounts[rng.below(sizeof kCounts / sizeof kCounts[0])])
                     .status;
            break;
        }
        case 4: {
            const u64 n = rng.below(8);
            for (u64 k = 0; k < n; ++k) {
                const u64 t = pick_tce(rng, b);
                for (int j = 0; j < 8; ++j)
                    tce_list[8 * k + j] = static_cast<u8>(t >> (56 - 8 * j));
            }
            st = hcall(H_PUT_TCE_INDIRECT, kUa, pick_ioba(rng), la(tce_list), n).status;
            break;
        }
        case 5: // the areas at IOBA pages 0..3, mapped or not at the moment
            st = hcall(H_REGISTER_LOGICAL_LAN, kUa, rng.below(2) * kPage,
                       kValid | u64{16 * (1 + rng.below(256))} << 32 | 2 * kPage, 3 * kPage,
                       0x0200'0000'0000 | rng.below(4))
                     .status;
            break;
        case 6:
            st = rng.below(8) == 0 ? hcall(H_FREE_LOGICAL_LAN, kUa).status
                                   : hcall(H_MULTICAST_CTRL, kUa, rng.next() & 0xf0003,
                                           rng.next() & 0xffff'ffff'ffff)
                                         .status;
            break;
        case 7:
        case 8:
            st = hcall(H_ADD_LOGICAL_LAN_BUFFER, kUa, pick_desc(rng)).status;
            break;
        default: { // a frame: to broadcast, to another soak LPAR's MAC or anywhere
            static constexpr u64 kMacs[] = {0xffff'ffff'ffff, 0x0200'0000'0001, 0x0200'0000'0002,
                                            0x0200'0000'0000};
            const u64 mac = kMacs[rng.below(4)];
            u8* f = dma + (4 + rng.below(kDmaPages - 4)) * kPage;
            for (int j = 0; j < 6; ++j) f[j] = static_cast<u8>(mac >> (40 - 8 * j));
            u64 d[6] = {};
            const u64 n = 1 + rng.below(6);
            for (u64 k = 0; k < n; ++k) d[k] = pick_desc(rng);
            if (rng.below(2)) // often a plausible one: the frame's own page, 60..1514 bytes
                d[0] = kValid | (60 + rng.below(1455)) << 32 | static_cast<u64>(f - dma);
            st = hcall(H_SEND_LOGICAL_LAN, kUa, d[0], d[1], d[2], d[3], d[4], d[5],
                       rng.below(16) == 0 ? rng.next() : 0)
                     .status;
            if (st == H_SUCCESS) ++c.frames;
            break;
        }
        }
        count(c, st);
    }
    for (const u8 x : canary)
        if (x != kCanaryByte) {
            ++c.canary_hit;
            prepare();
            break;
        }
}

} // namespace lpar::vio_attack
