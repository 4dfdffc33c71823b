#!/usr/bin/env bash
# Builds a minimal busybox rootfs for demos and tests: BUILD/rootfs.
# The static busybox comes from Debian's busybox-static, fetched with
# apt-get download and unpacked (not installed), cached in BUILD.
# usage: tests/mkrootfs.sh BUILD_DIR
set -euo pipefail
build=$1
bb=$build/busybox-static
if [ ! -x "$bb" ]; then
  tmp=$(mktemp -d)
  fetch() { (cd "$tmp" && apt-get download -qq -o APT::Sandbox::User=root busybox-static >/dev/null 2>&1); }
  fetch || { apt-get update -qq >/dev/null; fetch; }
  dpkg-deb -x "$tmp"/busybox-static_*.deb "$tmp/x"
  mkdir -p "$build"
  cp "$tmp/x/bin/busybox" "$bb"
  rm -rf "$tmp"
fi
root=$build/rootfs
rm -rf "$root"
mkdir -p "$root"/{bin,proc,sys,dev,tmp,etc,root,home}
cp "$bb" "$root/bin/busybox"
for a in $("$bb" --list); do [ "$a" = busybox ] || ln -s busybox "$root/bin/$a"; done
printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/home:/bin/sh\n' >"$root/etc/passwd"
printf 'root:x:0:\nnogroup:x:65534:\n' >"$root/etc/group"
echo "rootfs: $root ($(ls "$root/bin" | wc -l) busybox applets)"
