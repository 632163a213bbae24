#!/usr/bin/env bash
# Make a Python 3.12 base image locally, without a container registry (air-gapped or registry-less hosts).
#
#   sudo docker/make_base_image.sh [IMAGE]        # default IMAGE: learned-actuators-base:py3.12-bookworm
#
# Steps: `debootstrap --variant=minbase bookworm` into a temporary folder (needs root and Debian's package
# archive, or a mirror given as DEBIAN_MIRROR), copy a CPython 3.12 installation from this host into it as
# /opt/python3.12 (its own site-packages are left behind; pip comes from the interpreter's bundled ensurepip),
# then `tar | docker import`. The result can be passed to the Dockerfile as BASE_IMAGE: /opt/python3.12/bin
# (python3.12, pip and the console scripts pip installs) leads its PATH, and /usr/local/bin has python and python3.
#
# Environment:
#   PYTHON312      a python3.12 executable to copy (default: python3.12 on PATH, else $(pyenv root)/versions/3.12*).
#                  It must be built for a glibc no newer than bookworm's (2.36), e.g. on Debian 12 or by pyenv here.
#   DEBIAN_MIRROR  Debian archive URL (default http://deb.debian.org/debian)
#   DOCKER         docker CLI (default: docker)
set -euo pipefail

IMAGE="${1:-learned-actuators-base:py3.12-bookworm}"
MIRROR="${DEBIAN_MIRROR:-http://deb.debian.org/debian}"
DOCKER="${DOCKER:-docker}"
# Shared libraries the CPython standard library's extension modules link against, plus CA certificates.
PACKAGES="ca-certificates,libbz2-1.0,libexpat1,libffi8,liblzma5,libncursesw6,libreadline8,libsqlite3-0,libssl3,libuuid1,zlib1g"

log() { echo "[make_base_image] $*" >&2; }

[[ $EUID -eq 0 ]] || { log "needs root (debootstrap and chroot)"; exit 1; }
command -v debootstrap >/dev/null || { log "debootstrap not found: apt-get install debootstrap"; exit 1; }

find_python312() {
    local c candidates=()
    [[ -n "${PYTHON312:-}" ]] && candidates+=("$PYTHON312")
    command -v python3.12 >/dev/null 2>&1 && candidates+=("$(command -v python3.12)")
    local pyenv_root="${PYENV_ROOT:-}"
    if [[ -z "$pyenv_root" ]] && command -v pyenv >/dev/null 2>&1; then pyenv_root="$(pyenv root)"; fi
    [[ -z "$pyenv_root" && -d "$HOME/.pyenv" ]] && pyenv_root="$HOME/.pyenv"
    if [[ -n "$pyenv_root" ]]; then
        for c in "$pyenv_root"/versions/3.12*/bin/python3.12; do [[ -x "$c" ]] && candidates+=("$c"); done
    fi
    for c in "${candidates[@]}"; do
        if "$c" -c 'import sys; raise SystemExit(sys.version_info[:2] != (3, 12))' >/dev/null 2>&1; then
            echo "$c"
            return 0
        fi
    done
    log "no Python 3.12 found; set PYTHON312=/path/to/python3.12"
    return 1
}

PY="$(find_python312)"
PREFIX="$("$PY" -c 'import sys; print(sys.base_prefix)')"
VERSION="$("$PY" -c 'import platform; print(platform.python_version())')"
log "Python $VERSION from $PREFIX"

ROOTFS="$(mktemp -d /var/tmp/learned-actuators-rootfs.XXXXXX)"
trap 'rm -rf --one-file-system "$ROOTFS"' EXIT

log "debootstrap bookworm (minbase) into $ROOTFS"
debootstrap --variant=minbase --include="$PACKAGES" bookworm "$ROOTFS" "$MIRROR" >/dev/null

log "copying $PREFIX to /opt/python3.12"
mkdir -p "$ROOTFS/opt/python3.12"
# The interpreter's own site-packages (whatever was pip-installed on this host) and its test suite stay behind.
tar -C "$PREFIX" -c \
    --exclude='./lib/python3.12/site-packages/*' --exclude='./lib/python3.12/test' --exclude='__pycache__' . \
    | tar -C "$ROOTFS/opt/python3.12" -x
# A --enable-shared build finds libpython through the loader cache (its rpath names the host's prefix).
echo /opt/python3.12/lib > "$ROOTFS/etc/ld.so.conf.d/python3.12.conf"
chroot "$ROOTFS" /sbin/ldconfig
for name in python python3 python3.12; do ln -sf /opt/python3.12/bin/python3.12 "$ROOTFS/usr/local/bin/$name"; done
chroot "$ROOTFS" /usr/bin/env -i PATH=/usr/local/bin:/usr/bin:/bin \
    /opt/python3.12/bin/python3.12 -m ensurepip --default-pip >/dev/null 2>&1
chroot "$ROOTFS" /usr/bin/env -i PATH=/usr/local/bin:/usr/bin:/bin python -c \
    'import ssl, sqlite3, lzma, bz2, zlib, ctypes, uuid, readline, venv, pip; print("python ok:", ssl.OPENSSL_VERSION)' >&2

# apt in the image reads the same mirror; drop the package cache.
echo "deb $MIRROR bookworm main" > "$ROOTFS/etc/apt/sources.list"
rm -rf "$ROOTFS"/var/cache/apt/archives/*.deb "$ROOTFS"/var/lib/apt/lists/* "$ROOTFS"/tmp/*

log "importing as $IMAGE"
tar -C "$ROOTFS" --numeric-owner -c . | "$DOCKER" import \
    --change 'ENV PATH=/opt/python3.12/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    --change 'ENV LANG=C.UTF-8' \
    --change 'CMD ["python3"]' \
    --message "Debian bookworm minbase + CPython $VERSION (docker/make_base_image.sh)" \
    - "$IMAGE" >/dev/null
"$DOCKER" image ls "$IMAGE"
