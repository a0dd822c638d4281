#!/bin/sh
# The guest side of tests/integration/lan.sh (run by /init as tessera.run=/lan-guest.sh).
# Kernel parameters: lan.role=server|client lan.ip=ADDRESS lan.peer=ADDRESS.
# The server serves 32 MiB of random data (and its md5) with busybox httpd and powers off once
# the client says it is done (a file the client serves); the client pings the server, fetches
# the data with wget, compares md5 sums and powers off once the server is gone. The server's MTU
# is 65000 from the start, the client's 1500 for the first fetch (TCP keeps to the smaller) and
# then 65000 for a second one: jumbo frames, into ibmveth's larger receive pools.
role="" ip="" peer=""
for arg in $(cat /proc/cmdline); do
    case $arg in
    lan.role=*) role=${arg#lan.role=} ;;
    lan.ip=*) ip=${arg#lan.ip=} ;;
    lan.peer=*) peer=${arg#lan.peer=} ;;
    esac
done
say() { echo "LAN $role: $*"; }

# pseries: Debian's ibmveth module; pc: ibmveth is built into the PV kernel.
[ -d /sys/class/net/eth0 ] || modprobe ibmveth || { say "FAIL modprobe ibmveth"; exit 1; }
ip link set lo up
[ "$role" != server ] || ip link set eth0 mtu 65000 || say "FAIL mtu 65000"
ip link set eth0 up || { say "FAIL no eth0"; exit 1; }
ip addr add "$ip/16" dev eth0
say "eth0 $(cat /sys/class/net/eth0/address) $ip"

# Wait (up to 5 minutes) until the peer answers.
up=0
for i in $(seq 300); do
    if ping -c 1 -W 1 "$peer" >/dev/null 2>&1; then up=1; break; fi
done
[ $up -eq 1 ] || { say "FAIL peer $peer never answered"; exit 1; }
say "peer $peer answers"

mkdir -p /tmp/www
if [ "$role" = server ]; then
    dd if=/dev/urandom of=/tmp/www/data bs=1M count=32 2>/dev/null
    md5sum /tmp/www/data | cut -d' ' -f1 > /tmp/www/data.md5
    say "serving 32 MiB, md5 $(cat /tmp/www/data.md5)"
    httpd -p 80 -h /tmp/www
    # The client serves /done when it has checked the data.
    for i in $(seq 1200); do
        if wget -q -O /tmp/done "http://$peer:8080/done" 2>/dev/null; then
            say "client reports: $(cat /tmp/done)"
            exit 0
        fi
        sleep 1
    done
    say "FAIL the client never reported"
    exit 1
fi

loss=$(ping -c 20 -i 0.2 "$peer" | sed -n 's/.* \([0-9.]*\)% packet loss.*/\1/p')
say "ping: ${loss}% packet loss"
# The server makes its data after the ping answers: wait (up to 2 minutes) until it serves it.
for i in $(seq 120); do
    wget -q -O /tmp/data.md5 "http://$peer/data.md5" 2>/dev/null && break
    sleep 1
done
start=$(date +%s)
wget -q -O /tmp/data "http://$peer/data" || say "FAIL wget data"
end=$(date +%s)
wget -q -O /tmp/data.md5 "http://$peer/data.md5" || say "FAIL wget data.md5"
got=$(md5sum /tmp/data | cut -d' ' -f1)
size=$(wc -c < /tmp/data)
say "fetched $size bytes in $((end - start)) s, md5 $got"
verdict="md5 match"
if [ "$got" = "$(cat /tmp/data.md5)" ]; then
    say "md5 match"
else
    say "FAIL md5 mismatch (server $(cat /tmp/data.md5))"
    verdict="md5 mismatch"
fi
rm -f /tmp/data
ip link set eth0 mtu 65000 || say "FAIL mtu 65000"
wget -q -O /tmp/data "http://$peer/data" || say "FAIL wget data (MTU 65000)"
got=$(md5sum /tmp/data | cut -d' ' -f1)
say "MTU $(cat /sys/class/net/eth0/mtu): fetched $(wc -c < /tmp/data) bytes, md5 $got"
if [ "$got" = "$(cat /tmp/data.md5)" ]; then
    say "jumbo md5 match"
else
    say "FAIL jumbo md5 mismatch (server $(cat /tmp/data.md5))"
    verdict="md5 mismatch"
fi
echo "$verdict" > /tmp/www/done
httpd -p 8080 -h /tmp/www
# Until the server has fetched /done and powered off (its LPAR stops answering).
for i in $(seq 120); do
    ping -c 1 -W 2 "$peer" >/dev/null 2>&1 || break
    sleep 1
done
exit 0
