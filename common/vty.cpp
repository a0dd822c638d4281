#include "common/vty.hpp"

namespace tessera::vty {

using namespace hcall;

Ret Terminal::put(u64 termno, const u8* bytes, u64 len) {
    if (termno != termno_ || len > kMaxTransfer) return H_PARAMETER;
    if (len == 0) return H_SUCCESS;
    out_.push(bytes, static_cast<usize>(len));
    if (sink_ != nullptr) sink_(sink_ctx_, *this);
    return H_SUCCESS;
}

Ret Terminal::get(u64 termno, u8* out, usize max, usize& count) {
    count = 0;
    if (termno != termno_) return H_PARAMETER;
    usize limit = max < kMaxTransfer ? max : kMaxTransfer;
    // A batch ends before a NUL that would follow a '\r' in it (see vty.hpp): that NUL comes
    // first in the next batch, where the guest keeps it.
    usize n = 0;
    u8 next = 0;
    while (n < limit && in_.peek(next, n)) {
        if (n > 0 && next == 0 && out[n - 1] == '\r') break;
        out[n++] = next;
    }
    count = in_.pop(out, n);
    return H_SUCCESS;
}

usize Terminal::feed(const u8* bytes, usize n) {
    return in_.push(bytes, n);
}

usize Terminal::take_output(u8* out, usize max) {
    return out_.pop(out, max);
}

void Terminal::connect(Sink sink, void* ctx) {
    sink_ = sink;
    sink_ctx_ = ctx;
    if (sink_ != nullptr && !out_.empty()) sink_(sink_ctx_, *this); // early output
}

void Terminal::disconnect() {
    sink_ = nullptr;
    sink_ctx_ = nullptr;
}

void Terminal::reset() {
    out_.clear();
    in_.clear();
}

} // namespace tessera::vty
