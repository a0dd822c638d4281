// The vty logical device: one virtual terminal per LPAR, the guest's console.
//
// Guest side: H_PUT_TERM_CHAR / H_GET_TERM_CHAR (hcall/vty.cpp) move at most 16 bytes per call
// to or from the terminal whose unit address (`termno`, the `reg` of the guest's
// /vdevice/vty@30000000 node on pseries) the guest names.
// Console side: the console multiplexer (common/console.hpp) feeds keyboard input in and takes
// the output out. While a sink is connected, every put() hands the output to it at once; before
// that, output waits in the output buffer.
//
// Overflow: output beyond the output buffer and input beyond the input FIFO are dropped and
// counted; the guest is never blocked (H_BUSY would make an hvc driver spin on a console that
// nobody drains).
#pragma once

#include <tessera/hcall.hpp>
#include <tessera/types.hpp>

#include "common/lib/ring.hpp"

namespace tessera::vty {

inline constexpr u64 kDefaultTermno = 0x30000000; // pseries' customary vty unit address
inline constexpr usize kMaxTransfer = 16;         // bytes per H_PUT/H_GET_TERM_CHAR
inline constexpr usize kOutputCapacity = 4 * KiB;
inline constexpr usize kInputCapacity = 1 * KiB;

class Terminal {
  public:
    // Called after put() queued output, while connected; it should drain take_output().
    using Sink = void (*)(void* ctx, Terminal& term);

    constexpr Terminal() = default;
    constexpr explicit Terminal(u64 termno) : termno_(termno) {}
    Terminal(const Terminal&) = delete; // a connected sink holds a pointer to this object
    Terminal& operator=(const Terminal&) = delete;

    u64 termno() const { return termno_; }
    void set_termno(u64 termno) { termno_ = termno; }

    // ---- Guest side ----------------------------------------------------------------------
    // Queues `len` bytes of output. H_PARAMETER (nothing queued) when `termno` is not this
    // terminal or len > kMaxTransfer; otherwise H_SUCCESS, even if some bytes were dropped.
    hcall::Ret put(u64 termno, const u8* bytes, u64 len);
    // Takes up to min(max, kMaxTransfer) input bytes into `out` and sets `count`
    // (0 when none is waiting: still H_SUCCESS). H_PARAMETER (count 0) for another termno.
    // Binary-safe for Linux's hvc_vio, which drops a NUL that directly follows a '\r' within
    // one batch (a workaround for old firmware that sent "\r\0"): a batch ends before such a
    // NUL, which then starts the next batch, as QEMU's spapr vty does.
    hcall::Ret get(u64 termno, u8* out, usize max, usize& count);

    // ---- Console side --------------------------------------------------------------------
    // Queues keyboard input for the guest; returns how many bytes fit (the rest are dropped).
    usize feed(const u8* bytes, usize n);
    // Removes up to `max` bytes of pending output into `out`; returns how many.
    usize take_output(u8* out, usize max);
    void connect(Sink sink, void* ctx);
    void disconnect();
    bool connected() const { return sink_ != nullptr; }

    usize pending_output() const { return out_.size(); }
    usize pending_input() const { return in_.size(); }
    u64 dropped_output() const { return out_.dropped(); }
    u64 dropped_input() const { return in_.dropped(); }

    // Empties both buffers and their drop counters (the LPAR is restarted); keeps termno and sink.
    void reset();

  private:
    u64 termno_ = kDefaultTermno;
    Sink sink_ = nullptr;
    void* sink_ctx_ = nullptr;
    lib::Ring<kOutputCapacity> out_;
    lib::Ring<kInputCapacity> in_;
};

} // namespace tessera::vty
