#!/usr/bin/env bash
# selftest.sh TARGET [MACHINE_CPUS]: run the test LPARs under the TARGET image (scripts/run
# --selftest --machine-cpus MACHINE_CPUS, default 1) and check the hypervisor's summary: at least
# 30 checks, none failed, exit status 0; with several machine CPUs, that the hypervisor started
# them all (on pc, as many as the ACPI MADT reports).
set -uo pipefail
target=$1 machine_cpus=${2:-1}
root=$(cd "$(dirname "$0")/../.." && pwd)
out=$(mktemp); trap 'rm -f "$out"' EXIT
"$root/scripts/run" --target "$target" --selftest --machine-cpus "$machine_cpus" \
    --no-setup --no-build </dev/null >"$out" 2>&1
status=$?
grep -v '^\[ *[0-9.]*,[0-9]\]' "$out" # skiboot's own log lines are noise here
summary=$(tr -d '\r' < "$out" | grep -E '^[0-9]+ passed, [0-9]+ failed$' | tail -n1)
passed=${summary%% *}
fails=0
[ -n "$summary" ] || { echo "FAILED: no summary line from the hypervisor"; fails=1; }
[ "${passed:-0}" -ge 30 ] || { echo "FAILED: only ${passed:-0} checks ran (want >= 30)"; fails=1; }
case $summary in *" 0 failed") ;; *) echo "FAILED: $summary"; fails=1 ;; esac
[ $status -eq 0 ] || { echo "FAILED: scripts/run exited $status"; fails=1; }
if [ "$machine_cpus" -gt 1 ] && ! tr -d '\r' < "$out" | grep -E "^(powernv|pc): $machine_cpus physical CPU\(s\)" >/dev/null; then
    echo "FAILED: the hypervisor did not report $machine_cpus physical CPUs"; fails=1
fi
# On pc the count is the firmware's ACPI MADT (plat/pc/acpi.cpp), not QEMU's CMOS fallback.
if [ "$target" = pc ] && [ "$machine_cpus" -gt 1 ] && ! tr -d '\r' < "$out" | grep -E "^pc: ACPI MADT: $machine_cpus processor\(s\) enabled" >/dev/null; then
    echo "FAILED: the processor count did not come from the ACPI MADT"; fails=1
fi
echo "$target selftest ($machine_cpus machine CPUs): $([ $fails -eq 0 ] && echo PASS || echo FAIL) ($summary)"
[ $fails -eq 0 ]
