// Power off on QEMU pc through QEMU's isa-debug-exit device (scripts add
// `-device isa-debug-exit,iobase=0xf4,iosize=4`). Writing v makes QEMU exit with status
// (v << 1) | 1, so status 1 means "powered off with code 0"; scripts/run maps it back
// (see scripts/lib/qemu.sh). Without the device the CPU just halts.
#include "common/rt/format.hpp"

#include <arch/io.hpp>
#include <tessera/arch.hpp>

namespace tessera::plat {
namespace {
constexpr u16 kDebugExitPort = 0xf4;
} // namespace

void power_off(int code) {
    char line[48];
    usize n = rt::format(line, sizeof(line), "tessera: power off (status %d)\n", code);
    console_write(line, n);
    arch::outl(kDebugExitPort, static_cast<u32>(code));
    for (;;) asm volatile("cli; hlt");
}

} // namespace tessera::plat
