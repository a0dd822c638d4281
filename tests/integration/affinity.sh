#!/usr/bin/env bash
# affinity.sh TARGET: `cpu-affinity` on a machine with 2 CPUs (tests/integration/affinity.conf,
# the spin test LPAR): the LPARs pinned to CPU 1 run only there, the unpinned one runs, the one
# pinned to a CPU the machine lacks is stopped with a clear reason, every spin LPAR passes and the
# run ends with status 0. What ran where is the hypervisor's report ("ran on physical CPUs").
set -uo pipefail
target=$1
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
out=$(mktemp); trap 'rm -f "$out"' EXIT
"$root/scripts/run" --target "$target" --no-setup --no-build --timeout 600 --machine-cpus 2 \
    --config "$here/affinity.conf" --image "spin.bin=$root/build/$target/lpars/spin.bin" \
    </dev/null 2>&1 | tr -d '\r' >"$out"
status=${PIPESTATUS[0]}
grep -E 'lpar |tessera:' "$out"
fails=0
expect() {
    if grep -E -- "$1" "$out" >/dev/null; then echo "ok: $2"; else echo "FAILED: $2 (no /$1/)"; fails=$((fails+1)); fi
}
for l in pinned-a pinned-b; do
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
