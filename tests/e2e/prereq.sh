#!/usr/bin/env bash
# make e2e prerequisites, idempotent: podman, conmon, containerd (with ctr and
# the runc v2 shim), the reference runtimes runc and crun, catatonit (podman
# 4.x builds its pod infra image from it), all from Debian. Others run apt on
# this machine at the same time: wait for the dpkg lock instead of failing.
set -euo pipefail
need=()
for p in podman:podman conmon:conmon containerd:containerd ctr:containerd \
         containerd-shim-runc-v2:containerd runc:runc crun:crun script:bsdutils \
         /usr/libexec/podman/catatonit:catatonit unshare:util-linux; do
  cmd=${p%%:*} pkg=${p#*:}
  command -v "$cmd" >/dev/null 2>&1 || [ -x "$cmd" ] || need+=("$pkg")
done
[ ${#need[@]} -eq 0 ] && exit 0
mapfile -t need < <(printf '%s\n' "${need[@]}" | sort -u)
echo "e2e: installing ${need[*]}"
apt=(apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends)
# A fresh machine may have no package lists yet: update once and retry.
DEBIAN_FRONTEND=noninteractive "${apt[@]}" "${need[@]}" >/dev/null 2>&1 || {
  apt-get -o DPkg::Lock::Timeout=600 update -qq
  DEBIAN_FRONTEND=noninteractive "${apt[@]}" "${need[@]}"
}
