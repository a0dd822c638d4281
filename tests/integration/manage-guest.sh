#!/bin/sh
# The guest side of tests/integration/manage.sh, run in the control LPAR by /init
# (tessera.run=/manage-guest.sh). Every step prints `MANAGE: ok: ...` or `MANAGE: FAIL: ...`.
say() { echo "MANAGE: $*"; }
ok() { say "ok: $*"; }
fail() { say "FAIL: $*"; }
step() { # step WHAT COMMAND...: run it, its output shown, ok/FAIL by its status
    what=$1; shift
    if "$@"; then ok "$what"; else fail "$what (status $?)"; fi
}
refused() { # refused WHAT COMMAND...: the command must fail with one line on stderr
    what=$1; shift
    if "$@" 2>/tmp/err; then fail "$what: accepted"; else ok "$what: $(cat /tmp/err)"; fi
}
listed() { # listed NAME STATE: `lparctl list` has NAME in STATE
    lparctl list > /tmp/list && cat /tmp/list && grep -qE "^[0-9]+ +$1 +$2 " /tmp/list
}

create="lparctl create second --memory 256M --cpus 1 --kernel vmlinux --initrd initrd"
step "list shows this control LPAR" listed ctl running
refused "create beyond the free memory" lparctl create big --memory 2G --kernel vmlinux
refused "destroy of itself" lparctl destroy ctl
refused "create with a name in use" lparctl create ctl --memory 256M --kernel vmlinux
refused "create from a missing bundle entry" lparctl create third --memory 256M --kernel nothere
step "create and start second" $create --cmdline "console=hvc0" --start
step "second's console up to its shell" lparctl console second --until "userspace up" --timeout 900
sleep 2
step "a command in second's shell" lparctl console second --send 'echo second-says-$((6*7))\n' \
    --until "second-says-42" --timeout 300
step "list shows second running" listed second running
step "stop second (it powers itself off)" lparctl stop second --timeout 300
step "list shows second stopped" listed second stopped
step "destroy second" lparctl destroy second
if lparctl list | grep -q " second "; then fail "second is still listed"; else ok "second is gone"; fi
step "destroy again is fine (idempotent)" lparctl destroy second
step "create second again" $create
step "list shows the new second loaded" listed second loaded
step "destroy the new second" lparctl destroy second
say "done"
