#!/bin/sh
# The guest side of scripts/bench-lan (run by /init as tessera.run=/bench-lan.sh).
# Kernel parameters: bench.role=server|client bench.ip=ADDRESS bench.peer=ADDRESS bench.mib=N.
# The server makes N MiB of random data in tmpfs and serves it with busybox httpd; it first
# times the transfer over loopback inside itself (wget from 127.0.0.1 to /dev/null) and pings
# 127.0.0.1, then serves /ready. The client waits for /ready, pings the server and times the
# same transfer over the logical LAN. Times come from /proc/uptime (10 ms). Lines for the host:
#   BENCH-LAN <role>: loopback_s|lan_s SECONDS BYTES    BENCH-LAN <role>: ping_lo|ping_lan AVG_MS
role="" ip="" peer="" mib=32 mtu=1500
. /vio-lib.sh
cmdline_params bench
say() { echo "BENCH-LAN $role: $*"; }
# timed_fetch URL : "SECONDS BYTES" of a wget to /dev/null
timed_fetch() {
    t0=$(now)
    wget -q -O - "$1" | wc -c > /tmp/bytes
    t1=$(now)
    echo "$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }') $(cat /tmp/bytes)"
}
ping_avg() { ping -c "$2" -i 0.2 "$1" | sed -n 's|.*= [0-9.]*/\([0-9.]*\)/.*|\1|p'; }

[ -d /sys/class/net/eth0 ] || modprobe ibmveth || { say "FAIL no ibmveth"; exit 1; }
ip link set lo up
ip link set eth0 mtu "$mtu" || { say "FAIL mtu $mtu"; exit 1; }
ip link set eth0 up || { say "FAIL no eth0"; exit 1; }
ip addr add "$ip/16" dev eth0
up=0
for i in $(seq 300); do
    if ping -c 1 -W 1 "$peer" >/dev/null 2>&1; then up=1; break; fi
done
[ $up -eq 1 ] || { say "FAIL peer $peer never answered"; exit 1; }
mkdir -p /tmp/www
if [ "$role" = server ]; then
    dd if=/dev/urandom of=/tmp/www/data bs=1M count="$mib" 2>/dev/null
    httpd -p 80 -h /tmp/www
    sleep 1
    say "loopback_s $(timed_fetch http://127.0.0.1/data)"
    say "ping_lo $(ping_avg 127.0.0.1 20)"
    echo ready > /tmp/www/ready
    for i in $(seq 1200); do
        if wget -q -O /tmp/done "http://$peer:8080/done" 2>/dev/null; then
            say "done"
            exit 0
        fi
        sleep 1
    done
    say "FAIL the client never reported"
    exit 1
fi
for i in $(seq 600); do
    wget -q -O /dev/null "http://$peer/ready" 2>/dev/null && break
    sleep 2
done
say "ping_lan $(ping_avg "$peer" 20)"
say "lan_s $(timed_fetch "http://$peer/data")"
echo done > /tmp/www/done
httpd -p 8080 -h /tmp/www
for i in $(seq 120); do
    ping -c 1 -W 2 "$peer" >/dev/null 2>&1 || break
    sleep 1
done
exit 0
