#!/usr/bin/env bash
# mixed.sh TARGET: Linux with its checks initramfs and test LPARs in one run
# (tests/integration/mixed-TARGET.conf): every LPAR must end as it would alone.
set -uo pipefail
target=$1
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
out=$(mktemp); trap 'rm -f "$out"' EXIT
images=()
while IFS='=' read -r key path; do
    case $key in kernel) images+=(--image "vmlinux=$path") ;; initrd) images+=(--image "initrd=$path") ;; esac
done < <("$root/scripts/guest-images" "$target" --checks)
# The test LPARs the configuration names (kernel = NAME.bin).
mapfile -t bins < <(sed -n 's/^kernel *= *\([a-z0-9_-]*\.bin\)$/\1/p' "$here/mixed-$target.conf")
for bin in "${bins[@]}"; do images+=(--image "$bin=$root/build/$target/lpars/$bin"); done
"$root/scripts/run" --target "$target" --no-setup --no-build --timeout 600 \
    --config "$here/mixed-$target.conf" "${images[@]}" </dev/null >"$out" 2>&1
status=$?
tr -d '\r' < "$out" | grep -E 'CHECK|passed|lpar |tessera:' | grep -vE '^\[ +[0-9]+\.[0-9]+\] '
fails=0
expect() {
    if tr -d '\r' < "$out" | grep -E -- "$1" >/dev/null; then echo "ok: $2"; else echo "FAILED: $2 (no /$1/)"; fails=$((fails+1)); fi
}
expect "TESSERA-GUEST: userspace up" "Linux reached userspace next to the test LPARs"
# 7 on every target + sigill and mitigations (pseries), or exceptions, anon-fault-around,
# shmem-write-around, move-fill and fork-copy (pc) (scripts/guest/checks.sh)
case $target in pc) checks=12 ;; *) checks=9 ;; esac
# (several LPARs share the console: each LPAR line starts with its name)
expect "^\[linux\] $checks passed, 0 failed" "Linux's own checks all passed"
expect "lpar linux: stopped \(power-off\)" "Linux powered its LPAR off"
for bin in "${bins[@]}"; do
    name=${bin%.bin}
    expect "lpar $name: [0-9]+ passed, 0 failed" "test LPAR $name passed next to Linux"
done
if tr -d '\r' < "$out" | grep "CHECK .*: FAIL" >/dev/null; then echo "FAILED: a guest check failed"; fails=$((fails+1)); fi
[ $status -eq 0 ] || { echo "FAILED: scripts/run exited $status"; fails=$((fails+1)); }
echo "$target mixed: $([ $fails -eq 0 ] && echo PASS || echo FAIL)"
[ $fails -eq 0 ]
