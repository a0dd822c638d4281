#!/usr/bin/env bash
# console-log.sh: scripts/lib/console.sh on made-up console logs (no QEMU): a prompt broken by
# another LPAR's line is still found, per LPAR, and CONSOLE_FROM skips what came before.
set -uo pipefail
source "$(dirname "$0")/../../scripts/lib/common.sh"
source "$TESSERA_ROOT/scripts/lib/console.sh"
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
fails=0
want() { # want yes|no DESCRIPTION LOG-CONTENT TEXT [LPAR]
    printf "$3" > "$work/log"
    local got=no
    console_saw "$work/log" "$4" "${5-}" && got=yes
    if [ "$got" = "$1" ]; then echo "ok: $2"; else echo "FAILED: $2 (saw: $got)"; fails=$((fails+1)); fi
}
prompt="waiting for console input"
want yes "a whole prompt, one LPAR, no prefix" 'hv\r\n# waiting for console input\r\n' "$prompt"
want yes "a prompt broken by another LPAR's line" \
    '[basic] # waiting for con\r\n[chaos] ok - x\n[basic] sole input: type\n' "$prompt"
want yes "... found for that LPAR" \
    '[basic] # waiting for con\r\n[chaos] ok - x\n[basic] sole input: type\n' "$prompt" basic
want no "... not for the other one" \
    '[basic] # waiting for con\r\n[chaos] ok - x\n[basic] sole input: type\n' "$prompt" chaos
want no "two LPARs' halves do not make a prompt" \
    '[basic] # waiting for con\r\n[chaos] sole input\n' "$prompt"
CONSOLE_FROM=12 want no "CONSOLE_FROM skips the start of the log" '[a] waiting for console input\n' "$prompt"
CONSOLE_FROM=3 want yes "CONSOLE_FROM keeps what follows" 'xy\n[a] waiting for console input\n' "$prompt" a
echo "console-log: $([ $fails -eq 0 ] && echo PASS || echo FAIL)"
[ $fails -eq 0 ]
