#!/bin/sh
# The guest side of scripts/bench-vscsi (run by /init as tessera.run=/bench-vscsi.sh).
# Kernel parameters: bench.role=server|client bench.ip=ADDRESS bench.peer=ADDRESS bench.mib=N.
# The server makes an N MiB disk image in tmpfs and times sequential dd on it inside itself (the
# baseline: the backing store with no virtual SCSI in the way), then exports it with vscsi-export
# (the target core's fileio backstore on that file) and waits for the client's "done" over the
# LAN. The client finds /dev/sda and times the same dd on it with direct I/O (no page cache in the
# client: every block crosses the CRQ and H_COPY_RDMA). Times come from /proc/uptime (10 ms).
# Lines for the host:
#   BENCH-VSCSI <role>: write_s|read_s SECONDS BYTES    BENCH-VSCSI <role>: direct yes|no
role="" ip="" peer="" mib=64
. /vio-lib.sh
cmdline_params bench
say() { echo "BENCH-VSCSI $role: $*"; }
# timed CMD... : "SECONDS BYTES" of a dd with bs=1M (BYTES from its "F+P records out" line:
# Debian's busybox prints no byte count; a partial record counts as a failed transfer)
timed() {
    t0=$(now)
    "$@" 2> /tmp/dd.err || { say "FAIL $*: $(tail -n 1 /tmp/dd.err)"; exit 1; }
    t1=$(now)
    echo "$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }') $(sed -n 's/^\([0-9]*\)+0 records out.*/\1/p' /tmp/dd.err | awk '{ print $1 * 1048576 }')"
}
lan_up "$ip" || exit 1

if [ "$role" = server ]; then
    img=/tmp/disk.img
    dd if=/dev/zero of=$img bs=1M count="$mib" 2>/dev/null   # allocated once, rewritten below
    say "write_s $(timed dd if=/dev/zero of=$img bs=1M count="$mib" conv=notrunc)"
    say "read_s $(timed dd if=$img of=/dev/null bs=1M)"
    vscsi-export "$img" || { say "FAIL vscsi-export"; exit 1; }
    say "exported"
    verdicts_listen
    for i in $(seq 1500); do
        [ -s /tmp/verdict ] && break
        sleep 1
    done
    kill $listener 2>/dev/null
    say "client reports: $(cat /tmp/verdict)"
    exit 0
fi

report() { verdict_send "$peer" "$1"; }
load scsi_transport_srp && load ibmvscsi && load sd_mod || { report FAIL; say "FAIL modprobe"; exit 1; }
wait_for_disk
[ -b /dev/sda ] || { report FAIL; say "FAIL no /dev/sda"; exit 1; }
# busybox dd has iflag/oflag=direct; without it, drop the page cache before reading.
if dd if=/dev/sda of=/dev/null bs=4096 count=1 iflag=direct 2>/dev/null; then
    rflag=iflag=direct wflag=oflag=direct
    say "direct yes"
else
    rflag="" wflag=conv=fsync
    say "direct no"
fi
say "write_s $(timed dd if=/dev/zero of=/dev/sda bs=1M count="$mib" $wflag)"
echo 3 > /proc/sys/vm/drop_caches
say "read_s $(timed dd if=/dev/sda of=/dev/null bs=1M count="$mib" $rflag)"
report done
exit 0
