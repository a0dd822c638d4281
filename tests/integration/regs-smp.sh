#!/usr/bin/env bash
# regs-smp.sh: the regs test LPAR (its FP/VMX/VSX registers, FPSCR, VSCR and owned SPRs survive
# switches and sleeps) alone on 2 physical CPUs (tests/integration/regs-smp.conf), where its
# vcpus resume on the CPU that still holds their state. pseries only: the ia32 backend loads a
# vcpu's state at every entry.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
out=$(mktemp); trap 'rm -f "$out"' EXIT
"$root/scripts/run" --target pseries --no-setup --no-build --timeout 300 --machine-cpus 2 \
    --config "$here/regs-smp.conf" --image "regs.bin=$root/build/pseries/lpars/regs.bin" \
    </dev/null 2>&1 | tr -d '\r' >"$out"
status=${PIPESTATUS[0]}
grep -E '^(FAIL|ok) |^lpar ' "$out"
fails=0
grep -E '^lpar regs: [0-9]+ passed, 0 failed' "$out" >/dev/null || { echo "FAILED: regs did not pass"; fails=$((fails+1)); }
grep -E '^lpar regs: ran on physical CPUs 0-1' "$out" >/dev/null || { echo "FAILED: regs did not run on both CPUs"; fails=$((fails+1)); }
[ "$status" -eq 0 ] || { echo "FAILED: scripts/run exited $status"; fails=$((fails+1)); }
echo "pseries regs-smp: $([ $fails -eq 0 ] && echo PASS || echo FAIL)"
[ $fails -eq 0 ]
