/* tsc-khz: prints this host's TSC rate in kHz, measured against CLOCK_MONOTONIC (the clock
 * QEMU times its devices by, the PIT among them).
 *
 * QEMU's TCG gives an x86 guest the host's TSC (rdtsc reads the host's counter, plus an
 * offset), so this is the rate a native kernel under QEMU must be told: it cannot measure it
 * itself reliably there (its PIT calibration fails when the emulation is slow, and the kernel
 * then runs on the jiffies clock; see scripts/lib/qemu.sh, native_pc_append). Built by
 * scripts/lib/qemu.sh with the host's cc.
 *
 * Method: two readings of the clock bracket each TSC read; of several tries at each end of a
 * 200 ms interval the narrowest bracket is kept, and the rate is the TSC ticks between the two
 * midpoints over the nanoseconds between them. */
#include <stdint.h>
#include <stdio.h>
#include <time.h>
#include <x86intrin.h>

struct sample {
    uint64_t ns;     /* the middle of the bracket */
    uint64_t width;  /* the bracket's width, ns */
    uint64_t tsc;
};

static uint64_t now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static struct sample best_sample(int tries) {
    struct sample best = {0, UINT64_MAX, 0};
    for (int i = 0; i < tries; i++) {
        uint64_t a = now_ns();
        uint64_t t = __rdtsc();
        uint64_t b = now_ns();
        if (b - a < best.width) {
            best.ns = a + (b - a) / 2;
            best.width = b - a;
            best.tsc = t;
        }
    }
    return best;
}

int main(void) {
    const struct timespec pause = {0, 200 * 1000 * 1000};
    struct sample s = best_sample(64);
    nanosleep(&pause, NULL);
    struct sample e = best_sample(64);
    if (e.ns <= s.ns || e.tsc <= s.tsc) {
        fprintf(stderr, "tsc-khz: the clock or the TSC did not advance\n");
        return 1;
    }
    /* kHz = ticks / ms; 200 ms at a few GHz keeps the product below 2^64. */
    printf("%llu\n", (unsigned long long)((e.tsc - s.tsc) * 1000000u / (e.ns - s.ns)));
    return 0;
}
