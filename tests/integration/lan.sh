#!/usr/bin/env bash
# lan.sh TARGET: two Linux LPARs on one logical LAN (tests/integration/lan-TARGET.conf), each
# with the default busybox initramfs plus tests/integration/lan-guest.sh: ibmveth comes up,
# link-local addresses, the client pings the server with 0 % loss and fetches 32 MiB over HTTP
# with matching md5 sums, then again with MTU 65000 (jumbo frames), both power off, the run ends
# with status 0. The LAN exists only inside the emulated machine (QEMU has no network device).
set -uo pipefail
target=$1
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
out=$work/out
source "$here/guest-config.sh"
guest_images "$target" "$here/lan-guest.sh"
"$root/scripts/run" --target "$target" --no-setup --no-build --timeout "${LAN_TIMEOUT:-1500}" \
    --config "$here/lan-$target.conf" "${images[@]}" </dev/null >"$out" 2>&1
status=$?
# One clean copy to grep (a `tr | grep -q` pipeline fails under pipefail when grep stops early
# on a long log: tr gets SIGPIPE).
tr -d '\r' < "$out" > "$work/log"
grep -E 'LAN |lpar |tessera:|ibmveth' "$work/log" | grep -vE '^\[ +[0-9]+\.[0-9]+\] '
fails=0
expect() {
    if grep -qE -- "$1" "$work/log"; then echo "ok: $2"; else echo "FAILED: $2 (no /$1/)"; fails=$((fails+1)); fi
}
expect "LAN server: eth0 " "the server's eth0 is up (ibmveth)"
expect "LAN client: eth0 " "the client's eth0 is up"
expect "LAN client: ping: 0% packet loss" "ping with 0 % loss"
expect "LAN client: fetched 33554432 bytes" "32 MiB fetched over TCP"
expect "LAN client: md5 match" "the md5 sums match"
expect "LAN client: MTU 65000: fetched 33554432 bytes" "32 MiB fetched again with MTU 65000 (jumbo frames)"
expect "LAN client: jumbo md5 match" "the md5 sums match with jumbo frames"
expect "LAN server: client reports: md5 match" "the server saw the client's verdict"
expect "lpar server: stopped \(power-off\)" "the server powered off"
expect "lpar client: stopped \(power-off\)" "the client powered off"
if grep -q "LAN .*: FAIL" "$work/log"; then echo "FAILED: a guest step failed"; fails=$((fails+1)); fi
[ $status -eq 0 ] || { echo "FAILED: scripts/run exited $status"; fails=$((fails+1)); }
echo "$target lan: $([ $fails -eq 0 ] && echo PASS || echo FAIL)"
[ $fails -eq 0 ]
