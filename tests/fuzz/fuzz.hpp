// Shared by the libFuzzer harnesses (tests/fuzz/*.cpp): reading typed values from the fuzzer's
// bytes, values biased to the edges that break address arithmetic, and a check that aborts (so
// libFuzzer records a crash) when an invariant of the code under test does not hold.
#pragma once

#include <tessera/hcall.hpp>
#include <tessera/types.hpp>

#include <cstdio>
#include <cstdlib>
#include <cstring>

#define FUZZ_CHECK(cond)                                                                           \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            std::fprintf(stderr, "%s:%d: invariant failed: %s\n", __FILE__, __LINE__, #cond);      \
            std::abort();                                                                          \
        }                                                                                          \
    } while (0)

namespace tessera::fuzz {

// A status PAPR defines (H_SUCCESS..H_CONTINUE, or an error down to the parameter codes).
inline bool papr_status(hcall::Ret r) {
    return (r >= hcall::H_SUCCESS && r <= hcall::H_CONTINUE) ||
           (r <= hcall::H_HARDWARE && r >= -80);
}

// The fuzzer's bytes as a stream; reads past the end give zeros.
class Input {
  public:
    Input(const u8* data, usize size) : p_(data), n_(size) {}

    bool empty() const { return n_ == 0; }
    usize left() const { return n_; }
    const u8* data() const { return p_; }

    u8 byte() {
        if (n_ == 0) return 0;
        --n_;
        return *p_++;
    }
    u16 u16v() { return static_cast<u16>(byte() | byte() << 8); }
    u32 u32v() { return u32{u16v()} | u32{u16v()} << 16; }
    u64 u64v() { return u64{u32v()} | u64{u32v()} << 32; }
    // A value below `bound` (> 0).
    u32 below(u32 bound) { return static_cast<u32>(u32v() % bound); }
    // The rest of the input (consumes it).
    const u8* rest(usize& len) {
        len = n_;
        const u8* r = p_;
        p_ += n_;
        n_ = 0;
        return r;
    }

    // A 64-bit value chosen from `edges` (by the next byte), as it is or plus a small signed
    // offset (half of the time each), or taken raw: what catches off-by-one and wrap-around in
    // bounds checks, while flag words among the edges still arrive intact.
    template <usize N>
    u64 edge(const u64 (&edges)[N]) {
        const u8 how = byte();
        if (how < 0x40) return u64v();
        const u64 base = edges[how % N];
        const u8 d = byte();
        if (d & 1) return base;
        const i64 delta = static_cast<i8>(d) / 8; // -16..15
        return base + static_cast<u64>(delta);
    }

  private:
    const u8* p_;
    usize n_;
};

} // namespace tessera::fuzz
