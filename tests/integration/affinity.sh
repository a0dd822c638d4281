#!/usr/bin/env bash
# affinity.sh TARGET: `cpu-affinity` on a machine with 2 CPUs (tests/integration/affinity.conf,
# the spin and basic test LPARs): the LPARs pinned to CPU 1 run only there (basic's timer, prod
# and IPI wake-ups, often noticed on CPU 0, must still reach it), the unpinned one runs, the one
# pinned to a CPU the machine lacks is stopped with a clear reason, every other LPAR passes and
# the run ends with status 0. What ran where is the hypervisor's report ("ran on physical CPUs").
set -uo pipefail
target=$1
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
work=$(mktemp -d); trap 'kill $feeder 2>/dev/null; rm -rf "$work"' EXIT
out=$work/out
# basic's console-input check: it has the console focus and asks for a line; type it once both
# other LPARs pinned to CPU 1 have ended, so that basic waits ceded on an idle CPU 1 and only a
# wake-up that CPU 0 notices (the keys arrive there) can reach it.
mkfifo "$work/input"
(until grep -a "waiting for console input" "$out" >/dev/null 2>&1 &&
       grep -a "^lpar pinned-a: stopped" "$out" >/dev/null 2>&1 &&
       grep -a "^lpar pinned-b: stopped" "$out" >/dev/null 2>&1; do sleep 0.2; done
 sleep 1; printf 'tessera\n'; exec sleep 1000) >"$work/input" &
feeder=$!
"$root/scripts/run" --target "$target" --no-setup --no-build --timeout 600 --machine-cpus 2 \
    --config "$here/affinity.conf" --image "spin.bin=$root/build/$target/lpars/spin.bin" \
    --image "basic.bin=$root/build/$target/lpars/basic.bin" \
    <"$work/input" 2>&1 | stdbuf -o0 tr -d '\r' >"$out"
status=${PIPESTATUS[0]}
grep -E 'lpar |tessera:' "$out"
fails=0
expect() {
    if grep -E -- "$1" "$out" >/dev/null; then echo "ok: $2"; else echo "FAILED: $2 (no /$1/)"; fails=$((fails+1)); fi
}
for l in pinned-a pinned-b basic; do
    expect "^lpar $l: ran on physical CPUs 1$" "$l ran on CPU 1 only"
    expect "^lpar $l: [0-9]+ passed, 0 failed" "$l passed"
done
expect "^lpar free: ran on physical CPUs [0-9]" "the unpinned LPAR ran"
expect "^lpar free: [0-9]+ passed, 0 failed" "the unpinned LPAR passed"
expect "^lpar nowhere: crashed \(cpu-affinity 5 names no CPU of this machine \(CPUs 0-1\)\)" \
    "an LPAR pinned to a CPU the machine lacks is stopped and reported"
if grep -E "^lpar nowhere: ran on" "$out" >/dev/null; then echo "FAILED: nowhere ran"; fails=$((fails+1)); fi
[ $status -eq 0 ] || { echo "FAILED: scripts/run exited $status"; fails=$((fails+1)); }
echo "$target affinity: $([ $fails -eq 0 ] && echo PASS || echo FAIL)"
[ $fails -eq 0 ]
