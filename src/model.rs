//! The one description of a container. Two front ends fill it — the
//! docker-style flags (`cli::Run`, through `from_run` below) and an OCI
//! bundle's config.json (`oci`) — and one path runs it: spawn (parent side,
//! before and after clone) and child (between clone and execve).
//!
//! Everything here is borrowed: from argv, the caller's environment, or the
//! mapped config.json. Lists are slices of tables the front end sized
//! before use; nothing allocates. What a field means for the child is
//! documented on the field; spawn turns the model into the child's Ctx.
use crate::cli::{Args, Limits, Run};


/// The namespaces a container runs in: new ones, and existing ones joined
/// by path (setns). A type in both is a front-end error.
#[derive(Clone, Copy)]
pub struct Namespaces<'a> {
    /// CLONE_NEW* flags of the namespaces created at clone.
    pub new: i32,
    /// Namespaces joined instead: (CLONE_NEW* type, path of an nsfs file,
    /// e.g. /proc/PID/ns/net). The type is checked against the file.
    pub join: &'a [(i32, &'a [u8])],
}

/// The five docker-style namespaces, all new.
pub const DOCKER_NAMESPACES: i32 =
    libc::CLONE_NEWUTS | libc::CLONE_NEWPID | libc::CLONE_NEWNS | libc::CLONE_NEWNET | libc::CLONE_NEWIPC;

/// Namespace types by their runtime-spec names (config.json's
/// linux.namespaces[].type), and their CLONE_NEW* flags in the same order
/// (time: CLONE_NEWTIME).
pub const NS_NAMES: &[u8] = b"pid network mount ipc uts cgroup user time";
pub const NS_FLAGS: [i32; 8] = [
    libc::CLONE_NEWPID,
    libc::CLONE_NEWNET,
    libc::CLONE_NEWNS,
    libc::CLONE_NEWIPC,
    libc::CLONE_NEWUTS,
    libc::CLONE_NEWCGROUP,
    libc::CLONE_NEWUSER,
    0x80,
];

/// The runtime-spec name of the namespace type `flag` ("unknown" if none).
pub fn ns_name(flag: i32) -> &'static [u8] {
    NS_FLAGS.iter().position(|&f| f == flag).map_or(b"unknown", |i| crate::words::nth(NS_NAMES, i))
}

/// The command and its environment.
#[derive(Clone, Copy)]
pub struct Process<'a> {
    /// argv is `args[from..]`; with `from >= args.count()` (docker-style
    /// --rootfs without a command) it is the default shell.
    pub args: &'a dyn Args,
    pub from: usize,
    pub env: Env<'a>,
    /// The working directory inside (absolute; created if missing).
    pub cwd: Option<&'a [u8]>,
}

#[derive(Clone, Copy)]
pub enum Env<'a> {
    /// docker-style: the caller's environment (or only the default PATH
    /// with `clear`), edited by -e flags, plus `image` (KEY=VALUE entries a
    /// flag did not set) and HOSTNAME (plan::environment).
    Docker { flags: &'a [&'a [u8]], clear: bool, caller: &'a dyn Args, image: &'a [&'a [u8]] },
    /// OCI: exactly these KEY=VALUE entries.
    List(&'a dyn Args),
}

/// Who the command runs as.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct User<'a> {
    /// None: stay root (uid 0, gid 0, no supplementary groups).
    pub ids: Option<(u32, u32)>,
    /// Supplementary groups (setgroups); empty = none.
    pub groups: &'a [u32],
    /// umask(2) before execve; None leaves the inherited one.
    pub umask: Option<u32>,
}

/// Capability sets, bit N for capability N.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct CapSets {
    pub bounding: u64,
    pub effective: u64,
    pub permitted: u64,
    pub inheritable: u64,
    pub ambient: u64,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Caps {
    /// docker-style: docker's default set plus `add` minus `drop`, never
    /// more than mydocker itself has (caps::keep); a non-root user ends up
    /// with none effective.
    Docker { add: u64, drop: u64 },
    /// --privileged: nothing dropped.
    Keep,
    /// OCI: the five sets as given (kept across the user switch).
    Sets(CapSets),
}

/// One resource limit: setrlimit(resource, soft, hard).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Rlimit {
    pub resource: u32,
    pub soft: u64,
    pub hard: u64,
}

/// A device node made in the container's /dev (linux.devices).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Device<'a> {
    /// Absolute path inside the container.
    pub path: &'a [u8],
    /// S_IFCHR, S_IFBLK or S_IFIFO.
    pub kind: u32,
    pub major: u32,
    pub minor: u32,
    pub mode: u32,
    pub uid: u32,
    pub gid: u32,
}

/// The filesystem: what becomes `/`, and the mounts made on it.
#[derive(Clone, Copy)]
pub struct Fs<'a> {
    /// None: the host's filesystem with a fresh /proc (docker-style only).
    pub rootfs: Option<&'a [u8]>,
    pub read_only: bool,
    pub mounts: Mounts<'a>,
}

#[derive(Clone, Copy)]
pub enum Mounts<'a> {
    /// docker-style: mydocker's fixed layout (mounts::build) with these
    /// -v specs and --tmpfs paths; `privileged` drops the masked and
    /// read-only paths and leaves /sys writable.
    Docker { volumes: &'a [&'a [u8]], tmpfs: &'a [&'a [u8]], privileged: bool },
    /// The front end built the whole table (OCI: config.json's mounts,
    /// masked and read-only paths, devices, pivot).
    Table(&'a crate::mounts::Table<'a>),
}

/// How the container's life is tied to mydocker's.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Mode {
    /// `mydocker run`: PDEATHSIG ties the container to mydocker, which
    /// forwards signals and waits for it.
    Attached,
    /// OCI `create`: no PDEATHSIG (the container outlives `create` and is
    /// reaped by the caller's subreaper); once set up, the process blocks
    /// before execve until `start` writes a byte into the exec fifo, whose
    /// read end (opened O_RDONLY|O_NONBLOCK, close-on-exec) is `fifo`.
    /// Before that it waits for one byte on `ack` (a pipe's read end,
    /// close-on-exec), which create writes once the record is in.
    Created { fifo: crate::sys::Fd, ack: crate::sys::Fd },
    /// OCI `exec`: a process joining a running container (every namespace
    /// by path, nothing mounted). With `detach`, mydocker returns its pid
    /// once execve succeeded and the caller's subreaper reaps it (no
    /// PDEATHSIG); without, mydocker waits and returns its status.
    Exec { detach: bool },
}

/// A container, as either front end describes it.
#[derive(Clone, Copy)]
pub struct Container<'a> {
    /// The container id; None: a random 12-hex-digit one (docker-style).
    pub id: Option<&'a [u8]>,
    pub ns: Namespaces<'a>,
    /// None: the id.
    pub hostname: Option<&'a [u8]>,
    pub domainname: Option<&'a [u8]>,
    /// "exec <profile>" for /proc/self/attr/apparmor/exec (OCI
    /// process.apparmorProfile on a host with AppArmor enabled).
    pub apparmor: Option<&'a [u8]>,
    pub process: Process<'a>,
    pub fs: Fs<'a>,
    pub user: User<'a>,
    pub caps: Caps,
    pub no_new_privs: bool,
    pub rlimits: &'a [Rlimit],
    /// OCI linux.sysctl: (path under /proc/sys, value),
    /// written once the container's /proc is mounted.
    pub sysctl: &'a [(&'a [u8], &'a [u8])],
    /// Written to /proc/self/oom_score_adj before execve.
    pub oom_score_adj: Option<i32>,
    /// cgroup resources.
    pub limits: Limits<'a>,
    /// Where the cgroups go (relative to each hierarchy's root); None: the
    /// caller's own cgroup.
    pub cgroup_parent: Option<&'a [u8]>,
    pub devices: &'a [Device<'a>],
    /// The device policy (devices.rs: last matching rule wins, default
    /// deny), enforced through the container's cgroup; None: no policy and
    /// no cgroup for it. docker-style: docker's default with --rootfs and
    /// without --privileged, plus a rule per --device; OCI:
    /// linux.resources.devices.
    pub device_rules: Option<&'a [crate::devices::Rule]>,
    /// The seccomp profile; spawn compiles it for the kept capabilities
    /// and the child installs it last before execve.
    pub seccomp: crate::seccomp::Profile<'a>,
    /// The command gets a pty of its own (console.rs). Attached, mydocker
    /// relays it to its own stdin/stdout (relay.rs), and stdin must be a
    /// terminal.
    pub terminal: bool,
    /// Attached with a terminal: the caller's stdin is relayed to it, and
    /// the caller's terminal is raw meanwhile (docker's -i with -t).
    pub interactive: bool,
    /// Created with a terminal (OCI --console-socket): a connected socket
    /// the master of the container's terminal is sent to, and its first
    /// size (process.consoleSize: rows, columns). The caller closes it.
    pub console_socket: Option<(crate::sys::Fd, (u16, u16))>,
    /// PID 1 is mydocker's reaper, the command PID 2.
    pub init: bool,
    pub mode: Mode,
    /// fds 3..3+N stay open into the command (OCI --preserve-fds).
    pub preserve_fds: i32,
    /// Cgroups the front end made itself (OCI cgroupsPath): the files the
    /// child joins through and the fds it closes. None: spawn makes them
    /// from `limits` (docker-style).
    pub cgroup_fds: Option<crate::cgroup::ChildFds<'a>>,
    /// An attached OCI exec's --pid-file: the process's host pid, written
    /// once it exists, before the wait (runc).
    pub pid_file: Option<&'a [u8]>,
}

/// What docker adds to an image's environment (besides PATH and
/// HOSTNAME): HOME (/root for root; "/" for another uid, whose home would
/// be in the image's /etc/passwd, which mydocker does not read) and
/// TERM=xterm with -t. Only with --rootfs: an image's code never gets the
/// caller's environment (it may hold secrets), as with `docker run`;
/// without --rootfs the host's own files run, as under unshare(1), with
/// the caller's environment.
fn image_env(r: &Run) -> &'static [&'static [u8]] {
    const E: [&[u8]; 3] = [b"HOME=/root", b"TERM=xterm", b"HOME=/"];
    let t = r.tty() as usize;
    match (r.rootfs, r.user.map_or(true, |u| u.0 == 0)) {
        (None, _) => &[],
        (_, true) => &E[..1 + t],
        (_, false) => &E[2 - t..],
    }
}

/// The docker-style front end: `mydocker run` flags as a container.
/// `args` and `env` are mydocker's own argv and environment.
pub fn from_run<'a>(r: &'a Run<'a>, args: &'a dyn Args, env: &'a dyn Args) -> Container<'a> {
    Container {
        id: None,
        ns: Namespaces { new: DOCKER_NAMESPACES, join: &[] },
        hostname: r.hostname,
        domainname: None,
        apparmor: None,
        process: Process {
            args,
            from: r.cmd,
            env: Env::Docker { flags: r.env_flags(), clear: r.env_clear() || r.rootfs.is_some(), caller: env, image: image_env(r) },
            cwd: r.workdir,
        },
        fs: Fs {
            rootfs: r.rootfs,
            read_only: r.read_only(),
            mounts: Mounts::Docker { volumes: r.volume_specs(), tmpfs: r.tmpfs_paths(), privileged: r.privileged() },
        },
        // An image's run starts with docker's (runc's) umask 022, as it
        // gets none of the caller's environment; without --rootfs the
        // caller's umask stays, as its environment and cwd do.
        user: User { ids: r.user, groups: &[], umask: r.rootfs.map(|_| 0o022) },
        caps: if r.privileged() { Caps::Keep } else { Caps::Docker { add: r.cap_add, drop: r.cap_drop } },
        no_new_privs: !r.privileged() || r.no_new_privs,
        rlimits: &[],
        sysctl: &[],
        oom_score_adj: None,
        limits: r.limits,
        cgroup_parent: r.cgroup_parent,
        devices: &[],
        device_rules: if r.device_policy() { Some(&crate::devices::DOCKER_DEFAULT) } else { None },
        seccomp: if r.privileged() { crate::seccomp::Profile::Unconfined } else { r.seccomp },
        terminal: r.tty(),
        interactive: r.interactive(),
        console_socket: None,
        init: r.init(),
        mode: Mode::Attached,
        preserve_fds: 0,
        cgroup_fds: None,
        pid_file: None,
    }
}

impl Process<'_> {
    /// The command was left out: the default shell runs.
    pub fn default_shell(&self) -> bool {
        self.from >= self.args.count()
    }

    /// argv[0] as given (the default shell when left out).
    pub fn argv0(&self) -> &[u8] {
        if self.default_shell() {
            crate::cli::DEFAULT_SHELL
        } else {
            self.args.arg(self.from)
        }
    }
}
