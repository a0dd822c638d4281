#!/usr/bin/env bash
# linux-uptime.sh TARGET: a 2-vcpu Linux LPAR at its shell stays up and answers for 3 minutes
# (pseries: skiboot's BMC watchdog resets a machine whose OS stops calling OPAL after 60 s), shows
# the machine's date, takes a CPU offline and back, and a user process that executes an illegal
# instruction gets SIGILL while the shell goes on. The shell is driven through a pipe.
set -uo pipefail
target=$1
minutes=${TESSERA_UPTIME_MINUTES:-3}
root=$(cd "$(dirname "$0")/../.." && pwd)
dir=$(mktemp -d)
run_pid=""
cleanup() {
    [ -n "$run_pid" ] && kill "$run_pid" 2>/dev/null
    rm -rf "$dir"
}
trap cleanup EXIT
trap '' PIPE # the machine may end early: a write to its input then fails, it does not kill us
mkfifo "$dir/in"
"$root/scripts/run" --target "$target" --cpus 2 --memory 512M --timeout $((minutes * 60 + 300)) \
    --no-setup --no-build <"$dir/in" >"$dir/out" 2>&1 &
run_pid=$!
exec 3>"$dir/in"
started=$SECONDS

fails=0
text() { tr -d '\r' < "$dir/out"; }
# wait_for REGEX SECONDS : true once the output matches.
wait_for() {
    local until=$((SECONDS + $2))
    while [ $SECONDS -lt $until ]; do
        text | grep -E -- "$1" >/dev/null && return 0
        kill -0 "$run_pid" 2>/dev/null || break
        sleep 1
    done
    text | grep -E -- "$1" >/dev/null
}
send() { printf '%s\n' "$1" >&3 2>/dev/null || true; }
check() { # check REGEX WHAT [SECONDS]
    if wait_for "$1" "${3:-30}"; then echo "ok: $2"; else echo "FAILED: $2 (no /$1/)"; fails=$((fails + 1)); fi
}

# A 128-byte static ppc64le ELF whose only instruction is 0x00000000 (illegal), as printf octal
# escapes: ELF header, one PT_LOAD of the whole file at 0x10000000, entry 0x10000078.
illegal_elf() {
    local hex="7f454c46020101000000000000000000"   # e_ident: 64-bit, little-endian
    hex+="02001500010000007800001000000000"          # ET_EXEC, EM_PPC64, v1, e_entry
    hex+="40000000000000000000000000000000"          # e_phoff 64, e_shoff 0
    hex+="02000000400038000100000000000000"          # e_flags 2 (ELFv2), sizes, 1 phdr
    hex+="01000000050000000000000000000000"          # PT_LOAD, R+X, offset 0
    hex+="00000010000000000000001000000000"          # p_vaddr, p_paddr 0x10000000
    hex+="80000000000000008000000000000000"          # p_filesz, p_memsz 0x80
    hex+="00000100000000000000000000000000"          # p_align 0x10000; the instruction at 0x78
    local out="" i
    for ((i = 0; i < ${#hex}; i += 2)); do out+=$(printf '\\%03o' "0x${hex:i:2}"); done
    printf '%s' "$out"
}

check "TESSERA-GUEST: userspace up" "the guest reached its shell" 400

send 'date +GUEST-EPOCH-%s'
check "^GUEST-EPOCH-[0-9]+" "the guest reads its date"
guest_epoch=$(text | sed -n 's/^GUEST-EPOCH-\([0-9]*\).*/\1/p' | head -n1)
host_epoch=$(date +%s)
if [ -n "$guest_epoch" ] && [ $((guest_epoch - host_epoch)) -gt -120 ] &&
    [ $((guest_epoch - host_epoch)) -lt 120 ]; then
    echo "ok: the guest's date is the machine's ($guest_epoch vs $host_epoch on the host)"
else
    echo "FAILED: the guest's date ${guest_epoch:-?} is not the machine's ($host_epoch)"
    fails=$((fails + 1))
fi

send 'echo 0 > /sys/devices/system/cpu/cpu1/online; echo OFFLINE-$(cat /sys/devices/system/cpu/online)'
check "^OFFLINE-0$" "cpu1 goes offline"
send 'echo 1 > /sys/devices/system/cpu/cpu1/online; echo ONLINE-$(cat /sys/devices/system/cpu/online)'
check "^ONLINE-0-1$" "cpu1 comes back online"

send "printf '$(illegal_elf)' > /tmp/ill; chmod +x /tmp/ill; /tmp/ill; echo ILL-STATUS-\$?"
check "^ILL-STATUS-132$" "an illegal instruction in a user process is SIGILL (128 + 4) for that process"

# Busy for a while, then idle until the end; ask at the end.
send 'i=0; while [ $i -lt 300000 ]; do i=$((i+1)); done; echo BUSY-DONE'
check "^BUSY-DONE$" "a busy loop in the shell ends" 240
while [ $((SECONDS - started)) -lt $((minutes * 60)) ]; do
    kill -0 "$run_pid" 2>/dev/null || break
    sleep 5
done
send 'echo ALIVE-$((6*7))'
check "^ALIVE-42$" "the shell answers after $minutes minutes"
resets=$(text | grep -c "OPAL v[0-9]")
if [ "$resets" -eq 1 ]; then
    echo "ok: the machine booted once (no reset)"
else
    echo "FAILED: the firmware started $resets times (the machine reset)"
    fails=$((fails + 1))
fi
send 'poweroff -f'
wait $run_pid
status=$?
run_pid=""
text | grep -E '^lpar |^tessera:|^clock:'
[ $status -eq 0 ] || { echo "FAILED: scripts/run exited $status"; fails=$((fails + 1)); }
echo "$target linux-uptime ($((SECONDS - started)) s): $([ $fails -eq 0 ] && echo PASS || echo FAIL)"
[ $fails -eq 0 ]
