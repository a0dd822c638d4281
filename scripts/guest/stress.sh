#!/bin/sh
# Tessera guest conformance run: /etc/tessera-autorun of the `--stress` and `--conformance`
# initramfs (scripts/guest-images), read by scripts/conformance. First, when the image has them
# (/usr/lib/selftests: Linux's x86 selftests), runs each (as root, as the kernel's own runner
# does) with a time limit, and prints
#   SELFTEST <name> rc=<exit status> ok=<[OK] lines> fail=<[FAIL]/[BUG] lines> sec=<seconds>
# (kselftest: 0 pass, 4 skip, anything else a failure; 143 = killed at the time limit; some
# x86 selftests exit 0 after a [FAIL], so the lines count too). Then runs Debian's
# stress-ng, one stressor at a time with --verify, and prints for each
#   STRESS <name> rc=<exit status> ops=<bogo ops/s, real time> sec=<wall seconds>
#          total=<bogo ops> exits=<traps into the hypervisor meanwhile, or - natively>
# (exits: /proc/tessera_exits of the pc PV kernel, read before and after the stressor)
# (before the first: "STRESS version", "STRESS cpus" and "STRESS clocksource <the kernel's>")
# then "STRESS done" and powers the machine off. stress-ng's exit status: 0 passed, 2 a stressor
# failed (or --verify found a wrong result), 3 not enough resources, 4 not implemented here,
# other values a crash of stress-ng itself (128 + signal when killed).
# Kernel parameters: stress.seconds=N per stressor (default 4), stress.list=a,b,c (default: the
# list below), stress.workers=N (default 1).

seconds=4 workers=1
list="cpu matrix fp fma vecmath branch icache cache memcpy memrate str wcs hash crypt zlib qsort
      bsearch heapsort lsearch tsearch atomic lockbus vm malloc bigheap brk mmap mprotect mremap
      madvise mlock fault stack stackmmap fork vfork clone exec switch context yield futex sem
      msg mq pipe sockpair udp tcp sigsegv sigfpe sigtrap sigill kill sigq sigpipe sigsuspend
      nanosleep clock timer hrtimers get personality prctl rlimit getrandom opcode"
for arg in $(cat /proc/cmdline); do
    case $arg in
    stress.seconds=[0-9]*) seconds=${arg#stress.seconds=} ;;
    stress.workers=[0-9]*) workers=${arg#stress.workers=} ;;
    stress.list=*) list=$(echo "${arg#stress.list=}" | tr ',' ' ') ;;
    esac
done

# The LPAR's traps into the hypervisor so far (pc PV kernel), or "-".
exits_now() {
    if [ -r /proc/tessera_exits ]; then awk '{ print $2 }' /proc/tessera_exits; else echo -; fi
}

ip link set lo up 2>/dev/null
echo "STRESS version $(stress-ng --version 2>&1 | head -n1)"
echo "STRESS cpus $(grep -c '^processor' /proc/cpuinfo) seconds $seconds workers $workers"
# The kernel's clocksource: timer and scheduler rows depend on it (a native pc kernel whose TSC
# calibration failed ran on the jiffies clock; docs/benchmarks.md, "The native kernel's clock").
echo "STRESS clocksource $(cat /sys/devices/system/clocksource/clocksource0/current_clocksource 2>/dev/null || echo unknown)"
cd /tmp || exit 1
if [ -d /usr/lib/selftests ]; then
    for t in /usr/lib/selftests/*; do
        read -r t0 _ < /proc/uptime
        timeout 120 "$t" >/tmp/selftest.log 2>&1 </dev/null
        rc=$?
        read -r t1 _ < /proc/uptime
        # Not every selftest's exit status counts its failures: count the result lines too.
        ok=$(grep -cE '^\[OK\]|^ok ' /tmp/selftest.log)
        bad=$(grep -cE '^\[(FAIL|BUG)\]|^not ok ' /tmp/selftest.log)
        echo "SELFTEST $(basename "$t") rc=$rc ok=$ok fail=$bad sec=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }')"
        [ "$bad" -eq 0 ] || grep -E '^\[(FAIL|BUG)\]|^not ok ' /tmp/selftest.log | head -n 3 | sed 's/^/SELFTEST-LOG /'
    done
fi
for s in $list; do
    # zlib picks a random data generator each round, some of which call libm functions that use
    # instructions QEMU's POWER8 does not have (SIGILL on any machine): one fixed generator.
    extra=""
    [ "$s" = zlib ] && extra="--zlib-method text"
    e0=$(exits_now)
    read -r t0 _ < /proc/uptime
    # shellcheck disable=SC2086 # $extra is zero or two words
    stress-ng --"$s" "$workers" --timeout "${seconds}s" --verify --metrics-brief $extra \
        --temp-path /tmp >/tmp/stress.log 2>&1
    rc=$?
    read -r t1 _ < /proc/uptime
    e1=$(exits_now)
    # The metrics line: "stress-ng: info: [pid] NAME  ops  real  usr  sys  ops/s(real)  ops/s(usr+sys)"
    ops=$(awk -v s="$s" '$4 == s && $5 ~ /^[0-9]+$/ { print $9; exit }' /tmp/stress.log)
    total=$(awk -v s="$s" '$4 == s && $5 ~ /^[0-9]+$/ { print $5; exit }' /tmp/stress.log)
    exits=-
    [ "$e0" = - ] || [ "$e1" = - ] || exits=$((e1 - e0))
    echo "STRESS $s rc=$rc ops=${ops:--} sec=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }') total=${total:--} exits=$exits"
    [ $rc -eq 0 ] || grep -E 'fail|error|FAIL|killed|signal' /tmp/stress.log | head -n 3 | sed 's/^/STRESS-LOG /'
done
echo "STRESS done"

sync
poweroff -f
# Still here: the kernel could not power off; /init takes over (it never exits).
