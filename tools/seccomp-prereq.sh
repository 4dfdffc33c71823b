#!/bin/sh
# What the seccomp tests need (idempotent; make unit runs it): libseccomp's
# Python binding (the reference of the proof by difference) and podman's
# default profile (golang-github-containers-common). Root on Debian 12; a
# non-root run prints why and leaves the tests to SKIP loudly.
set -e
need=""
/usr/bin/python3 -c 'import seccomp' 2>/dev/null || need="$need python3-seccomp"
[ -f /usr/share/containers/seccomp.json ] || need="$need golang-github-containers-common"
[ -z "$need" ] && exit 0
if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then
    echo "seccomp-prereq: cannot install$need (not root on Debian): the seccomp difference tests will SKIP"
    exit 0
fi
apt-get -o DPkg::Lock::Timeout=600 install -y --no-install-recommends $need >/dev/null || {
    apt-get -o DPkg::Lock::Timeout=600 update >/dev/null
    apt-get -o DPkg::Lock::Timeout=600 install -y --no-install-recommends $need >/dev/null
}
