#!/usr/bin/env bash
# vscsi.sh TARGET: a storage-server LPAR and a client LPAR over virtual SCSI
# (tests/integration/vscsi-TARGET.conf, tests/integration/vscsi-guest.sh): the server serves a
# RAM disk with the stock ibmvscsis through vscsi-export; the client (stock ibmvscsi + sd_mod)
# makes an ext2 filesystem, writes 32 MiB, syncs, unmounts, mounts again and reads it back with
# the same md5; both power off, the run ends with status 0.
set -uo pipefail
target=$1
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
out=$work/out
images=()
while IFS='=' read -r key path; do
    case $key in
    kernel) images+=(--image "vmlinux=$path") ;;
    initrd) initrd=$path ;;
    esac
done < <("$root/scripts/guest-images" "$target")
# The default initramfs plus the test script, as a second archive.
mkdir -p "$work/extra"
install -m 755 "$here/vscsi-guest.sh" "$work/extra/vscsi-guest.sh"
(cd "$work/extra" && echo vscsi-guest.sh | cpio --quiet -o -H newc -R 0:0) | gzip -9n > "$work/extra.cpio.gz"
cat "$initrd" "$work/extra.cpio.gz" > "$work/initrd"
images+=(--image "initrd=$work/initrd")
"$root/scripts/run" --target "$target" --no-setup --no-build --timeout "${VSCSI_TIMEOUT:-1500}" \
    --config "$here/vscsi-$target.conf" "${images[@]}" </dev/null >"$out" 2>&1
status=$?
[ -z "${VSCSI_LOG:-}" ] || cp "$out" "$VSCSI_LOG"
tr -d '\r' < "$out" | grep -E 'VSCSI |vscsi-export|lpar |tessera:|ibmvscsi' | grep -vE '^\[ +[0-9]+\.[0-9]+\] ' | grep -v NON_EXISTENT_LUN
fails=0
expect() {
    if tr -d '\r' < "$out" | grep -qE -- "$1"; then echo "ok: $2"; else echo "FAILED: $2 (no /$1/)"; fails=$((fails+1)); fi
}
expect "VSCSI server: exported" "the server exports its disk (ibmvscsis, configfs)"
expect "VSCSI client: disk /dev/sda: 131072 sectors" "the client sees a 64 MiB disk"
expect "VSCSI client: wrote 32 MiB" "32 MiB written to an ext2 filesystem"
expect "VSCSI client: read back 33554432 bytes" "read back after a remount"
expect "VSCSI client: md5 match" "the md5 sums match"
expect "VSCSI server: client reports: md5 match" "the server saw the client's verdict"
expect "lpar server: stopped \(power-off\)" "the server powered off"
expect "lpar client: stopped \(power-off\)" "the client powered off"
if tr -d '\r' < "$out" | grep -q "VSCSI .*: FAIL"; then echo "FAILED: a guest step failed"; fails=$((fails+1)); fi
[ $status -eq 0 ] || { echo "FAILED: scripts/run exited $status"; fails=$((fails+1)); }
echo "$target vscsi: $([ $fails -eq 0 ] && echo PASS || echo FAIL)"
[ $fails -eq 0 ]
