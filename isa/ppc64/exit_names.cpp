#include "isa/ppc64/exit_reason.hpp"

namespace tessera::arch {
namespace {

struct Names {
    const char* at[kExitReasons] = {"hdec", "ext", "hmaint", "hdsi",    "hisi",
                                    "hemu", "hfu", "other",  "merpoll", "hcall"};
    constexpr Names() {
        static_assert(static_cast<usize>(Exit::FirstHcall) == 10); // the list above
        for (usize i = 0; i < kHcallSlotCount; ++i)
            at[static_cast<usize>(Exit::FirstHcall) + i] = kHcallSlots[i].name;
        at[kReasonTlbieBroadcast] = "tlbie";
    }
};
constexpr Names kNames;

} // namespace

const char* const (&kExitNames)[kExitReasons] = kNames.at;

} // namespace tessera::arch
