#!/usr/bin/env bash
# make bench: mydocker side by side with the kernel floor, unshare(1),
# bubblewrap, crun and runc, in ONE run, so that only ratios within this run
# are compared (absolute times drift ±30% between runs on these machines).
#
# usage: bench/run.sh BUILD_DIR MYDOCKER_BIN
# env: HOT_RUNS (per round, default 100), ISO_RUNS (per round, default 40),
#      HOT_ROUNDS (default 6), ISO_ROUNDS (default 3), SCALE_N (default 1000)
set -euo pipefail
build=$(realpath -m "$1")
md=$(realpath "$2")
here=$(cd "$(dirname "$0")" && pwd)
out=$build/bench
hot_runs=${HOT_RUNS:-100}
iso_runs=${ISO_RUNS:-40}
# Hot rounds are cheap, and more of them, each in another order, spread the
# drift of this machine more evenly over the launchers.
hot_rounds=${HOT_ROUNDS:-6}
iso_rounds=${ISO_ROUNDS:-3}
scale_n=${SCALE_N:-1000}

log() { printf 'bench: %s\n' "$*" >&2; }

# ---- prerequisites (idempotent) -------------------------------------------
if [ -z "${MYDOCKER_BENCH_INNER:-}" ]; then
  need=()
  for p in hyperfine:hyperfine strace:strace crun:crun runc:runc bwrap:bubblewrap musl-gcc:musl-tools \
           /bin/busybox:busybox-static /usr/bin/time:time /usr/bin/python3:python3 unshare:util-linux; do
    cmd=${p%%:*} pkg=${p#*:}
    command -v "$cmd" >/dev/null 2>&1 || [ -x "$cmd" ] || need+=("$pkg")
  done
  if [ ${#need[@]} -gt 0 ]; then
    log "installing ${need[*]}"
    apt-get -o DPkg::Lock::Timeout=600 update -qq >&2
    DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends "${need[@]}" >&2
  fi
  # crun 1.8 refuses this hybrid layout because the cgroup2 at
  # /sys/fs/cgroup/unified holds hugetlb. Run everything — every launcher
  # alike — in a private mount namespace with an empty tmpfs over it.
  # (umount alone would make crun write into the host's /sys/fs/cgroup tmpfs.)
  if mountpoint -q /sys/fs/cgroup/unified 2>/dev/null; then
    exec unshare -m --propagation private env MYDOCKER_BENCH_INNER=1 bash -c \
      'mount -t tmpfs -o size=1m none /sys/fs/cgroup/unified && exec "$0" "$@"' "$0" "$@"
  fi
fi

mkdir -p "$out"
payload=/bin/busybox
if readelf -l "$payload" | grep -q INTERP; then log "$payload is not static"; exit 1; fi

# ---- the floor: a minimal static C launcher --------------------------------
musl-gcc -static -O2 -o "$out/floor" "$here/floor.c"

# The seccomp filter mydocker installs by default (docker's profile), read
# back from strace's decoding, so that the floor with duties installs the
# very same one (no filter, no -s).
strace -f -v -s 1000000 -e trace=seccomp -o "$out/seccomp.strace" "$md" run "$payload" true >/dev/null 2>&1 || true
rm -f "$out/default.filter"
/usr/bin/python3 "$here/filter.py" "$out/seccomp.strace" "$out/default.filter"
sf=""
[ -s "$out/default.filter" ] && sf="-s $out/default.filter"

# ---- the baseline of the device policy: this source without it -------------
# (cargo feature bench-no-device-policy: no policy and no cgroup for a
# --rootfs run, everything else the same), for issue 12's --rootfs target.
log "building mydocker without the device policy"
(cd "$here/.." && CARGO_TARGET_DIR="$out/pre-target" ${CARGO:-cargo} build -q --release --locked \
  --target x86_64-unknown-linux-musl --features bench-no-device-policy >&2)
pre=$out/pre-target/x86_64-unknown-linux-musl/release/mydocker

# ---- busybox rootfs and OCI bundle for crun and runc ------------------------
rootfs=$out/bundle/rootfs
rm -rf "$out/bundle"
mkdir -p "$rootfs"/{bin,proc,dev,sys,tmp}
cp "$payload" "$rootfs/bin/busybox"
# The same absolute cgroup for both, nested under our own memory cgroup
# (runc would nest under the caller's, crun would use the root).
memcg=$(sed -n 's/^[0-9]*:memory:\(.*\)$/\1/p' /proc/self/cgroup)
[ -n "$memcg" ] || memcg=$(sed -n 's/^0::\(.*\)$/\1/p' /proc/self/cgroup)
cgpath=${memcg%/}/mydocker-bench-oci
# Which cgroup directories exist now: what the OCI runtimes create on the way
# to cgpath in other hierarchies is removed again at the end.
cg_before=$(find /sys/fs/cgroup -mindepth 1 -maxdepth 6 -type d 2>/dev/null | sort)
/usr/bin/python3 - "$out/bundle/config.json" "$cgpath" <<'PY'
import json, sys
path, cg = sys.argv[1], sys.argv[2]
spec = {
  "ociVersion": "1.0.2",
  "process": {"terminal": False, "user": {"uid": 0, "gid": 0}, "args": ["/bin/busybox", "true"],
              "env": ["PATH=/bin"], "cwd": "/", "noNewPrivileges": True},
  "root": {"path": "rootfs", "readonly": False},
  "hostname": "bench",
  # /proc and, as in runc's default spec, a tmpfs /dev (else the runtimes
  # make their device nodes in the bundle's own rootfs/dev, for good).
  "mounts": [{"destination": "/proc", "type": "proc", "source": "proc", "options": ["nosuid", "noexec", "nodev"]},
             {"destination": "/dev", "type": "tmpfs", "source": "tmpfs", "options": ["nosuid", "strictatime", "mode=755", "size=65536k"]}],
  "linux": {
    "cgroupsPath": cg,
    "resources": {"memory": {"limit": 104857600}},
    "namespaces": [{"type": t} for t in ("pid", "network", "ipc", "uts", "mount")],
  },
}
json.dump(spec, open(path, "w"), indent=1)
PY

oci_root=$out/oci-root
rm -rf "$oci_root"; mkdir -p "$oci_root/crun" "$oci_root/runc" "$oci_root/md"

# An OCI client's three calls for one container (issue 15): create, start,
# and delete --force (which waits for the container's end: the payload
# may still be running when start returns, as under containerd's shim).
# One small sh for every runtime, so the three pay the same shell.
cat >"$out/lifecycle.sh" <<'SH'
#!/bin/sh
# usage: lifecycle.sh RUNTIME --root DIR BUNDLE ID
rt=$1 root=$3 bundle=$4 id=$5
"$rt" --root "$root" create --bundle "$bundle" "$id" &&
  "$rt" --root "$root" start "$id" &&
  exec "$rt" --root "$root" delete --force "$id"
SH
chmod +x "$out/lifecycle.sh"

# ---- the commands ---------------------------------------------------------
# name|command|prepare (run before each timed run, not timed)|binary
cmds=(
  "floor|$out/floor $payload true||$out/floor"
  "mydocker|$md run $payload true||$md"
  "floor + duties|$out/floor -d $sf $payload true||$out/floor"
  "unshare|unshare --fork --pid --mount-proc --uts --ipc --net $payload true||$(command -v unshare)"
  "bwrap|bwrap --dev-bind / / --unshare-pid --unshare-uts --unshare-ipc --unshare-net --proc /proc $payload true||$(command -v bwrap)"
  "floor -m 100m|$out/floor -m 104857600 $payload true||$out/floor"
  "mydocker -m 100m|$md run -m 100m $payload true||$md"
  "floor + duties -m 100m|$out/floor -d $sf -m 104857600 $payload true||$out/floor"
  "crun|crun --root $oci_root/crun run -b $out/bundle bench-crun|crun --root $oci_root/crun delete -f bench-crun|$(command -v crun)"
  "runc|runc --root $oci_root/runc run -b $out/bundle bench-runc|runc --root $oci_root/runc delete -f bench-runc|$(command -v runc)"
  "mydocker (OCI)|$md --root $oci_root/md run -b $out/bundle bench-md|$md --root $oci_root/md delete -f bench-md|$md"
  "mydocker --rootfs|$md run --rootfs $rootfs /bin/busybox true||$md"
  "crun create+start+delete|$out/lifecycle.sh crun --root $oci_root/crun $out/bundle bench-crun-l|crun --root $oci_root/crun delete -f bench-crun-l|$(command -v crun)"
  "runc create+start+delete|$out/lifecycle.sh runc --root $oci_root/runc $out/bundle bench-runc-l|runc --root $oci_root/runc delete -f bench-runc-l|$(command -v runc)"
  "mydocker create+start+delete|$out/lifecycle.sh $md --root $oci_root/md $out/bundle bench-md-l|$md --root $oci_root/md delete -f bench-md-l|$md"
  "mydocker --rootfs, no device policy|$pre run --rootfs $rootfs /bin/busybox true||$pre"
)
# The default seccomp filter's cost, once mydocker has one: the same run
# with the filter off (the row is left out while the flag does not exist).
if $md run --security-opt seccomp=unconfined "$payload" true >/dev/null 2>&1; then
  cmds+=("mydocker, seccomp unconfined|$md run --security-opt seccomp=unconfined $payload true||$md")
fi

# Every command must work before anything is timed.
for c in "${cmds[@]}"; do
  IFS='|' read -r name cmd prep bin <<<"$c"
  [ -z "$prep" ] || $prep >/dev/null 2>&1 || true
  $cmd >/dev/null 2>"$out/err.txt" || { log "$name fails: $(cat "$out/err.txt")"; exit 1; }
done

# Runs hyperfine over all commands, rotating their order each round.
# $1: pass name, $2: rounds, $3: runs per round, $4: extra prepare prefix
# ("" or a sleep).
timed() {
  local pass=$1 rounds=$2 runs=$3 pause=$4 r i n=${#cmds[@]}
  for ((r = 0; r < rounds; r++)); do
    local args=(-N --style none --runs "$runs" --export-json "$out/$pass-$r.json")
    [ "$pass" = hot ] && args+=(--warmup 20)
    for ((i = 0; i < n; i++)); do
      IFS='|' read -r name cmd prep bin <<<"${cmds[(i + r) % n]}"
      local p="true"
      [ -n "$pause" ] && p="$pause"
      [ -n "$prep" ] && p="$p; $prep >/dev/null 2>&1 || true"
      args+=(--prepare "sh -c '$p'" --command-name "$name" "$cmd")
    done
    log "$pass pass, round $((r + 1))/$rounds ($runs runs per command)"
    hyperfine "${args[@]}" >/dev/null 2>&1
  done
}
timed hot "$hot_rounds" "$hot_runs" ""
# Isolated: >= 0.1 s idle before each run. On this kernel the first write of
# another process's pid into cgroup.procs after idle waits for an RCU grace
# period (7-14 ms), which back-to-back loops hide and a script's one-off
# container pays (crun and runc; mydocker and the floor join by themselves).
timed isolated "$iso_rounds" "$iso_runs" "sleep 0.1"

# ---- per-launcher facts: size, static, peak RSS, syscalls of the tree ------
: >"$out/facts.tsv"
for c in "${cmds[@]}"; do
  IFS='|' read -r name cmd prep bin <<<"$c"
  size=$(stat -L -c %s "$bin")
  if readelf -l "$bin" 2>/dev/null | grep -q INTERP; then static=no; else static=yes; fi
  [ -z "$prep" ] || $prep >/dev/null 2>&1 || true
  rss=$(/usr/bin/time -f %M $cmd 2>&1 >/dev/null | tail -1)
  [ -z "$prep" ] || $prep >/dev/null 2>&1 || true
  strace -f -c -o "$out/strace.txt" $cmd >/dev/null 2>&1 || true
  # strace -c prints one table per personality: mydocker's x32 probe (is
  # x32 on?) makes a second one, so every table's total is summed.
  calls=$(awk '$NF == "total" {n += $4} END {print n}' "$out/strace.txt")
  printf '%s\t%s\t%s\t%s\t%s\n' "$name" "$size" "$static" "$rss" "$calls" >>"$out/facts.tsv"
done

# ---- scale ---------------------------------------------------------------
log "scale: $scale_n containers in sequence, 2 in parallel, 1 KiB and 128 KiB argv"
cg_md=$(sed -n 's/^[0-9]*:memory:\(.*\)$/\1/p' /proc/self/cgroup)
mem_dir=/sys/fs/cgroup/memory${cg_md%/}
[ -d "$mem_dir" ] || mem_dir=/sys/fs/cgroup$(sed -n 's/^0::\(.*\)$/\1/p' /proc/self/cgroup)
mounts_before=$(wc -l </proc/self/mountinfo)
fds_before=$(ls /proc/$$/fd | wc -l)
# Let the kernel finish tearing down the namespaces of the passes above.
sleep 3
/usr/bin/python3 "$here/scale.py" scale "$md" "$out/floor" "$payload" "$scale_n" >"$out/scale.json"
leaked_cg=$(find "$mem_dir/mydocker" -mindepth 1 -maxdepth 1 -type d 2>/dev/null | wc -l)
leaked_mounts=$(( $(wc -l </proc/self/mountinfo) - mounts_before ))
leaked_fds=$(( $(ls /proc/$$/fd | wc -l) - fds_before ))
leaked_procs=$(pgrep -c -f "^$md run" || true)
printf '{"cgroups": %d, "mounts": %d, "fds": %d, "processes": %d}\n' \
  "$leaked_cg" "$leaked_mounts" "$leaked_fds" "${leaked_procs:-0}" >"$out/leaks.json"

/usr/bin/python3 "$here/scale.py" argv "$md" "$out/floor" "$payload" >"$out/argv.json"

# ---- tidy up what the OCI runtimes made on the way to their cgroup ----------
# Only directories on the path to $cgpath that did not exist before the run.
cg_after=$(find /sys/fs/cgroup -mindepth 1 -maxdepth 6 -type d 2>/dev/null | sort)
created=$(comm -13 <(echo "$cg_before") <(echo "$cg_after"))
for h in /sys/fs/cgroup/*/ /sys/fs/cgroup/; do
  p=$cgpath
  while [ -n "$p" ] && [ "$p" != / ]; do
    d=${h%/}$p
    grep -qxF "$d" <<<"$created" && rmdir "$d" 2>/dev/null || true
    p=${p%/*}
  done
done

# ---- clients (outside the timed passes): podman and containerd driving ------
# mydocker, crun and runc (bench/clients.py writes its own table).
rm -f "$out/clients.md"
if [ -z "${BENCH_NO_CLIENTS:-}" ]; then
  log "clients: podman and ctr with mydocker, crun, runc"
  [ ! -x "$here/../tests/e2e/prereq.sh" ] || "$here/../tests/e2e/prereq.sh" >&2 || log "e2e prerequisites failed"
  /usr/bin/python3 "$here/clients.py" "$build" "$md" "$build/rootfs" >&2 || log "clients.py failed (its table is left out)"
fi

# ---- report -----------------------------------------------------------------
/usr/bin/python3 "$here/report.py" "$out" "$hot_rounds" "$iso_rounds" >"$out/results.md"
[ -s "$out/clients.md" ] && { echo; cat "$out/clients.md"; } >>"$out/results.md"
cp "$out/results.md" "$here/results.md"
cat "$out/results.md"
