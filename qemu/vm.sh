#!/usr/bin/env bash
# Runs the integration suite inside one QEMU VM and turns its result marker
# into an exit status.
#
# usage: qemu/vm.sh BUILD_DIR ARCH CGROUP
#   ARCH: x86_64 | aarch64; CGROUP: v1 | v2
# env: ACCEL (tcg), QEMU_TIMEOUT (seconds), QEMU_MEM (MiB), STRESS_N, CARGO
set -euo pipefail
build=$1 arch=$2 mode=$3
accel=${ACCEL:-tcg}
timeout_s=${QEMU_TIMEOUT:-600}
mem=${QEMU_MEM:-512}
stress=${STRESS_N:-20}
cargo=${CARGO:-cargo}
target=$arch-unknown-linux-musl
dir=$build/qemu/$arch
tag=$arch-$mode

say() { printf '%s\n' "$*"; }
die() { say "$tag: $*"; say "$tag: 0 passed, 1 failed, 0 skipped"; exit 1; }

[ -f "$dir/kernel" ] && [ -f "$dir/busybox" ] || die "no kernel/busybox in $dir (run qemu/prereq.sh)"

# The binary and the same integration test binaries that run on the host,
# built for the guest's architecture.
$cargo build -q --release --locked --target "$target" || die "build failed"
tests=$($cargo test --no-run --locked --target "$target" --test run --test cgroups --test rootfs --test reliability --test faults --test contract --test tty --test ways_out --test devices --test oci --test oci_exec --test signals --test killed --test chroot --test seccomp 2>&1 | sed -n 's/.*Executable .* (\(.*\))$/\1/p')
[ -n "$tests" ] || die "no test binaries built"

root=$dir/initramfs-$mode
rm -rf "$root"
mkdir -p "$root/bin" "$root/tests"
cp "$dir/busybox" "$root/bin/busybox"
cp qemu/init "$root/init"
chmod +x "$root/init"
cp "target/$target/release/mydocker" "$root/mydocker"
for t in $tests; do
  n=$(basename "$t"); cp "$t" "$root/tests/${n%-*}"
done
(cd "$root" && find . | cpio -o -H newc --quiet | gzip -1) >"$dir/initramfs-$mode.cpio.gz"

cmdline="panic=-1 quiet mydocker.cgroup=$mode mydocker.stress=$stress"
[ "$mode" = v2 ] && cmdline="$cmdline cgroup_no_v1=all"
case $arch in
  x86_64) qemu=(qemu-system-x86_64); cmdline="console=ttyS0 $cmdline" ;;
  aarch64) qemu=(qemu-system-aarch64 -M virt -cpu cortex-a57); cmdline="console=ttyAMA0 $cmdline" ;;
  *) die "unknown arch $arch" ;;
esac

logf=$build/qemu/$tag.log
start=$(date +%s)
set +e
timeout -k 5 "$timeout_s" "${qemu[@]}" -accel "$accel" -m "$mem" -smp 2 -display none -serial stdio \
  -monitor none -no-reboot -kernel "$dir/kernel" -initrd "$dir/initramfs-$mode.cpio.gz" \
  -append "$cmdline" </dev/null >"$logf" 2>&1
rc=$?
set -e
secs=$(( $(date +%s) - start ))
tr -d '\r' <"$logf" >"$logf.txt" && mv "$logf.txt" "$logf"

marker=$(grep -a '^MYDOCKER-RESULT ' "$logf" | tail -1)
if grep -aq 'Kernel panic' "$logf" || [ -z "$marker" ]; then
  why="no result marker"
  grep -aq 'Kernel panic' "$logf" && why="kernel panic"
  [ $rc = 124 ] && why="timeout after ${timeout_s}s"
  say "$tag: $why (qemu exit $rc); last console lines:"
  tail -n 40 "$logf"
  say "$tag: 0 passed, 1 failed, 0 skipped"
  exit 1
fi
# Per-binary lines, skip reasons and any failure output, as the guest printed them.
grep -a -E '^(SKIP |---- |[a-z_]+: [0-9]+ passed)' "$logf" | sed "s/^/  /" || true
if grep -aq '^---- ' "$logf"; then sed -n '/^---- /,/^[a-z_]*: [0-9]* passed/p' "$logf"; fi
p=$(echo "$marker" | sed -n 's/.*passed=\([0-9]*\).*/\1/p')
f=$(echo "$marker" | sed -n 's/.*failed=\([0-9]*\).*/\1/p')
s=$(echo "$marker" | sed -n 's/.*skipped=\([0-9]*\).*/\1/p')
say "$tag: booted, tested and powered off in ${secs}s"
say "$tag: $p passed, $f failed, $s skipped"
[ "$f" = 0 ]
