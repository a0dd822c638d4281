#!/bin/sh
# Tessera guest benchmark for scripts/bench-smp (tessera.run=/bench-smp.sh): one CPU-bound
# busybox awk loop alone, then two of them at once, each timed with /proc/uptime. Prints
#   BENCH-SMP nproc <n>       the CPUs the kernel brought up
#   BENCH-SMP one <s>         one loop alone
#   BENCH-SMP two <s>         two loops started together, until both ended
#   BENCH-SMP done
# and powers the machine off. With two CPUs that really run at once, two <= one; on one CPU two
# is about twice one. Kernel parameter bench.loops=N sets each loop's iterations (default
# 1000000). busybox sh only.
loops=1000000
for arg in $(cat /proc/cmdline); do
    case $arg in bench.loops=[0-9]*) loops=${arg#bench.loops=} ;; esac
done
loop() { awk -v n="$loops" 'BEGIN { for (i = 0; i < n; i++) s += i; printf "%.0f\n", s }' > /dev/null; }
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f\n", b - a }'; }

echo "BENCH-SMP nproc $(grep -c '^processor' /proc/cpuinfo)"
read -r t0 _ < /proc/uptime
loop
read -r t1 _ < /proc/uptime
echo "BENCH-SMP one $(elapsed "$t0" "$t1")"
read -r t0 _ < /proc/uptime
loop &
loop
wait
read -r t1 _ < /proc/uptime
echo "BENCH-SMP two $(elapsed "$t0" "$t1")"
echo "BENCH-SMP done"

sync
poweroff -f
