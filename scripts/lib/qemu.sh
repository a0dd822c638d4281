# QEMU command lines for the two targets, shared by scripts/run, scripts/debug and the tests.

# qemu_cmd TARGET IMAGE BUNDLE MEMORY [CPUS] : prints the command, one argument per line.
# CPUS (default 1) is QEMU's -smp: on powernv one core per CPU (threads=1: QEMU 7.2 crashes
# with SMT), on pc one core each.
qemu_cmd() {
    local target=$1 image=$2 bundle=$3 memory=$4 cpus=${5:-1}
    case $target in
    pseries)
        # powernv8 = POWER8 bare metal booted by skiboot; the BMC lets OPAL's power-down end QEMU.
        printf '%s\n' qemu-system-ppc64 -M powernv8 -m "$memory" -nographic -nodefaults \
            -serial mon:stdio -device ipmi-bmc-sim,id=bmc0 \
            -device isa-ipmi-bt,bmc=bmc0,irq=10 -kernel "$image"
        ;;
    pc)
        # isa-debug-exit carries the hypervisor's power-off status (see plat/pc/power.cpp).
        # -no-reboot: a triple fault (a fault the hypervisor could not even report) ends QEMU
        # instead of booting everything again.
        printf '%s\n' qemu-system-i386 -M pc -m "$memory" -nographic -nodefaults -no-reboot \
            -serial mon:stdio -device isa-debug-exit,iobase=0xf4,iosize=4 -kernel "$image"
        ;;
    *) die "unknown target '$target' (use pseries or pc)" ;;
    esac
    [ "$cpus" -eq 1 ] || printf '%s\n' -smp "$cpus,cores=$cpus,threads=1"
    [ -n "$bundle" ] && printf '%s\n' -initrd "$bundle"
    return 0
}

# host_tsc_khz : prints this host's TSC rate in kHz (scripts/lib/tsc-khz.c, built here with the
# host's cc on first use), measured at each call (200 ms) unless TESSERA_TSC_KHZ says it. Under
# TCG an x86 guest reads the host's TSC.
host_tsc_khz() {
    if [ -z "${TESSERA_TSC_KHZ:-}" ]; then
        local src=$TESSERA_ROOT/scripts/lib/tsc-khz.c tool=$TESSERA_ROOT/build/host-tools/tsc-khz
        if [ ! -x "$tool" ] || [ "$src" -nt "$tool" ]; then
            # Built under a name of its own and renamed: tests running at once may build it too.
            mkdir -p "$(dirname "$tool")"
            cc -O2 -Wall -Wextra -Werror -o "$tool.$BASHPID" "$src" && mv -f "$tool.$BASHPID" "$tool" ||
                die "building $tool failed"
        fi
        TESSERA_TSC_KHZ=$("$tool") || die "$tool could not measure the TSC"
        export TESSERA_TSC_KHZ
    fi
    echo "$TESSERA_TSC_KHZ"
}

# native_pc_append : the console and clock arguments of a native kernel on QEMU's pc machine.
# tsc_early_khz: the kernel's own calibration of the TSC against the PIT fails under TCG when
# the host is busy (the config has no HPET or ACPI PM timer to fall back on); the kernel then
# marks the TSC unstable and runs on the jiffies clock (no high-resolution timers, a
# tick-grained sched_clock), which changes what timer and scheduler benchmarks measure. Given
# the rate, it always runs on the TSC, as the PV kernel does under Tessera (which measures it and
# passes it in). tsc=reliable: no watchdog to unmark it on a busy host.
native_pc_append() {
    echo "console=ttyS0 tsc=reliable tsc_early_khz=$(host_tsc_khz)"
}

# QEMU's own pseries machine (its PAPR implementation), as the references boot Linux on it:
# x-vof=on, QEMU's Virtual Open Firmware instead of SLOF (saves about 5 s of firmware); the cap-*
# settings are what TCG can do (without them QEMU warns about each) and what KVM-HV offers on
# this POWER8 (QEMU's defaults stop it: "Requested safe cache capability level not supported by
# KVM").
qemu_pseries_machine=pseries,x-vof=on,cap-cfpc=broken,cap-sbbc=broken,cap-ibs=broken,cap-ccf-assist=off

# reference_cmd NAME KERNEL INITRD CPUS MEMORY APPEND : prints, one argument per line, the
# command that boots Linux (KERNEL, INITRD, the command line APPEND after the machine's console
# arguments) without Tessera: on pseries native-powernv8 (the kernel as skiboot's payload on the
# machine Tessera runs on; 3G of memory whatever MEMORY says, as Tessera's machine) or
# qemu-pseries (QEMU's own pseries machine, POWER8); on pc native-pc (KERNEL a native bzImage
# on QEMU's pc machine, which only halts at the end: see run_to_stress_done).
reference_cmd() {
    local name=$1 kernel=$2 initrd=$3 cpus=$4 memory=$5 append=$6
    case $name in
    native-powernv8)
        qemu_cmd pseries "$kernel" "" 3G "$cpus"
        printf '%s\n' -initrd "$initrd" -append "console=hvc0 $append"
        ;;
    qemu-pseries)
        printf '%s\n' qemu-system-ppc64 -M "$qemu_pseries_machine" -cpu POWER8 -smp "$cpus" \
            -m "$memory" -nographic -nodefaults -serial mon:stdio -kernel "$kernel" \
            -initrd "$initrd" -append "console=hvc0 $append"
        ;;
    native-pc)
        qemu_cmd pc "$kernel" "" "$memory"
        printf '%s\n' -smp "$cpus" -initrd "$initrd" -append "$(native_pc_append) $append"
        ;;
    *) die "unknown reference '$name' (native-powernv8, qemu-pseries or native-pc)" ;;
    esac
}

# run_to_stress_done LOG TIMEOUT CMD... : runs CMD (a machine booting the stress initramfs,
# scripts/guest/stress.sh) with its console in LOG until it prints "STRESS done" and then powers
# off, or at most TIMEOUT seconds; a machine still up 15 s after "STRESS done" (a native pc
# without ACPI only halts) or at the timeout is ended with SIGTERM, on which QEMU shuts down
# cleanly. False when "STRESS done" never came.
run_to_stress_done() {
    local log=$1 timeout_s=$2 pid until
    shift 2
    : >"$log"
    setsid "$@" </dev/null >"$log" 2>&1 &
    pid=$!
    until=$((SECONDS + timeout_s))
    while kill -0 "$pid" 2>/dev/null && [ $SECONDS -lt $until ]; do
        if tr -d '\r' <"$log" | grep '^STRESS done' >/dev/null; then
            until=$((SECONDS + 15)) # time to power off
            while kill -0 "$pid" 2>/dev/null && [ $SECONDS -lt $until ]; do sleep 1; done
            break
        fi
        sleep 2
    done
    kill -- -"$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
    tr -d '\r' <"$log" | grep '^STRESS done' >/dev/null
}

# qemu_status LOG QEMU_EXIT : the machine's power-off status. The hypervisor prints
# "tessera: power off (status N)" as its last line on both targets (OPAL's power-down cannot
# carry a status); without that line QEMU itself failed or was killed: 125.
qemu_status() {
    local log=$1 qemu_exit=$2 line
    line=$(tr -d '\r' < "$log" | grep -ao 'tessera: power off (status [0-9]*)' | tail -n1)
    if [ -n "$line" ]; then
        line=${line#*status }
        echo "${line%)}"
    else
        echo "qemu exited with status $qemu_exit before the hypervisor powered off" >&2
        echo 125
    fi
}
