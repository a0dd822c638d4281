#!/usr/bin/env bash
# boot.sh TARGET CASE: boot the TARGET image under QEMU and check its console output.
#   banner          no bundle: the hypervisor reports the machine and powers off cleanly
#   lpars           a bundle with two LPARs: both are configured, get memory and are loaded
#   corrupt-bundle  a bundle with a flipped data byte: rejected with a message, failure status
set -uo pipefail
target=$1 case=$2
source "$(dirname "$0")/../../scripts/lib/common.sh"
source "$TESSERA_ROOT/scripts/lib/qemu.sh"
image=$TESSERA_ROOT/build/$target/tessera.elf
pack=${TESSERA_PACK:-$TESSERA_ROOT/build/host/tessera-pack}
[ -f "$image" ] || die "no image $image: build the $target preset first"
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
fails=0
expect() { # expect PATTERN DESCRIPTION
    if grep -qE -- "$1" "$work/out"; then echo "ok: $2"; else echo "FAILED: $2 (no /$1/)"; fails=$((fails+1)); fi
}

make_bundle() {
    head -c 70000 /dev/urandom > "$work/kernel-a"
    # beta's "program" is all zeros: an illegal instruction (primary opcode 0) on POWER, and so
    # is its Program interrupt vector, where the hypervisor sends it (docs/pseries-conformance.md)
    head -c 5000 /dev/zero > "$work/kernel-b"
    head -c 300000 /dev/urandom > "$work/initrd-a"
    cat > "$work/lpars.conf" <<'CONF'
tessera-config 1
# two LPARs, as a user would write them
[lpar alpha]
memory = 64M
cpus = 2
kernel = kernel-a
initrd = initrd-a
cmdline = "console=hvc0 quiet"

[lpar beta]
memory = 16M
cpus = 3
kernel = kernel-b
kind = test
CONF
    "$pack" -o "$work/bundle" --config "$work/lpars.conf" kernel-a="$work/kernel-a" \
        kernel-b="$work/kernel-b" initrd-a="$work/initrd-a" || die "tessera-pack failed"
}

bundle=""
case $case in
banner) ;;
lpars) make_bundle; bundle=$work/bundle ;;
corrupt-bundle)
    make_bundle; bundle=$work/bundle
    size=$(stat -c %s "$bundle")
    # flip every bit of one byte near the end (inside the last entry's data); writing a fixed
    # value left the bundle intact whenever the random byte already had it (1 run in 256)
    at=$((size - 100))
    byte_at() { od -An -tu1 -j "$1" -N1 "$bundle" | tr -d ' '; }
    old=$(byte_at $at)
    printf "\\$(printf '%03o' $((255 - old)))" | dd of="$bundle" bs=1 seek=$at conv=notrunc status=none
    [ "$(byte_at $at)" != "$old" ] || die "the byte did not change"
    ;;
*) die "unknown case $case" ;;
esac

mapfile -t cmd < <(qemu_cmd "$target" "$image" "$bundle" 1G)
timeout 240 "${cmd[@]}" </dev/null >"$work/out" 2>&1
status=$(qemu_status "$work/out" $?)
cat "$work/out" | grep -v '^\[ *[0-9.]*,[0-9]\]' # skiboot's own log lines are noise here

expect "Tessera hypervisor, target $target" "banner names the target"
expect "memory: [0-9]+ MiB" "memory map read"
expect "chunks: [0-9]+ of 16 MiB usable" "real memory split into chunks"
case $case in
banner)
    expect "bundle: none" "no bundle reported"
    [ "$status" = 0 ] || { echo "FAILED: power-off status $status, expected 0"; fails=$((fails+1)); }
    ;;
lpars)
    expect "bundle: 4 entries" "bundle opened"
    # alpha is a "Linux" LPAR whose kernel is random bytes: refused by the ELF loader; beta's
    # program is zeros: loaded, then stopped alone.
    expect "lpar alpha: not loaded: not an ELF file" "alpha's bad kernel refused with a reason"
    if [ "$target" = pseries ]; then
        expect "lpar beta: 16 MiB, 3 logical CPUs, kernel kernel-b \(5000 bytes\): loaded" "beta loaded"
        expect "lpar beta: crashed \(illegal instruction 00000000 in its own program interrupt vector 0x700\)" \
            "beta's garbage stopped it alone"
    else
        # (x86: zeros are "add [eax], al": beta's vcpus modify their own code through their
        # different eax values and die on a page fault, #GP or #UD, depending on timing)
        expect "lpar beta: 16 MiB, 3 logical CPUs, kernel kernel-b \(5000 bytes\): loaded" "beta loaded"
        expect "lpar beta: crashed \((page fault|exception [0-9]+|triple fault)" "beta's garbage stopped it alone"
    fi
    [ "$status" = 1 ] || { echo "FAILED: power-off status $status, expected 1 (LPARs failed)"; fails=$((fails+1)); }
    ;;
corrupt-bundle)
    expect "bundle: .*checksum" "corruption detected and named"
    if [ "$status" = 0 ]; then
        echo "FAILED: a corrupt bundle must power off with a failure status"; fails=$((fails+1))
    fi
    ;;
esac
echo "$target $case: $([ $fails -eq 0 ] && echo PASS || echo FAIL)"
[ $fails -eq 0 ]
