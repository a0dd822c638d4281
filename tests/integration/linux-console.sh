#!/usr/bin/env bash
# linux-console.sh TARGET: typing into Linux's console (pseries: the stock hvc_vio driver; pc:
# the PV port's hvc driver) through a pipe into scripts/run: bytes typed at a raw-mode tty
# arrive intact, CR followed by NUL and a literal Ctrl-] (typed Ctrl-] Ctrl-]) included.
set -uo pipefail
target=$1
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
source "$root/scripts/lib/common.sh"
source "$root/scripts/lib/console.sh"
work=$(mktemp -d)
run_pid=""
trap '[ -z "$run_pid" ] || kill "$run_pid" 2>/dev/null; exec 4>&-; rm -rf "$work"' EXIT
out=$work/out
mkfifo "$work/keys"
"$root/scripts/run" --target "$target" --no-setup --no-build --timeout 600 \
    <"$work/keys" >"$out" 2>&1 &
run_pid=$!
exec 4>"$work/keys"

fails=0
# Types keys (printf escapes: \x1d is Ctrl-]); what they cause is looked for after this point.
type_keys() { CONSOLE_FROM=$(stat -c %s "$out"); export CONSOLE_FROM; printf "$1" >&4; }
expect_seen() { # expect_seen TEXT DESCRIPTION SECONDS
    if console_wait "$out" "$1" "$3"; then echo "ok: $2"; else
        echo "FAILED: $2 (no \"$1\")"; fails=$((fails+1)); fi
}

expect_seen "TESSERA-GUEST: userspace up" "Linux reached its shell" 500
sleep 2
# The shell reads its line; then the tty is raw and dd takes 9 bytes as they come.
type_keys 'stty raw -echo; echo RAW""READY; dd bs=1 count=9 2>/dev/null | od -An -tx1; stty sane\n'
expect_seen "RAWREADY" "the tty is raw" 60
sleep 1
type_keys 'a\r\x00b\x1d\x1d\r\x00\x00\n'
expect_seen " 61 0d 00 62 1d 0d 00 00 0a" "Linux read a CR NUL b ^] CR NUL NUL LF byte for byte" 60
# (newlines first: should bytes have been lost, they complete dd's 9 and the shell comes back)
type_keys '\n\n\n\n\n\n\n\n\npoweroff -f\n'
wait "$run_pid"
status=$?
run_pid=""
tr -d '\r' < "$out" | grep -aE 'RAW|^ [0-9a-f]{2} |lpar |tessera:' | grep -vE '^\[ +[0-9]+\.[0-9]+\] '
[ $status -eq 0 ] || { echo "FAILED: scripts/run exited $status"; fails=$((fails+1)); }
echo "$target linux-console: $([ $fails -eq 0 ] && echo PASS || echo FAIL)"
[ $fails -eq 0 ]
