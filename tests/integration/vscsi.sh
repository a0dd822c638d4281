#!/usr/bin/env bash
# vscsi.sh TARGET: a storage-server LPAR and two client LPARs over virtual SCSI
# (tests/integration/vscsi-TARGET.conf, tests/integration/vscsi-guest.sh): the server serves a
# RAM disk to each with the stock ibmvscsis through vscsi-export; each client (stock ibmvscsi +
# sd_mod) makes an ext2 filesystem, writes 32 MiB, syncs, unmounts, mounts again and reads it
# back with the same md5; all power off, the run ends with status 0.
# vscsi.sh TARGET crash: one client (vscsi-crash-TARGET.conf); after the same checks the server
# panics, the client must get I/O errors and power off normally.
set -uo pipefail
target=$1 mode=${2:-}
conf=vscsi-$target.conf clients="client1 client2"
[ "$mode" != crash ] || conf=vscsi-crash-$target.conf clients=client1
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
out=$work/out
source "$here/guest-config.sh"
guest_images "$target" "$here/vscsi-guest.sh" "$root/scripts/guest/vio-lib.sh=vio-lib.sh"
"$root/scripts/run" --target "$target" --no-setup --no-build --timeout "${VSCSI_TIMEOUT:-1500}" \
    --config "$here/$conf" "${images[@]}" </dev/null >"$out" 2>&1
status=$?
[ -z "${VSCSI_LOG:-}" ] || cp "$out" "$VSCSI_LOG"
# One clean copy to grep (a `tr | grep -q` pipeline fails under pipefail when grep stops early
# on a long log: tr gets SIGPIPE).
tr -d '\r' < "$out" > "$work/log"
cat "$work/log" | grep -E 'VSCSI |vscsi-export|lpar |tessera:|ibmvscsi' | grep -vE '^\[ +[0-9]+\.[0-9]+\] ' | grep -v NON_EXISTENT_LUN
fails=0
expect() {
    if grep -qE -- "$1" "$work/log"; then echo "ok: $2"; else echo "FAILED: $2 (no /$1/)"; fails=$((fails+1)); fi
}
expect "VSCSI server: exported" "the server exports its disks (ibmvscsis, configfs)"
for c in $clients; do
    expect "\[$c\] VSCSI client: disk /dev/sda: 131072 sectors" "$c sees a 64 MiB disk"
    expect "\[$c\] VSCSI client: wrote 32 MiB" "$c wrote 32 MiB to an ext2 filesystem"
    expect "\[$c\] VSCSI client: read back 33554432 bytes" "$c read it back after a remount"
    expect "\[$c\] VSCSI client: md5 match" "$c: the md5 sums match"
    expect "lpar $c: stopped \(power-off\)" "$c powered off"
done
n=$(grep -c "VSCSI server: client reports: md5 match" "$work/log") want=$(echo $clients | wc -w)
if [ "$n" -eq "$want" ]; then echo "ok: the server saw $n verdicts"; else echo "FAILED: the server saw $n verdicts, not $want"; fails=$((fails+1)); fi
if [ "$mode" = crash ]; then
    expect "lpar server: crashed" "the server crashed (on purpose)"
    expect "\[client1\] VSCSI client: I/O error after the server crashed" "client1 got an I/O error, no hang"
else
    expect "lpar server: stopped \(power-off\)" "the server powered off"
fi
if grep -q "VSCSI .*: FAIL" "$work/log"; then echo "FAILED: a guest step failed"; fails=$((fails+1)); fi
[ $status -eq 0 ] || { echo "FAILED: scripts/run exited $status"; fails=$((fails+1)); }
echo "$target vscsi${mode:+ $mode}: $([ $fails -eq 0 ] && echo PASS || echo FAIL)"
[ $fails -eq 0 ]
