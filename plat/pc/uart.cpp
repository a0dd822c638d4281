// The machine console on pc: the first 16550 UART (COM1, I/O port 0x3f8), polled.
#include <arch/io.hpp>
#include <tessera/arch.hpp>

namespace tessera::plat {
namespace {

constexpr u16 kCom1 = 0x3f8;
// 16550 registers (offsets from the base port) and the bits used here.
constexpr u16 kData = 0, kIer = 1, kFcr = 2, kLcr = 3, kMcr = 4, kLsr = 5;
constexpr u8 kLcrDlab = 0x80, kLcr8N1 = 0x03;
constexpr u8 kLsrDataReady = 0x01, kLsrThrEmpty = 0x20;

bool initialised = false;

void init() {
    arch::outb(kCom1 + kIer, 0);        // polled: no UART interrupts
    arch::outb(kCom1 + kLcr, kLcrDlab); // divisor 1 = 115200 baud
    arch::outb(kCom1 + kData, 1);
    arch::outb(kCom1 + kIer, 0);
    arch::outb(kCom1 + kLcr, kLcr8N1);
    arch::outb(kCom1 + kFcr, 0x07); // enable and clear the FIFOs
    arch::outb(kCom1 + kMcr, 0x03); // DTR | RTS
    initialised = true;
}

void put(char c) {
    for (int spin = 0; spin < 100000 && !(arch::inb(kCom1 + kLsr) & kLsrThrEmpty); ++spin) {
    }
    arch::outb(kCom1 + kData, static_cast<u8>(c));
}

} // namespace

void console_write(const char* s, usize n) {
    if (!initialised) init();
    for (usize i = 0; i < n; ++i) {
        if (s[i] == '\n') put('\r');
        put(s[i]);
    }
}

int console_read() {
    if (!initialised) init();
    if (!(arch::inb(kCom1 + kLsr) & kLsrDataReady)) return -1;
    return arch::inb(kCom1 + kData);
}

} // namespace tessera::plat
