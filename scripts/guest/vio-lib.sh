# shellcheck shell=sh
# Sourced as /vio-lib.sh by the guest scripts that use the logical LAN and virtual SCSI
# (tests/integration/vscsi-guest.sh, scripts/guest/bench-vscsi.sh, scripts/guest/bench-lan.sh;
# packed next to them as /vio-lib.sh by vscsi.sh, scripts/bench-vscsi and scripts/bench-lan);
# the caller defines say().

# cmdline_params PREFIX: for every kernel parameter PREFIX.NAME=VALUE (NAME of a-z, 0-9, _) sets
# the shell variable NAME to VALUE; the caller sets the defaults first.
cmdline_params() {
    for arg in $(cat /proc/cmdline); do
        case $arg in "$1".*=*) ;; *) continue ;; esac
        name=${arg%%=*}
        name=${name#"$1".}
        case $name in '' | *[!a-z0-9_]*) continue ;; esac
        eval "$name=\${arg#*=}"
    done
}

# now: seconds since boot, from /proc/uptime (10 ms).
now() { cut -d' ' -f1 /proc/uptime; }

# load MODULE: pc's PV kernel has the drivers built in (no /lib/modules); pseries: Debian's.
load() { [ ! -d "/lib/modules/$(uname -r)" ] || modprobe "$1"; }

# lan_up ADDRESS: lo and eth0 (ibmveth) up, ADDRESS/16 on eth0; says FAIL and fails otherwise.
lan_up() {
    load ibmveth || { say "FAIL modprobe ibmveth"; return 1; }
    ip link set lo up
    ip link set eth0 up || { say "FAIL no eth0"; return 1; }
    ip addr add "$1/16" dev eth0
}

# verdicts_listen: collects one line per TCP connection on port 5000 into /tmp/verdict, in the
# background (its pid in $listener). A persistent listener (-ll) runs the sink for each
# connection, so a connection that never closes (a peer that powers off right after sending)
# cannot hold up the others; count lines, not connections.
verdicts_listen() {
    printf '#!/bin/sh\nread -r line && echo "$line" >> /tmp/verdict\n' > /tmp/verdict-sink
    chmod +x /tmp/verdict-sink
    : > /tmp/verdict
    nc -ll -p 5000 -e /tmp/verdict-sink &
    listener=$!
}

# verdict_send PEER LINE: LINE to PEER's verdicts_listen, retried for 120 s; fails if never taken.
verdict_send() {
    for i in $(seq 120); do
        echo "$2" | nc -w 5 "$1" 5000 2>/dev/null && return 0
        sleep 1
    done
    return 1
}

# wait_for_disk: until /dev/sda appears (at most 10 minutes). The server may come up after
# ibmvscsi probed: then the login does not scan (docs/vscsi.md), so ask every host to scan.
wait_for_disk() {
    for i in $(seq 600); do
        [ -b /dev/sda ] && return 0
        for h in /sys/class/scsi_host/host*/scan; do [ -e "$h" ] && echo "- - -" > "$h"; done
        sleep 1
    done
    [ -b /dev/sda ]
}
