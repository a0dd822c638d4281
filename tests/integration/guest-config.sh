# shellcheck shell=bash
# Shared by the integration tests that boot Linux LPARs from a configuration with a test script
# of their own (lan.sh, vscsi.sh). Source it after setting root and work (a scratch directory).

# guest_images TARGET SCRIPT [FILE=PATH]... : fill the array `images` with scripts/run's --image
# arguments: the default kernel as vmlinux, and as initrd the default busybox initramfs with
# SCRIPT added at / (and each FILE at PATH, relative to /) as a second cpio archive.
guest_images() {
    local target=$1 script=$2 key path initrd="" file
    shift 2
    images=()
    while IFS='=' read -r key path; do
        case $key in
        kernel) images+=(--image "vmlinux=$path") ;;
        initrd) initrd=$path ;;
        esac
    done < <("$root/scripts/guest-images" "$target")
    mkdir -p "$work/extra"
    install -m 755 "$script" "$work/extra/$(basename "$script")"
    for file in "$@"; do install -D -m 644 "${file%%=*}" "$work/extra/${file#*=}"; done
    (cd "$work/extra" && find . -mindepth 1 | LC_ALL=C sort | cpio --quiet -o -H newc -R 0:0) \
        | gzip -6n > "$work/extra.cpio.gz"
    cat "$initrd" "$work/extra.cpio.gz" > "$work/initrd"
    images+=(--image "initrd=$work/initrd")
}
