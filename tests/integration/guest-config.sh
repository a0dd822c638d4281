# shellcheck shell=bash
# Shared by the integration tests that boot Linux LPARs from a configuration with a test script
# of their own (lan.sh, vscsi.sh). Source it after setting root and work (a scratch directory).

# guest_images TARGET SCRIPT : fill the array `images` with scripts/run's --image arguments: the
# default kernel as vmlinux, and as initrd the default busybox initramfs with SCRIPT added at /
# as a second cpio archive.
guest_images() {
    local target=$1 script=$2 key path initrd=""
    images=()
    while IFS='=' read -r key path; do
        case $key in
        kernel) images+=(--image "vmlinux=$path") ;;
        initrd) initrd=$path ;;
        esac
    done < <("$root/scripts/guest-images" "$target")
    mkdir -p "$work/extra"
    install -m 755 "$script" "$work/extra/$(basename "$script")"
    (cd "$work/extra" && basename "$script" | cpio --quiet -o -H newc -R 0:0) | gzip -9n > "$work/extra.cpio.gz"
    cat "$initrd" "$work/extra.cpio.gz" > "$work/initrd"
    images+=(--image "initrd=$work/initrd")
}
