// Host stand-in for the platform hooks of include/tessera/arch.hpp: a console that tests can read
// and feed, and a small fake machine description.
#include "tests/fake/plat_fake.hpp"

#include <cstdio>
#include <cstdlib>
#include <pthread.h>
#include <thread>

namespace tessera::fake {
std::string console_out;
u64 console_writes = 0;
std::deque<char> console_in;
bool rtc_present = false;
u64 rtc_seconds = 0;
unsigned firmware_services = 0;
u32 machine_cpus = 1;
std::atomic<bool> secondaries_exit{false};
std::vector<u32> kicks;
} // namespace tessera::fake

namespace tessera::plat {

void console_write(const char* s, usize n) {
    fake::console_out.append(s, n);
    ++fake::console_writes;
}

int console_read() {
    if (fake::console_in.empty()) return -1;
    char c = fake::console_in.front();
    fake::console_in.pop_front();
    return static_cast<unsigned char>(c);
}

void power_off(int code) {
    std::fprintf(stderr, "fake platform: power_off(%d) called from a unit test\n", code);
    std::abort();
}

usize memory_ranges(RealRange*, usize) {
    return 0;
}
usize reserved_ranges(RealRange*, usize) {
    return 0;
}
RealRange boot_bundle() {
    return {};
}
u64 timebase_hz() {
    return 512'000'000;
}
bool rtc_read(u64& seconds) {
    if (fake::rtc_present) seconds = fake::rtc_seconds;
    return fake::rtc_present;
}
void service_firmware() {
    ++fake::firmware_services;
}
u32 cpu_count() {
    return fake::machine_cpus;
}
void kick_cpu(u32 cpu) {
    fake::kicks.push_back(cpu);
}
void idle_cpu(u64) {
    // A thread that plays a secondary CPU ends here once the test is done with it.
    if (fake::secondaries_exit.load()) pthread_exit(nullptr);
    std::this_thread::yield();
}
void ack_kick() {}

} // namespace tessera::plat
