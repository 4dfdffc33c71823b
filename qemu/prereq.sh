#!/usr/bin/env bash
# Installs what the QEMU tests need, idempotently, and caches the guest
# kernels and busybox under $BUILD/qemu/<arch>/ so a second run fetches
# nothing: Debian's qemu-system-x86/-arm and cpio on the host, the rustup
# musl targets, and (downloaded and unpacked, never installed) the kernels
# behind linux-image-cloud-{amd64,arm64} and busybox-static for each arch.
#
# usage: qemu/prereq.sh BUILD_DIR ARCH...   (ARCH: x86_64 | aarch64)
set -euo pipefail
build=$1; shift
archs=("$@")

log() { printf 'qemu-prereq: %s\n' "$*" >&2; }

deb_arch() { case $1 in x86_64) echo amd64 ;; aarch64) echo arm64 ;; *) log "unknown arch $1"; exit 2 ;; esac; }

need_pkgs=()
command -v cpio >/dev/null || need_pkgs+=(cpio)
for a in "${archs[@]}"; do
  case $a in
    x86_64) command -v qemu-system-x86_64 >/dev/null || need_pkgs+=(qemu-system-x86) ;;
    aarch64) command -v qemu-system-aarch64 >/dev/null || need_pkgs+=(qemu-system-arm) ;;
  esac
done

updated=
apt_update() { [ -n "$updated" ] || { log "apt-get update"; apt-get -o DPkg::Lock::Timeout=600 update -qq >&2; updated=1; }; }

if [ ${#need_pkgs[@]} -gt 0 ]; then
  apt_update
  log "installing ${need_pkgs[*]}"
  DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends "${need_pkgs[@]}" >&2
fi

for a in "${archs[@]}"; do
  t=$a-unknown-linux-musl
  rustup target list --installed | grep -qx "$t" || { log "rustup target add $t"; rustup target add "$t" >&2; }
done

for a in "${archs[@]}"; do
  d=$(deb_arch "$a")
  dir=$build/qemu/$a
  if [ -f "$dir/.done" ]; then continue; fi
  mkdir -p "$dir/dl" "$dir/root"
  if [ "$d" != "$(dpkg --print-architecture)" ] && ! dpkg --print-foreign-architectures | grep -qx "$d"; then
    log "dpkg --add-architecture $d"
    dpkg --add-architecture "$d"
    updated=
  fi
  apt_update
  # The meta-package names the current ABI's image; resolve it so a kernel
  # bump in Debian does not break us.
  img=$(apt-cache depends "linux-image-cloud-$d:$d" 2>/dev/null | sed -n 's/^ *Depends: \(linux-image-[0-9][^ :]*\).*/\1/p' | head -1)
  [ -n "$img" ] || { log "cannot resolve linux-image-cloud-$d"; exit 1; }
  log "$a: fetching $img and busybox-static:$d"
  (cd "$dir/dl" && apt-get download -qq -o APT::Sandbox::User=root "$img:$d" "busybox-static:$d" >&2)
  for deb in "$dir"/dl/*.deb; do dpkg-deb -x "$deb" "$dir/root"; done
  k=$(ls "$dir"/root/boot/vmlinuz-* | head -1)
  cp "$k" "$dir/kernel"
  cp "$dir/root/bin/busybox" "$dir/busybox"
  rm -rf "$dir/dl" "$dir/root"
  touch "$dir/.done"
done
