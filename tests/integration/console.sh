#!/usr/bin/env bash
# console.sh TARGET: Tessera's console keys driven through a pipe into scripts/run, two LPARs
# that echo what they are typed (tests/integration/console.conf, the echo test LPAR):
#   Ctrl-] ?        Tessera's key help (not QEMU's: QEMU keeps Ctrl-A)
#   Ctrl-] 2 / 1    the keyboard moves between the LPARs, each focus change is announced
#   Ctrl-] n        the next LPAR
#   binary input    CR, NUL and a literal Ctrl-] (typed Ctrl-] Ctrl-]) arrive intact
# and each LPAR's lines are named on the shared console.
set -uo pipefail
target=$1
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
source "$root/scripts/lib/common.sh"
source "$root/scripts/lib/console.sh"
echo_bin=$root/build/$target/lpars/echo.bin
[ -f "$echo_bin" ] || die "no $echo_bin: build the $target preset first"
work=$(mktemp -d)
run_pid=""
trap '[ -z "$run_pid" ] || kill "$run_pid" 2>/dev/null; exec 4>&-; rm -rf "$work"' EXIT
out=$work/out
mkfifo "$work/keys"
"$root/scripts/run" --target "$target" --no-setup --no-build --timeout 300 \
    --config "$here/console.conf" --image "echo.bin=$echo_bin" <"$work/keys" >"$out" 2>&1 &
run_pid=$!
exec 4>"$work/keys"

fails=0
# Types keys (printf escapes: \x1d is Ctrl-]); what they cause is looked for after this point.
type_keys() { CONSOLE_FROM=$(stat -c %s "$out"); export CONSOLE_FROM; printf "$1" >&4; }
expect_seen() { # expect_seen TEXT DESCRIPTION [LPAR]
    if console_wait "$out" "$1" 60 "${3-}"; then echo "ok: $2"; else
        echo "FAILED: $2 (no \"$1\"${3:+ from $3})"; fails=$((fails+1)); fi
}
expect_not() { # expect_not TEXT DESCRIPTION [LPAR]
    if console_saw "$out" "$1" "${3-}"; then echo "FAILED: $2 (\"$1\"${3:+ from $3})"; fails=$((fails+1))
    else echo "ok: $2"; fi
}

expect_seen "echo ready" "left is up" left
expect_seen "echo ready" "right is up" right
expect_seen "-- console input now goes to 1 left (Ctrl-] ? for help)" "the boot says who has the keyboard and the key"

type_keys '\x1d?'
expect_seen "-- Tessera console keys: Ctrl-] 1..9" "Ctrl-] ? prints Tessera's key help"
expect_seen "--   2 right" "the help lists the LPARs"
expect_not "print this help" "QEMU's own help did not answer"

type_keys 'one\n'
expect_seen "echo: 4 bytes: 6f 6e 65 0a" "input goes to the first LPAR at first" left
type_keys '\x1d2'
expect_seen "console input now goes to 2 right" "Ctrl-] 2 moves the keyboard and says to whom"
type_keys 'two\n'
expect_seen "echo: 4 bytes: 74 77 6f 0a" "input now goes to the second LPAR" right
expect_not "echo: 4 bytes: 74 77 6f 0a" "and no longer to the first" left

# Binary: "a CR NUL b ^] CR NUL NUL LF" (^] typed as Ctrl-] Ctrl-]): echoed as three lines
# (CR and LF end one), every byte as it was typed; hvc_vio's rule would have lost the NULs.
type_keys 'a\r\x00b\x1d\x1d\r\x00\x00\n'
expect_seen "echo: 2 bytes: 61 0d" "binary input: a CR" right
expect_seen "echo: 4 bytes: 00 62 1d 0d" "binary input: NUL after CR, Ctrl-] arrive intact" right
expect_seen "echo: 3 bytes: 00 00 0a" "binary input: NUL NUL LF arrive intact" right

type_keys '\x1d1'
expect_seen "console input now goes to 1 left" "Ctrl-] 1 moves it back"
type_keys 'three\n'
expect_seen "echo: 6 bytes: 74 68 72 65 65 0a" "the first LPAR has the keyboard again" left
type_keys 'quit\n'
expect_seen "lpar left: stopped (test exit: 3 passed, 0 failed)" "left ended well"
# left is gone: the focus moved on by itself; Ctrl-] n stays on the only one left
type_keys '\x1dn'
type_keys 'quit\n'
expect_seen "lpar right: stopped (test exit: 3 passed, 0 failed)" "right ended well"

wait "$run_pid"
status=$?
run_pid=""
tr -d '\r' < "$out" | grep -vE '^\[ *[0-9.]*,[0-9]\]' | grep -vE '^==>'
if tr -d '\r' < "$out" | grep '^\[left\] echo: 5 bytes: 71 75 69 74 0a$' >/dev/null; then
    echo "ok: each LPAR's lines are named on the shared console"
else echo "FAILED: no line '[left] echo: ...'"; fails=$((fails+1)); fi
[ $status -eq 0 ] || { echo "FAILED: scripts/run exited $status"; fails=$((fails+1)); }
echo "$target console: $([ $fails -eq 0 ] && echo PASS || echo FAIL)"
[ $fails -eq 0 ]
