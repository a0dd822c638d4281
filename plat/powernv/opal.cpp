// The platform hooks of include/tessera/arch.hpp on powernv, through OPAL.
#include "plat/powernv/opal.hpp"

#include "common/rt/format.hpp"

#include <tessera/arch.hpp>

extern "C" {
tessera::u64 opal_base_address = 0;
tessera::u64 opal_entry_point = 0;
}

namespace tessera {
namespace {

// OPAL reads and writes its in-memory arguments big-endian.
u64 to_be64(u64 v) {
    return __builtin_bswap64(v);
}
u64 ptr(const void* p) {
    return reinterpret_cast<uptr>(p);
}

} // namespace

void opal::init(u64 base, u64 entry) {
    opal_base_address = base;
    opal_entry_point = entry;
}

bool opal::available() {
    return opal_entry_point != 0;
}

void plat::console_write(const char* s, usize n) {
    if (!opal::available()) return;
    // OPAL's console buffer may be full: write what it takes, poll, retry a bounded number of
    // times rather than hang the hypervisor on a stuck console.
    for (int tries = 0; n > 0 && tries < 10000; ++tries) {
        u64 len_be = to_be64(n);
        i64 rc = opal_call(opal::CONSOLE_WRITE, 0, ptr(&len_be), ptr(s));
        u64 done = to_be64(len_be);
        if (rc == opal::SUCCESS || rc == opal::BUSY || rc == opal::BUSY_EVENT) {
            if (rc != opal::SUCCESS) done = 0;
            if (done > n) done = n;
            s += done;
            n -= done;
            if (n) opal_call(opal::POLL_EVENTS, 0);
        } else {
            return;
        }
    }
}

int plat::console_read() {
    if (!opal::available()) return -1;
    char c = 0;
    u64 len_be = to_be64(1);
    if (opal_call(opal::CONSOLE_READ, 0, ptr(&len_be), ptr(&c)) != opal::SUCCESS) return -1;
    return to_be64(len_be) == 1 ? static_cast<unsigned char>(c) : -1;
}

// skiboot runs its timers (among them the one that resets the BMC watchdog, armed with a 60 s
// timeout at hand-over) only from its pollers, that is when the OS calls OPAL. Poll at least every
// 100 ms of timebase, as an OS's idle loop and console would.
void plat::service_firmware() {
    static constinit u64 last = 0;
    if (!opal::available()) return;
    const u64 now = arch::timebase();
    if (now - last < timebase_hz() / 10) return;
    last = now;
    opal_call(opal::POLL_EVENTS, 0);
}

void plat::power_off(int code) {
    // OPAL's power-down carries no exit status: scripts/lib/qemu.sh reads it from this line.
    char line[48];
    usize n = rt::format(line, sizeof(line), "tessera: power off (status %d)\n", code);
    console_write(line, n);
    while (opal_call(opal::CEC_POWER_DOWN, 0) == opal::BUSY) opal_call(opal::POLL_EVENTS, 0);
    for (;;) opal_call(opal::POLL_EVENTS, 0);
}

} // namespace tessera
