/work/wt/fixrun/target-base/x86_64-unknown-linux-musl/release/deps/mydocker-e057e2fe8d2bdff0.d: src/main.rs src/caps.rs src/cgroup/mod.rs src/cgroup/freeze.rs src/cgroup/res.rs src/cgroup/text.rs src/cgroup/v1.rs src/cgroup/v2.rs src/child.rs src/cli.rs src/console.rs src/devices.rs src/err.rs src/frame.rs src/fsops.rs src/json.rs src/limits.rs src/model.rs src/mounts.rs src/oci/mod.rs src/oci/cgroups.rs src/oci/config.rs src/oci/create.rs src/oci/ctl.rs src/oci/exec.rs src/oci/flags.rs src/oci/info.rs src/oci/jw.rs src/oci/log.rs src/oci/mounts.rs src/oci/pause.rs src/oci/query.rs src/oci/state.rs src/oci/update.rs src/out.rs src/path.rs src/plan.rs src/relay.rs src/seccomp/mod.rs src/seccomp/bpf.rs src/seccomp/model.rs src/seccomp/prebuilt.rs src/seccomp/profile.rs src/seccomp/tables.rs src/spawn.rs src/spawn/nsjoin.rs src/signals.rs src/sys/mod.rs src/sys/chroot.rs src/sys/copy.rs src/sys/fds.rs src/sys/mnt.rs src/sys/oci.rs src/sys/proc.rs src/sys/tty.rs src/sys/file.rs src/sys/seccomp.rs src/sys/dev.rs src/sys/arena.rs src/words.rs

/work/wt/fixrun/target-base/x86_64-unknown-linux-musl/release/deps/mydocker-e057e2fe8d2bdff0: src/main.rs src/caps.rs src/cgroup/mod.rs src/cgroup/freeze.rs src/cgroup/res.rs src/cgroup/text.rs src/cgroup/v1.rs src/cgroup/v2.rs src/child.rs src/cli.rs src/console.rs src/devices.rs src/err.rs src/frame.rs src/fsops.rs src/json.rs src/limits.rs src/model.rs src/mounts.rs src/oci/mod.rs src/oci/cgroups.rs src/oci/config.rs src/oci/create.rs src/oci/ctl.rs src/oci/exec.rs src/oci/flags.rs src/oci/info.rs src/oci/jw.rs src/oci/log.rs src/oci/mounts.rs src/oci/pause.rs src/oci/query.rs src/oci/state.rs src/oci/update.rs src/out.rs src/path.rs src/plan.rs src/relay.rs src/seccomp/mod.rs src/seccomp/bpf.rs src/seccomp/model.rs src/seccomp/prebuilt.rs src/seccomp/profile.rs src/seccomp/tables.rs src/spawn.rs src/spawn/nsjoin.rs src/signals.rs src/sys/mod.rs src/sys/chroot.rs src/sys/copy.rs src/sys/fds.rs src/sys/mnt.rs src/sys/oci.rs src/sys/proc.rs src/sys/tty.rs src/sys/file.rs src/sys/seccomp.rs src/sys/dev.rs src/sys/arena.rs src/words.rs

src/main.rs:
src/caps.rs:
src/cgroup/mod.rs:
src/cgroup/freeze.rs:
src/cgroup/res.rs:
src/cgroup/text.rs:
src/cgroup/v1.rs:
src/cgroup/v2.rs:
src/child.rs:
src/cli.rs:
src/console.rs:
src/devices.rs:
src/err.rs:
src/frame.rs:
src/fsops.rs:
src/json.rs:
src/limits.rs:
src/model.rs:
src/mounts.rs:
src/oci/mod.rs:
src/oci/cgroups.rs:
src/oci/config.rs:
src/oci/create.rs:
src/oci/ctl.rs:
src/oci/exec.rs:
src/oci/flags.rs:
src/oci/info.rs:
src/oci/jw.rs:
src/oci/log.rs:
src/oci/mounts.rs:
src/oci/pause.rs:
src/oci/query.rs:
src/oci/state.rs:
src/oci/update.rs:
src/out.rs:
src/path.rs:
src/plan.rs:
src/relay.rs:
src/seccomp/mod.rs:
src/seccomp/bpf.rs:
src/seccomp/model.rs:
src/seccomp/prebuilt.rs:
src/seccomp/profile.rs:
src/seccomp/tables.rs:
src/spawn.rs:
src/spawn/nsjoin.rs:
src/signals.rs:
src/sys/mod.rs:
src/sys/chroot.rs:
src/sys/copy.rs:
src/sys/fds.rs:
src/sys/mnt.rs:
src/sys/oci.rs:
src/sys/proc.rs:
src/sys/tty.rs:
src/sys/file.rs:
src/sys/seccomp.rs:
src/sys/dev.rs:
src/sys/arena.rs:
src/words.rs:

# env-dep:CARGO_PKG_VERSION=0.1.0
# env-dep:MYDOCKER_COMMIT=5d21e7a8d6a6
