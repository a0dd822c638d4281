// The TSC's rate against the PIT (plat/pc/include/plat/pit_calibration.hpp).
#include <plat/pit_calibration.hpp>

namespace tessera::pc::pit {

Sample sample(const Channel& ch) {
    const u64 before = ch.tsc(ch.ctx);
    ch.latch(ch.ctx);
    const u64 after = ch.tsc(ch.ctx);
    const u16 count = ch.read_latched(ch.ctx);
    const u64 width = after > before ? after - before : 0;
    return {before + width / 2, width, count};
}

Sample best_sample(const Channel& ch, u32 tries) {
    Sample best = sample(ch);
    for (u32 i = 1; i < tries; ++i) {
        const Sample s = sample(ch);
        if (s.width < best.width) best = s;
    }
    return best;
}

Result measure(const Channel& ch, u32 span, u32 max_polls) {
    constexpr u32 kTries = 8;
    constexpr u32 kWrapped = 0xffffffffu;
    const Sample start = best_sample(ch, kTries);
    // The count goes down from start.count; a larger one later means it wrapped.
    auto elapsed = [&](const Sample& s) -> u32 {
        return s.count <= start.count ? static_cast<u32>(start.count - s.count) : kWrapped;
    };
    u32 polls = 0;
    for (;; ++polls) {
        if (polls == max_polls) return {};
        const u32 e = elapsed(sample(ch));
        if (e == kWrapped) return {};
        if (e >= span) break;
    }
    const Sample end = best_sample(ch, kTries);
    const u32 ticks = elapsed(end);
    if (ticks == kWrapped || ticks == 0 || end.tsc_mid <= start.tsc_mid) return {};
    const u64 tsc = end.tsc_mid - start.tsc_mid;
    // Half of each bracket, and one PIT tick of the counts' own rounding.
    const u64 open = (start.width + end.width) / 2;
    return {tsc * kHz / ticks, open * 1'000'000 / tsc + 1'000'000 / ticks};
}

} // namespace tessera::pc::pit
