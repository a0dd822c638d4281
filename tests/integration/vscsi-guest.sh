#!/bin/sh
# The guest side of tests/integration/vscsi.sh (run by /init as tessera.run=/vscsi-guest.sh).
# Kernel parameters: vscsi.role=server|client vscsi.ip=ADDRESS vscsi.peer=ADDRESS (clients)
# vscsi.clients=N (the server). The server exports a 64 MiB RAM disk to each client
# (vscsi-export) and powers off once the N clients have sent their verdicts over the LAN; the client finds the disk (ibmvscsi + sd_mod), makes an ext2 filesystem,
# writes 32 MiB, syncs, unmounts, mounts again and compares md5 sums.
role="" ip="" peer="" clients=1 crash=0
. /vio-lib.sh
cmdline_params vscsi
say() { echo "VSCSI $role: $*"; }
# Kernel messages (the target core's at a client's login, ibmvscsi's resets) share the console
# with this script's lines and could land inside one of them; the checks read only these lines.
echo 1 > /proc/sys/kernel/printk
lan_up "$ip" || exit 1

if [ "$role" = server ]; then
    verdicts_listen # one line per client
    vscsi-export 64M || { say "FAIL vscsi-export"; exit 1; }
    say "exported ($(grep MemAvailable /proc/meminfo | tr -s " "))"
    for i in $(seq 1500); do
        [ "$(wc -l < /tmp/verdict)" -ge "$clients" ] && break
        sleep 1
    done
    kill $listener 2>/dev/null
    while read -r line; do say "client reports: $line"; done < /tmp/verdict
    if [ $crash -eq 1 ]; then
        # vscsi.crash=1: the server panics; its clients must get I/O errors and go on.
        say "crashing on purpose"
        echo c > /proc/sysrq-trigger
    fi
    exit 0
fi

verdict() {
    say "$1"
    verdict_send "$peer" "$1" || say "FAIL the server never took the verdict"
}

load scsi_transport_srp && load ibmvscsi && load sd_mod || { verdict "FAIL modprobe"; exit 1; }
wait_for_disk
[ -b /dev/sda ] || { verdict "FAIL no /dev/sda"; exit 1; }
say "disk /dev/sda: $(cat /sys/block/sda/size) sectors"
load crc32c_generic && load ext4 || { verdict "FAIL modprobe ext4"; exit 1; }
mke2fs -q /dev/sda >/dev/null 2>&1 || mke2fs /dev/sda || { verdict "FAIL mke2fs"; exit 1; }
mkdir -p /mnt
mount -t ext2 /dev/sda /mnt || { verdict "FAIL mount"; exit 1; }
dd if=/dev/urandom of=/tmp/data bs=1M count=32 2>/dev/null
want=$(md5sum /tmp/data | cut -d' ' -f1)
start=$(date +%s)
cp /tmp/data /mnt/data && sync || { verdict "FAIL write"; exit 1; }
end=$(date +%s)
say "wrote 32 MiB in $((end - start)) s, md5 $want"
rm /tmp/data
umount /mnt || { verdict "FAIL umount"; exit 1; }
echo 3 > /proc/sys/vm/drop_caches
mount -t ext2 /dev/sda /mnt || { verdict "FAIL remount"; exit 1; }
got=$(md5sum /mnt/data | cut -d' ' -f1)
size=$(wc -c < /mnt/data)
say "read back $size bytes, md5 $got"
umount /mnt
if [ "$got" = "$want" ] && [ "$size" = 33554432 ]; then
    verdict "md5 match"
else
    verdict "FAIL md5 mismatch"
fi
[ $crash -eq 1 ] || exit 0
# vscsi.crash=1: read the disk (past the page cache) until the crashed server makes it fail.
for i in $(seq 150); do
    echo 3 > /proc/sys/vm/drop_caches
    if ! err=$(timeout 120 dd if=/dev/sda of=/dev/null bs=4096 count=16 skip=$((i * 16)) 2>&1); then
        say "I/O error after the server crashed: $(echo "$err" | head -n 1)"
        dmesg | grep -E 'ibmvscsi|sd 0:0:0:0' | tail -n 5
        exit 0
    fi
    sleep 2
done
say "FAIL the disk still reads after the server crashed"
