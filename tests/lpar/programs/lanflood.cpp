// lanflood (1 vcpu, on net0 with lan1 and lan2): a misbehaving LAN member. It hammers its TCE
// window and its adapter with pseudo-random garbage (every answer must be a PAPR status, pages
// outside its memory are always refused), then floods the LAN with broadcast frames and
// malformed sends for a few seconds while lan1 and lan2 exchange theirs: they must still pass.
#include "lpar.hpp"

using namespace lpar;
using namespace tessera::hcall;

namespace {

constexpr u64 kUa = 0x30000002, kLiobn = kUa;
constexpr u64 kPage = 4096, kWindow = 64 * tessera::MiB;
constexpr u64 kValid = u64{0x80} << 56;
constexpr u64 kPages = 8; // IOBA page i = page i of `area`
constexpr u64 kFloodMs = 3000;
constexpr unsigned kGarbageCalls = 4000;

alignas(4096) u8 area[kPages * 4096];

u64 page_of(u64 i) {
    return static_cast<u64>(reinterpret_cast<uintptr_t>(area)) + i * kPage;
}
u64 desc(u64 ioba, u64 len) {
    return kValid | len << 32 | ioba;
}

void map_area() {
    hcall(H_STUFF_TCE, kLiobn, 0, 0, kWindow / kPage);
    for (u64 i = 0; i < kPages; ++i) hcall(H_PUT_TCE, kLiobn, i * kPage, page_of(i) | 3);
}

void garbage(const Boot& b) {
    Lcg rng(0x1a4f100d);
    unsigned bad = 0, outside_accepted = 0;
    for (unsigned i = 0; i < kGarbageCalls; ++i) {
        const u64 ioba = rng.below(4) == 0 ? rng.next() : rng.below(kWindow);
        u64 tce = rng.next();
        if (rng.below(2)) tce = (b.memory_size + rng.below(64 * tessera::GiB)) | (1 + rng.below(3));
        const i64 s = hcall(H_PUT_TCE, kLiobn, ioba, tce).status;
        bad += !valid_status(s);
        const bool outside = (tce & 3) != 0 && (tce & ~u64{0xfff}) >= b.memory_size;
        outside_accepted += outside && s == H_SUCCESS;
    }
    check(bad == 0, "%u random H_PUT_TCEs: every answer is a PAPR status", kGarbageCalls);
    check(outside_accepted == 0, "no TCE naming a page outside our memory was accepted");
    map_area();
    check_status(
        hcall(H_REGISTER_LOGICAL_LAN, kUa, 0, desc(kPage, kPage), 2 * kPage, 0x02'00'00'00'00'ff)
            .status,
        H_SUCCESS, "H_REGISTER_LOGICAL_LAN");
    bad = 0;
    unsigned added = 0;
    for (unsigned i = 0; i < kGarbageCalls; ++i) {
        u64 d = rng.next();
        if (rng.below(2))
            d = desc(rng.below(kWindow), rng.below(1 << 24)); // plausible, mostly unmapped
        const i64 s = hcall(H_ADD_LOGICAL_LAN_BUFFER, kUa, d).status;
        bad += !valid_status(s);
        added += s == H_SUCCESS;
    }
    check(bad == 0, "%u garbage buffer descriptors (%u accepted): every answer is a PAPR status",
          kGarbageCalls, added);
}

void flood() {
    u8* frame = area + 4 * kPage;
    for (u64 i = 0; i < 1514; ++i) frame[i] = static_cast<u8>(i);
    for (int i = 0; i < 6; ++i) frame[i] = 0xff; // broadcast
    frame[6] = 0x02;
    Lcg rng(0xf100d);
    u64 sent = 0, malformed = 0;
    unsigned bad = 0;
    Deadline d = Deadline::ms(kFloodMs);
    while (!d.expired()) {
        i64 s;
        if (rng.below(4) == 0) { // a malformed send: random descriptors and token
            u64 a[8];
            for (u64& x : a)
                x = rng.below(2) ? rng.next() : desc(rng.below(kWindow), rng.below(70000));
            s = hcall(H_SEND_LOGICAL_LAN, kUa, a[0], a[1], a[2], a[3], a[4], a[5],
                      rng.below(2) ? 0 : a[6])
                    .status;
            ++malformed;
        } else {
            s = hcall(H_SEND_LOGICAL_LAN, kUa, desc(4 * kPage, 60 + rng.below(1455))).status;
            sent += s == H_SUCCESS || s == H_DROPPED;
        }
        bad += !valid_status(s);
    }
    check(bad == 0,
          "flood: %" PRIu64 " frames and %" PRIu64 " malformed sends, every answer a PAPR status",
          sent, malformed);
    check(sent > 0, "flood: frames went out");
}

} // namespace

void lpar_main(const Boot& b) {
    if (b.vcpu != 0) return;
    garbage(b);
    flood();
    check_status(hcall(H_FREE_LOGICAL_LAN, kUa).status, H_SUCCESS, "H_FREE_LOGICAL_LAN");
}
