#!/usr/bin/env bash
# linux-panic.sh TARGET: boot the default Linux guest with an init that does not exist; the
# guest panics, and the hypervisor must report it with the LPAR's name (pseries: RTAS os-term;
# pc: H_TESSERA_SHUTDOWN) and end the run with a failure status.
set -uo pipefail
target=$1
root=$(cd "$(dirname "$0")/../.." && pwd)
out=$(mktemp); trap 'rm -f "$out"' EXIT
"$root/scripts/run" --target "$target" --append "rdinit=/nope init=/nope" --timeout 300 \
    --no-setup --no-build </dev/null >"$out" 2>&1
status=$?
tr -d '\r' < "$out" | grep -E '^lpar |^tessera:|Kernel panic'
fails=0
expect() {
    if tr -d '\r' < "$out" | grep -E -- "$1" >/dev/null; then echo "ok: $2"; else echo "FAILED: $2 (no /$1/)"; fails=$((fails+1)); fi
}
expect "Kernel panic - not syncing" "the guest panicked"
expect "lpar linux: crashed \((os-term|panic): .+\)" "the panic is reported with the LPAR's name and the guest's message"
[ $status -ne 0 ] || { echo "FAILED: scripts/run exited 0 after a guest panic"; fails=$((fails+1)); }
echo "$target linux-panic: $([ $fails -eq 0 ] && echo PASS || echo FAIL)"
[ $fails -eq 0 ]
