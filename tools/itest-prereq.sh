#!/bin/sh
# What the integration tests need beyond the build (idempotent; make itest
# runs it): strace, which holds one create at a chosen syscall to make a
# race certain (tests/oci.rs). Root on Debian 12; elsewhere the tests that
# need it print SKIP.
command -v strace >/dev/null && exit 0
if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then
    echo "itest-prereq: cannot install strace (not root on Debian): the race tests will SKIP"
    exit 0
fi
apt-get -o DPkg::Lock::Timeout=600 install -y --no-install-recommends strace >/dev/null || {
    apt-get -o DPkg::Lock::Timeout=600 update >/dev/null
    apt-get -o DPkg::Lock::Timeout=600 install -y --no-install-recommends strace >/dev/null
} || echo "itest-prereq: strace not installed: the race tests will SKIP"
