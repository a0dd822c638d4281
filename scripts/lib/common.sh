# Shared helpers for scripts/*. Source it; it sets TESSERA_ROOT and TESSERA_CACHE.
TESSERA_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
TESSERA_CACHE=${TESSERA_CACHE:-$TESSERA_ROOT/.cache}
export TESSERA_ROOT TESSERA_CACHE

say() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

as_root() {
    if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

jobs_count() { nproc 2>/dev/null || echo 2; }
