#include "common/footprint.hpp"

#include "common/rt/format.hpp"

namespace tessera {
namespace {

unsigned long long kib_up(u64 bytes) {
    return static_cast<unsigned long long>(bytes / KiB + (bytes % KiB ? 1 : 0));
}

} // namespace

usize format_footprint(char* buf, usize cap, const Footprint& f) {
    const u64 bss = f.image_bss < f.image ? f.image_bss : f.image;
    char runtime[32];
    if (f.runtime_known)
        rt::format(runtime, sizeof(runtime), "%llu KiB", kib_up(f.runtime));
    else
        rt::format(runtime, sizeof(runtime), "n/a");
    return rt::format(buf, cap,
                      "tessera: footprint image %llu KiB, runtime %s (image: %llu KiB "
                      "text+data+alignment, %llu KiB .bss; runtime: %s)",
                      kib_up(f.image), runtime, kib_up(f.image - bss), kib_up(bss),
                      f.runtime_note[0] ? f.runtime_note : "nothing noted");
}

usize format_held(char* buf, usize cap, const Footprint& f) {
    if (!f.runtime_known)
        return rt::format(buf, cap, "tessera: translation structures held after the run: n/a");
    return rt::format(buf, cap,
                      "tessera: translation structures held after the run: %llu bytes (%s)",
                      static_cast<unsigned long long>(f.runtime_held),
                      f.runtime_note[0] ? f.runtime_note : "nothing noted");
}

} // namespace tessera
