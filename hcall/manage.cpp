#include "hcall/manage.hpp"

#include "common/lpar.hpp"
#include "common/manage.hpp"
#include "common/rt/string.hpp"

#include <tessera/arch.hpp>
#include <tessera/lpar_control.h>

namespace tessera::hcall {
namespace {

using manage::Outcome;

// Who may manage: a control LPAR of a machine whose manager is set up. Everyone else learns
// nothing, not even that the block exists.
bool allowed(const Env& env) {
    return env.lpar.control && manage::machine().ready();
}

Ret answer(Frame& frame, Outcome o) {
    if (!o.ok()) frame.rets[0] = o.reason;
    return o.status;
}

// A string of `len` bytes at `addr` in the caller's memory, into out[0..cap) with a terminator.
bool read_string(const Lpar& caller, u64 addr, u64 len, char* out, usize cap) {
    if (len >= cap) return false;
    if (len != 0 && !caller.memory.copy_out(out, LogicalAddr(addr), len)) return false;
    out[len] = '\0';
    return rt::str_length_max(out, cap) == len; // no NUL inside
}

// Copies a terminated string into the caller's buffer (truncated to its size); its length.
u64 write_string(Lpar& caller, u64 addr, u64 cap, const char* s, bool& ok) {
    const u64 len = rt::str_length_max(s, 4096);
    const u64 n = len < cap ? len : cap;
    if (n != 0 && !caller.memory.copy_in(LogicalAddr(addr), s, n)) ok = false;
    return n;
}

} // namespace

Ret h_lpar_create(Env& env, Frame& f) {
    if (!allowed(env)) return H_FUNCTION;
    char name[kLparNameMax + 1], lans[128];
    if (!read_string(env.lpar, f.args[0], f.args[1], name, sizeof name))
        return answer(f, {H_P2, TLPAR_E_BAD_NAME});
    if (!read_string(env.lpar, f.args[4], f.args[5], lans, sizeof lans))
        return answer(f, {H_PARAMETER, TLPAR_E_BAD_ARG});
    u32 id = 0;
    Outcome o = manage::machine().create(env.lpar, name, f.args[2], f.args[3], lans, id);
    f.rets[0] = id;
    return answer(f, o);
}

Ret h_lpar_load(Env& env, Frame& f) {
    if (!allowed(env)) return H_FUNCTION;
    if (f.args[1] > TLPAR_LOAD_STAGED) return answer(f, {H_P2, TLPAR_E_BAD_ARG});
    if (f.args[1] == TLPAR_LOAD_STAGED) // addresses and lengths in the target, not strings
        return answer(f,
                      manage::machine().load_staged(env.lpar, f.args[0], LogicalAddr(f.args[2]),
                                                    f.args[3], LogicalAddr(f.args[4]), f.args[5]));
    char kernel[64], initrd[64];
    if (!read_string(env.lpar, f.args[2], f.args[3], kernel, sizeof kernel) ||
        !read_string(env.lpar, f.args[4], f.args[5], initrd, sizeof initrd))
        return answer(f, {H_PARAMETER, TLPAR_E_NO_ENTRY});
    return answer(f, manage::machine().load(env.lpar, f.args[0], f.args[1], kernel, initrd));
}

Ret h_lpar_copy_in(Env& env, Frame& f) {
    if (!allowed(env)) return H_FUNCTION;
    return answer(f, manage::machine().copy_in(env.lpar, f.args[0], LogicalAddr(f.args[1]),
                                               LogicalAddr(f.args[2]), f.args[3]));
}

Ret h_lpar_set_cmdline(Env& env, Frame& f) {
    if (!allowed(env)) return H_FUNCTION;
    static char text[TLPAR_CMDLINE_MAX]; // too large for the stack; one caller at a time
    if (!read_string(env.lpar, f.args[1], f.args[2], text, sizeof text))
        return answer(f, {H_P3, TLPAR_E_BAD_ARG});
    return answer(f, manage::machine().set_cmdline(env.lpar, f.args[0], text, f.args[2]));
}

Ret h_lpar_start(Env& env, Frame& f) {
    if (!allowed(env)) return H_FUNCTION;
    return answer(f, manage::machine().start(env.lpar, f.args[0]));
}

Ret h_lpar_stop(Env& env, Frame& f) {
    if (!allowed(env)) return H_FUNCTION;
    if ((f.args[1] & ~u64{TLPAR_STOP_FORCE}) != 0) return answer(f, {H_P2, TLPAR_E_BAD_ARG});
    const bool force = (f.args[1] & TLPAR_STOP_FORCE) != 0;
    Outcome o = manage::machine().stop(env.lpar, f.args[0], force, f.args[2], arch::timebase());
    if (o.ok() && force) env.after = After::Yield; // let the run loop see the change soon
    return answer(f, o);
}

Ret h_lpar_destroy(Env& env, Frame& f) {
    if (!allowed(env)) return H_FUNCTION;
    return answer(f, manage::machine().destroy(env.lpar, f.args[0]));
}

Ret h_lpar_status(Env& env, Frame& f) {
    if (!allowed(env)) return H_FUNCTION;
    Outcome o;
    Lpar* l = manage::machine().find(f.args[0], o);
    if (l == nullptr) return answer(f, o);
    bool ok = true;
    f.rets[0] = static_cast<u64>(l->state);
    f.rets[1] = l->memory.size();
    f.rets[2] = l->vcpu_count;
    f.rets[3] = manage::machine().flags(env.lpar, *l);
    f.rets[4] = write_string(env.lpar, f.args[1], f.args[2], l->name, ok);
    f.rets[5] = write_string(env.lpar, f.args[3], f.args[4], l->stop_reason, ok);
    if (!ok) return answer(f, {H_PARAMETER, TLPAR_E_BAD_RANGE});
    return H_SUCCESS;
}

Ret h_lpar_next(Env& env, Frame& f) {
    if (!allowed(env)) return H_FUNCTION;
    f.rets[0] = manage::machine().next_id(f.args[0]);
    return H_SUCCESS;
}

Ret h_lpar_find(Env& env, Frame& f) {
    if (!allowed(env)) return H_FUNCTION;
    char name[kLparNameMax + 1];
    if (!read_string(env.lpar, f.args[0], f.args[1], name, sizeof name))
        return answer(f, {H_PARAMETER, TLPAR_E_BAD_NAME});
    for (u32 id = manage::machine().next_id(0); id != 0; id = manage::machine().next_id(id)) {
        Outcome o;
        Lpar* l = manage::machine().find(id, o);
        if (rt::str_compare_n(l->name, name, kLparNameMax) == 0) {
            f.rets[0] = id;
            return H_SUCCESS;
        }
    }
    return answer(f, {H_NOT_FOUND, TLPAR_E_NO_LPAR});
}

Ret h_lpar_free_memory(Env& env, Frame& f) {
    if (!allowed(env)) return H_FUNCTION;
    f.rets[0] = manage::machine().free_bytes();
    f.rets[1] = manage::machine().total_bytes();
    return H_SUCCESS;
}

Ret h_lpar_console_read(Env& env, Frame& f) {
    if (!allowed(env)) return H_FUNCTION;
    u8 buf[256];
    const u64 want = f.args[2] < sizeof buf ? f.args[2] : sizeof buf;
    if (want != 0 && !env.lpar.memory.contains(LogicalAddr(f.args[1]), want))
        return answer(f, {H_PARAMETER, TLPAR_E_BAD_RANGE});
    usize n = 0;
    u64 lost = 0;
    Outcome o = manage::machine().console_read(f.args[0], buf, static_cast<usize>(want), n, lost);
    if (!o.ok()) return answer(f, o);
    env.lpar.memory.copy_in(LogicalAddr(f.args[1]), buf, n); // checked above
    f.rets[0] = n;
    f.rets[1] = lost;
    return H_SUCCESS;
}

Ret h_lpar_console_attach(Env& env, Frame& f) {
    if (!allowed(env)) return H_FUNCTION;
    if (f.args[1] > 1) return answer(f, {H_P2, TLPAR_E_BAD_ARG});
    u64 token = 0;
    Outcome o = manage::machine().console_attach(f.args[0], f.args[1] != 0, token);
    f.rets[0] = token;
    return answer(f, o);
}

Ret h_lpar_console_write(Env& env, Frame& f) {
    if (!allowed(env)) return H_FUNCTION;
    u8 buf[TLPAR_CONSOLE_WRITE_MAX];
    if (f.args[3] > sizeof buf) return answer(f, {H_P4, TLPAR_E_BAD_RANGE});
    if (f.args[3] != 0 && !env.lpar.memory.copy_out(buf, LogicalAddr(f.args[2]), f.args[3]))
        return answer(f, {H_PARAMETER, TLPAR_E_BAD_RANGE});
    usize n = 0;
    Outcome o = manage::machine().console_write(f.args[0], f.args[1], buf,
                                                static_cast<usize>(f.args[3]), n);
    f.rets[0] = n;
    return answer(f, o);
}

Ret h_lpar_console_detach(Env& env, Frame& f) {
    if (!allowed(env)) return H_FUNCTION;
    return answer(f, manage::machine().console_detach(f.args[0], f.args[1]));
}

} // namespace tessera::hcall
