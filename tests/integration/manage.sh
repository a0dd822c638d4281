#!/usr/bin/env bash
# manage.sh TARGET: LPAR management from a control Linux LPAR (docs/management.md). The control
# LPAR (tests/integration/manage-TARGET.conf, the default busybox initramfs with lparctl, its
# driver and tests/integration/manage-guest.sh) creates a second Linux LPAR from the bundle's
# kernel and initramfs on the logical LAN net0, reads its console up to its shell, runs a command
# there, has it ping the control LPAR over net0, lists it running, stops it (the guest powers itself off), destroys it and creates it again; bad requests
# get clear errors. Then it creates a third Linux LPAR from FILES in its own initramfs (the same
# kernel, debug info stripped, and the default initramfs at /boot: copied in and loaded from the
# new LPAR's memory, TLPAR_LOAD_STAGED), reads its console up to its shell, runs a command there,
# stops and destroys it; a truncated kernel file is refused. The run ends with status 0.
set -uo pipefail
target=$1
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
out=$work/out
source "$here/guest-config.sh"
# The kernel and initramfs as files for the control LPAR (Debian's pseries vmlinux carries debug
# information: stripped, it is a third of the size).
kernel="" initrd=""
while IFS='=' read -r key path; do
    case $key in kernel) kernel=$path ;; initrd) initrd=$path ;; esac
done < <("$root/scripts/guest-images" "$target")
case $target in pseries) strip=powerpc64le-linux-gnu-strip ;; pc) strip=i686-linux-gnu-strip ;; esac
"$strip" --strip-debug -o "$work/vmlinux" "$kernel" || { echo "FAILED: $strip $kernel"; exit 1; }
guest_images "$target" "$here/manage-guest.sh" "$work/vmlinux=boot/vmlinux" "$initrd=boot/initrd.img"
"$root/scripts/run" --target "$target" --no-setup --no-build --timeout "${MANAGE_TIMEOUT:-1500}" \
    --config "$here/manage-$target.conf" "${images[@]}" </dev/null >"$out" 2>&1
status=$?
tr -d '\r' < "$out" > "$work/log"
grep -E 'MANAGE|lpar |tessera:|(second|third)-says|second-ping-replies|ID +NAME|^ *[0-9]+ +(ctl|second|third) ' "$work/log" \
    | grep -vE '^\[ +[0-9]+\.[0-9]+\] '
fails=0
expect() {
    if grep -qE -- "$1" "$work/log"; then echo "ok: $2"; else echo "FAILED: $2 (no /$1/)"; fails=$((fails+1)); fi
}
expect "MANAGE: ok: create and start second" "lparctl created and started a second Linux LPAR"
expect "MANAGE: ok: second's console up to its shell" "its console showed its userspace"
expect "^(\[ctl\] )?second-says-42" "a command ran in its shell"
expect "MANAGE: ok: eth0 of this LPAR up on net0" "the control LPAR is on the logical LAN net0"
expect "MANAGE: ok: second pings this LPAR over net0" "the run-time LPAR on net0 pinged it: 5 of 5 replies"
expect "MANAGE: ok: create on a LAN with a bad name: .*LAN could not be attached" "a clear error for a bad LAN name"
expect "MANAGE: ok: list shows second running" "list showed it running"
expect "MANAGE: ok: stop second" "stop powered it off"
expect "lpar second: stopped \(power-off\)" "... through its own power-off"
expect "MANAGE: ok: destroy second" "destroy removed it"
expect "MANAGE: ok: second is gone" "it is no longer listed"
expect "MANAGE: ok: create second again" "creating it again works"
expect "MANAGE: ok: create beyond the free memory: .*not enough free memory" "a clear error for too much memory"
expect "MANAGE: ok: destroy of itself: .*not allowed on this LPAR itself" "a clear error for destroying itself"
expect "MANAGE: ok: create from a truncated kernel file: .*does not load: program headers past the end" \
    "a clear error for a truncated kernel file"
expect "MANAGE: ok: the refused third is gone" "... and nothing of it stays behind"
expect "MANAGE: ok: create and start third from files" "lparctl created a Linux LPAR from files"
expect "MANAGE: ok: third's console up to its shell" "... its console showed its userspace"
expect "^(\[ctl\] )?third-says-48" "... a command ran in its shell"
expect "lpar third: stopped \(power-off\)" "... it powered itself off"
expect "MANAGE: ok: destroy third" "... and was destroyed"
expect "MANAGE: done" "the guest script finished"
if grep -q "MANAGE: FAIL" "$work/log"; then echo "FAILED: a guest step failed"; fails=$((fails+1)); fi
[ $status -eq 0 ] || { echo "FAILED: scripts/run exited $status"; fails=$((fails+1)); }
echo "$target manage: $([ $fails -eq 0 ] && echo PASS || echo FAIL)"
[ $fails -eq 0 ]
