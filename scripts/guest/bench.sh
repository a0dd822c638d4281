#!/bin/sh
# Tessera guest benchmark: /etc/tessera-autorun of the `--bench` initramfs (scripts/guest-images),
# read by scripts/bench-linux. Prints, in this order,
#   BENCH userspace-at <s>    /proc/uptime when this script starts: kernel boot to userspace
#   BENCH cpu-loop <s>        a CPU-bound busybox awk loop, timed with /proc/uptime
#   BENCH done
# and powers the machine off. Kernel parameter bench.loops=N sets the loop's iteration count
# (default 3000000). busybox sh only; nothing here depends on the target.

# First thing: how long the kernel took to reach userspace (init's mounts are a few ms).
read -r up _ < /proc/uptime
echo "BENCH userspace-at $up"

loops=3000000
for arg in $(cat /proc/cmdline); do
    case $arg in bench.loops=[0-9]*) loops=${arg#bench.loops=} ;; esac
done

read -r t0 _ < /proc/uptime
sum=$(awk -v n="$loops" 'BEGIN { for (i = 0; i < n; i++) s += i; printf "%.0f\n", s }')
read -r t1 _ < /proc/uptime
echo "BENCH cpu-loop $(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f\n", b - a }') (loops $loops, sum $sum)"
echo "BENCH done"

sync
poweroff -f
# Still here: the kernel could not power off; /init takes over (it never exits).
