#include "hcall/shutdown.hpp"

#include "common/lpar.hpp"
#include "common/rt/format.hpp"

namespace tessera::hcall {

Ret h_tessera_shutdown(Env& env, Frame& frame) {
    const u64 how = frame.args[0], message = frame.args[1];
    const u64 length = frame.args[2] < kShutdownMessageMax ? frame.args[2] : kShutdownMessageMax;
    char text[kShutdownMessageMax + 1] = {};
    switch (how) {
    case kShutdownPowerOff:
        env.lpar.stop("power-off");
        break;
    case kShutdownRestart:
        env.lpar.stop("restart (not supported: stopped)");
        break;
    case kShutdownPanic: {
        if (message != 0 && !env.lpar.memory.copy_out(text, LogicalAddr(message), length))
            return H_PARAMETER;
        for (char& c : text)
            if (c != '\0' && (c < ' ' || c > '~')) c = '?';
        char reason[kStopReasonMax];
        rt::format(reason, sizeof(reason), "panic: %s", text[0] ? text : "(no message)");
        env.lpar.crash(reason);
        break;
    }
    default:
        return H_PARAMETER;
    }
    env.after = After::StopLpar;
    return H_SUCCESS;
}

} // namespace tessera::hcall
