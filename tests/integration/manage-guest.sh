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

create="lparctl create second --memory 256M --cpus 1 --lan net0 --kernel vmlinux --initrd initrd"
cmdline="console=hvc0"
# pc: the TSC is the only clock (as scripts/run and manage-pc.conf say for the control LPAR).
case $(uname -m) in i?86) cmdline="$cmdline tsc=reliable" ;; esac
step "list shows this control LPAR" listed ctl running
# This LPAR on net0 (link-local addresses only; pseries: Debian's ibmveth module, pc: built in).
net_up() { # net_up ADDRESS
    { [ -d /sys/class/net/eth0 ] || modprobe ibmveth; } && ip link set eth0 up \
        && ip addr add "$1/16" dev eth0
}
step "eth0 of this LPAR up on net0" net_up 169.254.0.1
refused "create on a LAN with a bad name" lparctl create third --memory 256M --lan "bad/lan" \
    --kernel vmlinux
refused "create beyond the free memory" lparctl create big --memory 2G --kernel vmlinux
refused "destroy of itself" lparctl destroy ctl
refused "create with a name in use" lparctl create ctl --memory 256M --kernel vmlinux
refused "create from a missing bundle entry" lparctl create third --memory 256M --kernel nothere
step "create and start second" $create --cmdline "$cmdline" --start
step "second's console up to its shell" lparctl console second --until "userspace up" --timeout 900
sleep 2
step "a command in second's shell" lparctl console second --send 'echo second-says-$((6*7))\n' \
    --until "second-says-42" --timeout 300
step "second's eth0 up on net0" lparctl console second --send \
    '{ [ -d /sys/class/net/eth0 ] || modprobe ibmveth; }; ip link set eth0 up; ip addr add 169.254.0.2/16 dev eth0; echo second-net-$((1+1))\n' \
    --until "second-net-2" --timeout 300
step "second pings this LPAR over net0" lparctl console second --send \
    'for i in 1 2 3 4 5 6 7 8 9 10; do ping -c 1 -W 2 169.254.0.1 >/dev/null && break; done; echo second-ping-replies-$(ping -c 5 -W 2 169.254.0.1 | grep -c ttl=)\n' \
    --until "second-ping-replies-5" --timeout 300
step "list shows second running" listed second running
step "stop second (it powers itself off)" lparctl stop second --timeout 300
step "list shows second stopped" listed second stopped
step "destroy second" lparctl destroy second
if lparctl list | grep -q " second "; then fail "second is still listed"; else ok "second is gone"; fi
step "destroy again is fine (idempotent)" lparctl destroy second
step "create second again" $create
step "list shows the new second loaded" listed second loaded
step "destroy the new second" lparctl destroy second
# Linux from files in this LPAR (tests/integration/manage.sh put them at /boot): lparctl copies
# them into the new LPAR, which loads the kernel from its own memory (TLPAR_LOAD_STAGED).
head -c 100 /boot/vmlinux > /tmp/truncated
refused "create from a truncated kernel file" lparctl create third --memory 256M \
    --kernel /tmp/truncated
if lparctl list | grep -q " third "; then fail "the refused third is listed"; else ok "the refused third is gone"; fi
step "create and start third from files" lparctl create third --memory 256M \
    --kernel /boot/vmlinux --initrd /boot/initrd.img --cmdline "$cmdline" --start
step "third's console up to its shell" lparctl console third --until "userspace up" --timeout 900
sleep 2
step "a command in third's shell" lparctl console third --send 'echo third-says-$((6*8))\n' \
    --until "third-says-48" --timeout 300
step "list shows third running" listed third running
step "stop third (it powers itself off)" lparctl stop third --timeout 300
step "destroy third" lparctl destroy third
say "done"
