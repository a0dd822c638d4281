# shellcheck shell=bash
# The result lines of scripts/bench-linux and their statistics, shared by scripts/bench-linux and
# scripts/compare. Source it.
#
# scripts/bench-linux writes one line per boot to OUTPUT's .runs file (next to the report):
#   CONFIG RUN STATUS guest_userspace wall_userspace guest_loop wall_loop wall_poweroff
#   wall_kernel_to_userspace qemu_cpu_loop wall_firmware_to_userspace
# seconds, "-" for what the run did not reach or cannot show; STATUS is "ok" or why not
# (timeout, no-userspace, no-cpu-loop, exit-N). The field numbers (awk's $N):
# shellcheck disable=SC2034 # used by the scripts that source this
BL_STATUS=3 BL_GUEST_USERSPACE=4 BL_WALL_USERSPACE=5 BL_GUEST_LOOP=6 BL_WALL_LOOP=7 \
    BL_WALL_POWEROFF=8 BL_WALL_KERNEL=9 BL_QEMU_CPU_LOOP=10 BL_WALL_FIRMWARE=11

# bl_baseline TARGET : the configuration that runs the same kernel natively on TARGET's machine.
bl_baseline() {
    case $1 in
    pseries) echo native-powernv8 ;;
    pc) echo native-pc ;;
    *) return 1 ;;
    esac
}

# bl_stats RUNS CONFIG FIELD : "median min max n" over CONFIG's runs in the file RUNS that reached
# FIELD ("" if none; a run that failed later still counts for what it reached).
bl_stats() {
    awk -v c="$2" -v f="$3" '$1 == c && $f != "-" { print $f }' "$1" | sort -g \
        | awk '{ v[NR] = $1 } END {
            if (NR == 0) exit
            m = NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
            printf "%.3f %.3f %.3f %d\n", m, v[1], v[NR], NR }'
}

# bl_failures RUNS CONFIG : the statuses of CONFIG's failed runs, counted ("" if none failed).
bl_failures() {
    awk -v c="$2" '$1 == c && $3 != "ok" { n[$3]++ }
        END { for (s in n) { printf "%s%s x%d", sep, s, n[s]; sep = ", " } }' "$1"
}

# bl_ratio RUNS A B FIELD : median of A over median of B, 3 decimals ("" if either has none).
bl_ratio() {
    local a b
    a=$(bl_stats "$1" "$2" "$4" | cut -d' ' -f1)
    b=$(bl_stats "$1" "$3" "$4" | cut -d' ' -f1)
    [ -n "$a" ] && [ -n "$b" ] || return 0
    awk -v a="$a" -v b="$b" 'BEGIN { if (b > 0) printf "%.3f\n", a / b }'
}
