#include "hcall/vty.hpp"

#include "common/lpar.hpp"

namespace tessera::hcall {
namespace {

// termno 0 names the LPAR's first (here: only) vty, as QEMU's spapr vty_lookup does when no
// vty has unit address 0: early-console code (Linux's udbg hvc, small clients) writes to 0
// before it has read the device tree.
u64 vty_termno(const Lpar& lpar, u64 termno) {
    return termno == 0 ? lpar.vty.termno() : termno;
}

} // namespace

Ret h_put_term_char(Env& env, Frame& frame) {
    u64 len = frame.args[1];
    if (len > vty::kMaxTransfer) return H_PARAMETER;
    u8 bytes[vty::kMaxTransfer];
    unpack_term_bytes(frame.args[2], frame.args[3], bytes, static_cast<usize>(len));
    return env.lpar.vty.put(vty_termno(env.lpar, frame.args[0]), bytes, len);
}

Ret h_get_term_char(Env& env, Frame& frame) {
    u8 bytes[vty::kMaxTransfer];
    usize count = 0;
    Ret r = env.lpar.vty.get(vty_termno(env.lpar, frame.args[0]), bytes, sizeof(bytes), count);
    env.lpar.sync_vty_irq();
    frame.rets[0] = count;
    pack_term_bytes(bytes, count, frame.rets[1], frame.rets[2]);
    return r;
}

} // namespace tessera::hcall
