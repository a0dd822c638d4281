// syscost: the cost of one system call, call by call, for scripts/bench-syscall (pc).
//
// Runs as /init of an initramfs of its own on a pc Linux, natively or in a Tessera LPAR, and
// times blocks of identical calls with the TSC (ticks per call):
//   popf           a user-mode pushfl/popfl, no system call: the host's speed at that moment
//                  (QEMU ends a translated block at each popf), the same work on both sides
//   getppid        syscall(SYS_getppid) through glibc and the vDSO's __kernel_vsyscall
//                  (sysenter natively; under Tessera the switcher's sysenter trampoline)
//   personality    personality(0xffffffff): stress-ng's `personality`, a read of one field
//   int80-getppid  getppid by an inline `int $0x80` (the direct gate under Tessera)
//   exit           (Tessera only) a pread of /proc/tessera_exits: one hcall, so one exit of
//                  the hypervisor per call (a twentieth of the calls of the other kinds)
// The kinds take turns block by block, so that a change of the host's speed meets all of
// them. Prints, per block,
//   SYSCOST <kind> <block> <ticks per call> <exits per 1,000 calls>
// (exits: the LPAR's traps into the hypervisor during the block, /proc/tessera_exits of the
// PV kernel; - natively), then "SYSCOST done", and powers the machine off.
// Kernel parameters: syscost.blocks=N (default 12), syscost.calls=N per block (default 100000).
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/personality.h>
#include <sys/reboot.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

static unsigned long long ticks(void) {
    unsigned lo, hi;
    __asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
    return ((unsigned long long)hi << 32) | lo;
}

// The LPAR's exits so far (the PV kernel's /proc/tessera_exits), or -1 natively.
static long exits_now(void) {
    long e = -1;
    FILE* f = fopen("/proc/tessera_exits", "r");
    if (f) {
        if (fscanf(f, "exits %ld", &e) != 1) e = -1;
        fclose(f);
    }
    return e;
}

static void call_popf(void) {
    __asm__ volatile("pushfl; popfl" ::: "memory", "cc");
}
static void call_getppid(void) {
    (void)syscall(SYS_getppid);
}
static void call_personality(void) {
    (void)personality(0xffffffff);
}
static int exits_fd = -1; // /proc/tessera_exits, open for the exit kind

static void call_exit(void) {
    char buf[64];
    (void)pread(exits_fd, buf, sizeof buf, 0);
}
static void call_int80_getppid(void) {
    int ret;
    __asm__ volatile("int $0x80" : "=a"(ret) : "a"(SYS_getppid) : "memory");
    (void)ret;
}

static const struct {
    const char* name;
    void (*call)(void);
    int divisor;     // of the block's calls
    int needs_exits; // Tessera only
} kinds[] = {
    {"popf", call_popf, 1, 0},
    {"getppid", call_getppid, 1, 0},
    {"personality", call_personality, 1, 0},
    {"int80-getppid", call_int80_getppid, 1, 0},
    {"exit", call_exit, 20, 1},
};

// The value of NAME=N on the kernel's command line, or fallback.
static long param(const char* cmdline, const char* name, long fallback) {
    const char* p = strstr(cmdline, name);
    return p ? strtol(p + strlen(name), NULL, 10) : fallback;
}

int main(void) {
    char cmdline[1024] = "";
    mkdir("/proc", 0555);
    mount("proc", "/proc", "proc", 0, NULL);
    FILE* f = fopen("/proc/cmdline", "r");
    if (f) {
        if (!fgets(cmdline, sizeof cmdline, f)) cmdline[0] = '\0';
        fclose(f);
    }
    const long blocks = param(cmdline, "syscost.blocks=", 12);
    const long calls = param(cmdline, "syscost.calls=", 100000);
    exits_fd = open("/proc/tessera_exits", O_RDONLY);
    printf("SYSCOST blocks %ld calls %ld\n", blocks, calls);
    for (long b = 0; b < blocks; ++b) {
        for (size_t k = 0; k < sizeof kinds / sizeof kinds[0]; ++k) {
            if (kinds[k].needs_exits && exits_fd < 0) continue;
            const long n = calls / kinds[k].divisor > 0 ? calls / kinds[k].divisor : 1;
            const long e0 = exits_now();
            const unsigned long long t0 = ticks();
            for (long i = 0; i < n; ++i) kinds[k].call();
            const unsigned long long t1 = ticks();
            const long e1 = exits_now();
            if (e0 < 0 || e1 < 0)
                printf("SYSCOST %s %ld %.0f -\n", kinds[k].name, b, (double)(t1 - t0) / n);
            else
                printf("SYSCOST %s %ld %.0f %.2f\n", kinds[k].name, b, (double)(t1 - t0) / n,
                       (e1 - e0) * 1000.0 / n);
        }
    }
    printf("SYSCOST done\n");
    fflush(stdout);
    sync();
    reboot(RB_POWER_OFF);
    for (;;) pause();
}
