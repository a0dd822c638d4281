# shellcheck shell=bash
# Download Debian packages of another architecture (ppc64el, i386) without touching the machine's
# own apt configuration: a private sources list (main suite only: the security suite's foreign
# indexes fail to download here), private state and cache directories, and APT::Architecture set
# to the guest's. Packages are unpacked with dpkg-deb into a private sysroot.

# foreign_apt ARCH apt-get-args... : run apt-get against the private configuration for ARCH.
foreign_apt() {
    local arch=$1; shift
    local dir=$TESSERA_CACHE/apt-$arch
    mkdir -p "$dir/state/lists/partial" "$dir/cache/archives/partial" "$dir/etc"
    if [ ! -f "$dir/etc/sources.list" ]; then
        local mirror
        # The machine's own Debian mirror (URIs: in deb822 files, or a classic deb line).
        mirror=$( { sed -n 's/^URIs:[[:space:]]*//p' /etc/apt/sources.list.d/*.sources 2>/dev/null
                    sed -n 's/^deb[[:space:]]\+\(\[[^]]*\][[:space:]]\+\)\?\([^[:space:]]\+\).*/\2/p' \
                        /etc/apt/sources.list 2>/dev/null; } | tr ' ' '\n' | grep -v security | head -n1)
        echo "deb [arch=$arch signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] ${mirror:-http://deb.debian.org/debian} bookworm main" \
            > "$dir/etc/sources.list"
    fi
    apt-get -q -o Dir::Etc::SourceList="$dir/etc/sources.list" -o Dir::Etc::SourceParts=/dev/null \
        -o Dir::State="$dir/state" -o Dir::Cache="$dir/cache" \
        -o APT::Architecture="$arch" -o APT::Architectures::="$arch" \
        -o APT::Sandbox::User=root -o Debug::NoLocking=1 "$@"
}

# foreign_cache ARCH apt-cache-args... : apt-cache over the private index of ARCH (the options
# foreign_apt gives apt-get; fails if there is no private configuration yet). The binary cache is
# kept (Debian's container images switch it off): 0.04 s a query instead of 0.7 s.
# (scripts/guest-images has its own copy of this function.)
foreign_cache() {
    local arch=$1; shift
    local dir=$TESSERA_CACHE/apt-$arch
    [ -f "$dir/etc/sources.list" ] || return 1
    apt-cache -o Dir::Etc::SourceList="$dir/etc/sources.list" -o Dir::Etc::SourceParts=/dev/null \
        -o Dir::State="$dir/state" -o Dir::Cache="$dir/cache" \
        -o Dir::Cache::pkgcache=pkgcache.bin -o Dir::Cache::srcpkgcache=srcpkgcache.bin \
        -o APT::Architecture="$arch" -o APT::Architectures::="$arch" "$@"
}

# foreign_update ARCH : refresh the private index at most once a day.
foreign_update() {
    local arch=$1 stamp=$TESSERA_CACHE/apt-$1/updated
    if [ -z "$(find "$stamp" -mmin -1440 2>/dev/null)" ]; then
        # --error-on=any: apt-get update exits 0 when the mirror is unreachable otherwise.
        foreign_apt "$arch" update --error-on=any -o Acquire::Retries=0 >/dev/null || return 1
        touch "$stamp"
    fi
}

# foreign_fetch ARCH DESTDIR PKG... : download PKGs (newest in the index) into DESTDIR.
foreign_fetch() {
    local arch=$1 dest=$2; shift 2
    foreign_update "$arch" || return 1
    mkdir -p "$dest"
    (cd "$dest" && foreign_apt "$arch" download "$@" >/dev/null)
}

# foreign_sysroot ARCH PKG... : unpack PKGs into $TESSERA_CACHE/sysroot-ARCH once.
foreign_sysroot() {
    local arch=$1; shift
    local root=$TESSERA_CACHE/sysroot-$arch stamp
    stamp=$root/.packages
    if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$*" ]; then return 0; fi
    local debs=$TESSERA_CACHE/debs-$arch
    rm -rf "$root" "$debs"
    foreign_fetch "$arch" "$debs" "$@" || return 1
    mkdir -p "$root"
    for deb in "$debs"/*.deb; do dpkg-deb -x "$deb" "$root"; done
    echo "$*" > "$stamp"
}
