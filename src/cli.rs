//! argv → options. Pure: the parser takes the argument list as a parameter
//! and never reads the environment, so tests call it directly.
use crate::caps;
use crate::err::Usage;
use crate::limits::{self, CpuSet, Why};
use crate::mounts::{self, MAX_TMPFS, MAX_VOLUMES};
use crate::sys::CArgs;
use crate::words;

/// A read-only list of byte strings: the C argv/envp in the binary, a slice
/// of byte strings in tests.
pub trait Args {
    fn count(&self) -> usize;
    fn arg(&self, i: usize) -> &[u8];
}

impl Args for CArgs {
    fn count(&self) -> usize {
        self.len()
    }
    fn arg(&self, i: usize) -> &[u8] {
        self.get(i)
    }
}

impl Args for [&[u8]] {
    fn count(&self) -> usize {
        self.len()
    }
    fn arg(&self, i: usize) -> &[u8] {
        self.get(i).copied().unwrap_or(&[])
    }
}

/// How many `-e` flags one command line may carry (a fixed table, no heap).
pub const MAX_ENV_FLAGS: usize = 256;
/// Where each list starts in Run's items.
const AT_VOLUMES: usize = MAX_ENV_FLAGS;
const AT_TMPFS: usize = AT_VOLUMES + MAX_VOLUMES;
const AT_DEVICES: usize = AT_TMPFS + MAX_TMPFS;
const AT_END: usize = AT_DEVICES + crate::devices::MAX_DEVICES;
/// sethostname(2) takes at most 64 bytes (HOST_NAME_MAX).
pub const HOST_NAME_MAX: usize = 64;

#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Run<'a> {
    pub hostname: Option<&'a [u8]>,
    /// The -e flags, -v specs, --tmpfs paths and --device specs as typed,
    /// each list in its part of one array (one to fill when blank): the
    /// -e flags from 0, the others from AT_VOLUMES, AT_TMPFS, AT_DEVICES on.
    items: [&'a [u8]; AT_END],
    /// How many -e flags.
    pub nenv: usize,
    /// The switches given: bit N for flag N of FLAGS (-t, -i, --env-clear,
    /// --read-only, --privileged, --init), read through the methods below
    /// (one store per switch when parsing, not one arm each).
    switches: u16,
    /// Index in argv of the command; everything from here on is passed as is.
    pub cmd: usize,
    pub limits: Limits<'a>,
    /// --cgroup-parent: where `mydocker/<id>` goes, relative to each
    /// hierarchy's root; default: the caller's own cgroup.
    pub cgroup_parent: Option<&'a [u8]>,
    pub rootfs: Option<&'a [u8]>,
    /// How many -v specs (syntax-checked; parsed again by
    /// mounts::parse_volume) and --tmpfs paths.
    pub nvol: usize,
    pub ntmpfs: usize,
    pub workdir: Option<&'a [u8]>,
    /// -u UID[:GID]
    pub user: Option<(u32, u32)>,
    pub cap_add: u64,
    pub cap_drop: u64,
    /// --security-opt no-new-privileges: no_new_privs even with
    /// --privileged (docker sets it only when asked; mydocker always does
    /// without --privileged).
    pub no_new_privs: bool,
    /// --security-opt seccomp=unconfined|FILE (docker's default otherwise;
    /// --privileged implies unconfined).
    pub seccomp: crate::seccomp::Profile<'a>,
    /// How many --device specs (syntax-checked; parsed again by
    /// devices::parse_device).
    pub ndev: usize,
}

/// Resource limits as given (already syntax-checked); None = not asked.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Limits<'a> {
    /// Bytes, and the text the user typed (for the OOM message).
    pub memory: Option<(u64, &'a [u8])>,
    /// The list as typed (written as is) and as a set (checked against the
    /// online CPUs before anything is created).
    pub cpuset: Option<(&'a [u8], CpuSet)>,
    pub shares: Option<u64>,
    pub pids: Option<u64>,
    /// Thousandths of a CPU.
    pub cpus: Option<u64>,
}

impl Limits<'_> {
    pub const NONE: Limits<'static> = Limits { memory: None, cpuset: None, shares: None, pids: None, cpus: None };

    pub fn any(&self) -> bool {
        *self != Limits::NONE
    }
}

impl<'a> Run<'a> {
    pub fn env_flags(&self) -> &[&'a [u8]] {
        self.items.get(..self.nenv).unwrap_or_default()
    }
    pub fn volume_specs(&self) -> &[&'a [u8]] {
        self.items.get(AT_VOLUMES..AT_VOLUMES + self.nvol).unwrap_or_default()
    }
    pub fn tmpfs_paths(&self) -> &[&'a [u8]] {
        self.items.get(AT_TMPFS..AT_TMPFS + self.ntmpfs).unwrap_or_default()
    }
    pub fn device_specs(&self) -> &[&'a [u8]] {
        self.items.get(AT_DEVICES..AT_DEVICES + self.ndev).unwrap_or_default()
    }
    /// docker's default device policy applies: a container with a rootfs of
    /// its own, not --privileged (without a rootfs it shares the host's
    /// /dev, and rules would protect nothing).
    pub fn device_policy(&self) -> bool {
        self.rootfs.is_some() && !self.privileged() && !cfg!(feature = "bench-no-device-policy")
    }
    fn on(&self, flag: usize) -> bool {
        self.switches & 1 << flag != 0
    }
    /// -t: a pseudo-terminal of the container's own, relayed by mydocker.
    pub fn tty(&self) -> bool {
        self.on(TTY)
    }
    /// -i: with -t, the caller's stdin is relayed to it (without -t, stdin
    /// is always the caller's).
    pub fn interactive(&self) -> bool {
        self.on(INTERACTIVE)
    }
    pub fn env_clear(&self) -> bool {
        self.on(ENV_CLEAR)
    }
    pub fn read_only(&self) -> bool {
        self.on(READ_ONLY)
    }
    pub fn privileged(&self) -> bool {
        self.on(PRIVILEGED)
    }
    /// --init: a tiny reaper as PID 1, the command as PID 2.
    pub fn init(&self) -> bool {
        self.on(INIT)
    }
}

/// The command run when --rootfs is given without one.
pub const DEFAULT_SHELL: &[u8] = b"/bin/sh";

/// -u UID[:GID], numeric; the group defaults to 0, as in docker.
pub fn parse_user(s: &[u8]) -> Option<(u32, u32)> {
    let mut f = s.splitn(2, words::on(b':'));
    let id = |x: &[u8]| limits::parse_u64(x).filter(|&v| v <= u32::MAX as u64 - 1).map(|v| v as u32);
    let uid = id(f.next()?)?;
    let gid = match f.next() {
        Some(g) => id(g)?,
        None => 0,
    };
    Some((uid, gid))
}

#[derive(Debug, PartialEq)]
pub enum Cmd<'a> {
    /// gc [--cgroup-parent PATH]
    Gc(Option<&'a [u8]>),
    Help,
    Version,
    RunHelp,
    Run(Run<'a>),
}

pub const HELP: &[u8] = concat!(
    "Usage: mydocker run [OPTIONS] COMMAND [ARG...]   run a container (see run --help)\n",
    "       mydocker gc [--cgroup-parent PATH]          remove the cgroups of killed runs\n",
    "       mydocker -h|--help | -v|--version\n",
    "Exit status: the command's own; 128+N if killed by signal N; 125 if mydocker\n",
    "failed; 126 if the command cannot be run; 127 if it is not found.\n",
)
.as_bytes();

pub const RUN_HELP: &[u8] = b"Usage: mydocker run [OPTIONS] COMMAND [ARG...]
Runs COMMAND as PID 1 in new UTS, PID, mount, net and IPC namespaces.
 -e, --env KEY[=VAL]   set KEY, or copy it from the caller
 --env-clear           start from an empty environment (default PATH)
 -h, --hostname NAME   default: the container id
 -t, --tty             a terminal of its own (stdin must be one)
 -i, --interactive     with -t: relay stdin to it; -ti, -it: both
 -m, --memory SIZE     memory limit (b, k, m, g), no swap
 -cpuset, --cpuset-cpus LIST  CPUs, e.g. 0-1,3
 -cpushare, --cpu-shares N    CPU weight 2..262144 (default 1024)
 --cpus X.Y            CPU time limit
 --pids-limit N        at most N processes
 --cgroup-parent PATH  default: the caller's cgroup
 --rootfs DIR          DIR as / (default command: /bin/sh)
 -v, --volume SRC:DST[:ro|rw]  bind mount (*)
 --tmpfs PATH[:OPTS]   tmpfs at PATH (*)
 --read-only           read-only rootfs (*)
 --device HOST[:CONTAINER][:rwm]  a host device node (*)
 -w, --workdir DIR     working directory (absolute)
 -u, --user UID[:GID]  numeric user and group
 --cap-add CAP, --cap-drop CAP  adjust docker's default set (ALL)
 --privileged          all capabilities and devices, no masked paths, no seccomp
 --security-opt seccomp=unconfined|FILE  no syscall filter, or a docker/OCI
                       JSON profile (default: docker's)
 --network none, --security-opt no-new-privileges  accepted (the default)
 --init                a reaper as PID 1, the command as PID 2
 --rm                  accepted: a container never outlives its run
 --help                this help; -- ends the options
(*) needs --rootfs
";

/// Appends to a fixed table; `full` when it has no room left.
// Not inlined: measured smaller as a call (issue 12, size).
#[inline(never)]
fn add<'a>(list: &mut [&'a [u8]], n: &mut usize, v: &'a [u8], full: Why) -> Result<(), Why> {
    *list.get_mut(*n).ok_or(full)? = v;
    *n += 1;
    Ok(())
}

// Not inlined: one call is smaller than the eight stores of a Usage.
#[inline(never)]
fn usage<'a>(what: &'static [u8], arg: &'a [u8], why: &'static [u8]) -> Usage<'a> {
    Usage { cmd: b"run", what, arg, why }
}

fn top<'a>(cmd: &'static [u8], what: &'static [u8], arg: &'a [u8], why: &'static [u8]) -> Usage<'a> {
    Usage { cmd, what, arg, why }
}

/// Every spelling of every run flag (the original's single-dash ones too),
/// one group per flag in the order of the constants below; the last
/// spelling of a group is the one messages name. The first `TAKES` groups
/// are switches, the others take a value.
const FLAGS: &[u8] = b"-t --tty|-i --interactive|-ti -it|--help|--env-clear|--read-only|--privileged|--init|--rm|\
--env -e|-h --hostname|-m --memory|-cpuset --cpuset --cpuset-cpus|-cpushare --cpushare --cpu-shares|--pids-limit|\
--cpus|--cgroup-parent|--rootfs|-v --volume|--tmpfs|-w --workdir|-u --user|--cap-add|--cap-drop|--device|\
--security-opt|--net --network";
const TTY: usize = 0;
const INTERACTIVE: usize = 1;
const TTY_INTERACTIVE: usize = 2;
const HELP_FLAG: usize = 3;
const ENV_CLEAR: usize = 4;
const READ_ONLY: usize = 5;
const PRIVILEGED: usize = 6;
const INIT: usize = 7;
// 8: docker's `--rm`: a mydocker container never outlives its run, so
// there is nothing to remove; accepted so docker's command lines work.
const TAKES: usize = 9;
const ENV: usize = 9;
const HOSTNAME: usize = 10;
const MEMORY: usize = 11;
const CPUSET: usize = 12;
const SHARES: usize = 13;
const PIDS: usize = 14;
const CPUS: usize = 15;
const CGROUP_PARENT: usize = 16;
const ROOTFS: usize = 17;
const VOLUME: usize = 18;
const TMPFS: usize = 19;
const WORKDIR: usize = 20;
const USER: usize = 21;
const CAP_ADD: usize = 22;
const CAP_DROP: usize = 23;
const DEVICE: usize = 24;
const SECURITY_OPT: usize = 25;

/// Parses the whole command line (args[0] is the program name).
pub fn parse<'a, A: Args + ?Sized>(args: &'a A) -> Result<Cmd<'a>, Usage<'a>> {
    let cmd = args.arg(1);
    match words::find(b"run gc -h --help help -v --version version", cmd) {
        Some(0) => parse_run(args),
        Some(1) => match (args.arg(2), args.count()) {
            (_, 2) => Ok(Cmd::Gc(None)),
            (f, 4) if f == b"--cgroup-parent" => Ok(Cmd::Gc(Some(args.arg(3)))),
            (a, _) => Err(top(b"gc", b"unknown argument", a, b"usage: mydocker gc [--cgroup-parent PATH]")),
        },
        Some(2..=4) => Ok(Cmd::Help),
        Some(_) => Ok(Cmd::Version),
        None if args.count() < 2 => Err(top(b"", b"missing command", b"", b"try 'mydocker --help'")),
        None => Err(top(b"", b"unknown command", cmd, b"try 'mydocker --help'")),
    }
}

/// Splits `--flag=value` and `-f=value` into (flag, Some(value)).
fn split_eq(a: &[u8]) -> (&[u8], Option<&[u8]>) {
    let at = if a.starts_with(b"--") { a.iter().position(|&c| c == b'=') } else { (a.get(2) == Some(&b'=')).then_some(2) };
    match at {
        Some(i) => (&a[..i], Some(&a[i + 1..])),
        None => (a, None),
    }
}

/// The flag `a` names: (index, name, inline value). docker's spellings
/// (its flag parser, pflag): `--flag=value`, `-f=value`, and a short
/// flag's value attached (`-m10m`, `-eFOO=bar`) when `a` is no flag as a
/// whole (`-ti`, `-cpuset` are).
fn flag_word(a: &[u8]) -> Option<(usize, &'static [u8], Option<&[u8]>)> {
    let (flag, inline) = split_eq(a);
    if let Some((f, name)) = words::group(FLAGS, flag) {
        return Some((f, name, inline));
    }
    let (short, rest) = (a.get(..2)?, a.get(2..)?);
    match words::group(FLAGS, short) {
        Some((f, name)) if f >= TAKES && !a.starts_with(b"--") => Some((f, name, Some(rest))),
        _ => None,
    }
}

/// A Run with nothing set.
#[inline(never)]
fn blank<'a>() -> Run<'a> {
    Run {
        hostname: None,
        items: [&[]; AT_END],
        nenv: 0,
        switches: 0,
        cmd: 0,
        limits: Limits::NONE,
        cgroup_parent: None,
        rootfs: None,
        nvol: 0,
        ntmpfs: 0,
        workdir: None,
        user: None,
        cap_add: 0,
        cap_drop: 0,
        no_new_privs: false,
        seccomp: crate::seccomp::Profile::Default,
        ndev: 0,
    }
}

#[inline(never)]
fn parse_run<'a, A: Args + ?Sized>(args: &'a A) -> Result<Cmd<'a>, Usage<'a>> {
    let mut r = blank();
    let mut i = 2;
    while i < args.count() {
        let a = args.arg(i);
        if a == b"--" {
            i += 1;
            break;
        }
        if a.first() != Some(&b'-') || a == b"-" {
            break;
        }
        let see = b"see 'mydocker run --help'";
        let Some((f, name, inline)) = flag_word(a) else {
            return Err(usage(b"unknown flag", a, see));
        };
        // Flags that take a value get it here, once: inline after '=' or
        // the next argument. The others may not have one.
        let v: &'a [u8] = match (f >= TAKES, inline) {
            (true, Some(v)) => v,
            (true, None) => {
                i += 1;
                if i >= args.count() {
                    return Err(usage(b"flag needs a value", a, see));
                }
                args.arg(i)
            }
            (false, None) => b"",
            // A switch takes `=BOOL`: strconv.ParseBool's words, as
            // docker's flag parser (pflag) reads them.
            (false, Some(x)) => match words::find(b"true 1 t T TRUE True false 0 f F FALSE False", x) {
                Some(0..=5) => b"",
                Some(_) => {
                    i += 1;
                    continue;
                }
                None => return Err(usage(name, x, b"not a boolean")),
            },
        };
        if f == HELP_FLAG {
            return Ok(Cmd::RunHelp);
        }
        set(&mut r, f, v).map_err(|why| usage(name, v, why))?;
        i += 1;
    }
    // The first flag used (in this order) that needs --rootfs.
    let needs: &[u8] = match (r.nvol > 0, r.ntmpfs > 0, r.read_only(), r.ndev > 0) {
        (true, ..) => b"--volume",
        (_, true, ..) => b"--tmpfs",
        (_, _, true, _) => b"--read-only",
        (.., true) => b"--device",
        _ => b"",
    };
    if r.rootfs.is_none() && !needs.is_empty() {
        return Err(usage(needs, b"", b"needs --rootfs"));
    }
    if i >= args.count() {
        if r.rootfs.is_some() {
            r.cmd = i;
            return Ok(Cmd::Run(r));
        }
        return Err(usage(b"missing command", b"", b"usage: mydocker run [OPTIONS] COMMAND [ARG...]"));
    }
    if args.arg(i).is_empty() {
        return Err(usage(b"command", b"", b"the command name is empty"));
    }
    r.cmd = i;
    Ok(Cmd::Run(r))
}

/// Applies flag `f` (an index into FLAGS) with its value `v`; the error is
/// why the value was refused (the caller names the flag).
// Not inlined: measured smaller as a call (issue 12, size).
#[inline(never)]
fn set<'a>(r: &mut Run<'a>, f: usize, v: &'a [u8]) -> Result<(), Why> {
    match f {
        // The switches (--rm sets a bit nobody reads).
        TTY_INTERACTIVE => r.switches |= 1 << TTY | 1 << INTERACTIVE,
        ..TAKES => r.switches |= 1 << f,
        ENV => {
            if v.first().map_or(true, |&c| c == b'=') {
                return Err(b"environment variable name is empty");
            }
            add(&mut r.items[..AT_VOLUMES], &mut r.nenv, v, b"too many -e flags (limit 256)")?;
        }
        HOSTNAME => {
            check_hostname(v)?;
            r.hostname = Some(v);
        }
        MEMORY => r.limits.memory = Some((limits::parse_memory(v)?, v)),
        CPUSET => r.limits.cpuset = Some((v, limits::parse_cpuset(v)?)),
        SHARES => r.limits.shares = Some(limits::parse_shares(v)?),
        // docker's -1: unlimited, which is no limit at all here.
        PIDS => r.limits.pids = if v == b"-1" { None } else { Some(limits::parse_pids(v)?) },
        CPUS => r.limits.cpus = Some(limits::parse_cpus(v)?),
        CGROUP_PARENT => {
            if v.is_empty() || v.split(words::on(b'/')).any(|c| c == b".." || c == b".") {
                return Err(b"must be a cgroup path without '.' or '..' components");
            }
            r.cgroup_parent = Some(v);
        }
        ROOTFS => {
            if v.is_empty() {
                return Err(b"the rootfs path is empty");
            }
            // "dir/" and "dir" alike: paths are joined onto it.
            let mut t = v;
            while t.len() > 1 && t.ends_with(b"/") {
                t = &t[..t.len() - 1];
            }
            r.rootfs = Some(t);
        }
        VOLUME => {
            mounts::parse_volume(v)?;
            add(&mut r.items[AT_VOLUMES..AT_TMPFS], &mut r.nvol, v, b"too many volumes (limit 32)")?;
        }
        TMPFS => {
            mounts::parse_tmpfs(v, &mut [])?;
            add(&mut r.items[AT_TMPFS..AT_DEVICES], &mut r.ntmpfs, v, b"too many tmpfs mounts (limit 16)")?;
        }
        WORKDIR => {
            mounts::check_inner_path(v)?;
            r.workdir = Some(v);
        }
        USER => r.user = Some(parse_user(v).ok_or(b"use numeric UID[:GID] below 4294967295" as Why)?),
        CAP_ADD | CAP_DROP => {
            let set = if f == CAP_ADD { &mut r.cap_add } else { &mut r.cap_drop };
            *set |= caps::parse(v).ok_or(b"unknown capability" as Why)?;
        }
        DEVICE => {
            crate::devices::parse_device(v)?;
            add(&mut r.items[AT_DEVICES..], &mut r.ndev, v, b"too many devices (limit 16)")?;
        }
        SECURITY_OPT => {
            // docker's spellings: KEY=VALUE, the older KEY:VALUE, and a
            // bare no-new-privileges meaning =true. No AppArmor profile
            // and no SELinux label is what mydocker applies anyway: docker
            // scripts' apparmor=unconfined and label=disable change nothing.
            let w = b"no-new-privileges no-new-privileges=true no-new-privileges:true \
apparmor=unconfined apparmor:unconfined label=disable label:disable";
            if let Some(n) = words::find(w, v) {
                r.no_new_privs |= n < 3;
                return Ok(());
            }
            r.seccomp = match v.strip_prefix(&b"seccomp="[..]).or_else(|| v.strip_prefix(&b"seccomp:"[..])) {
                Some(f) if f == b"unconfined" => crate::seccomp::Profile::Unconfined,
                Some(f) if !f.is_empty() => crate::seccomp::Profile::File(f),
                _ => return Err(b"supported: seccomp=unconfined, seccomp=FILE, no-new-privileges"),
            }
        }
        // --network: every container has a network namespace of its own
        // with only lo in it, which is docker's `none`.
        _ if v != b"none" => return Err(b"supported: none"),
        _ => {}
    }
    Ok(())
}

/// A hostname the kernel takes and resolvers accept: 1..=64 bytes of
/// letters, digits, '-' and '.', not starting with '-' or '.'.
fn check_hostname(h: &[u8]) -> Result<(), Why> {
    if h.is_empty() {
        return Err(b"hostname is empty");
    }
    if h.len() > HOST_NAME_MAX {
        return Err(b"hostname is longer than 64 bytes");
    }
    if !h.iter().all(|&c| c.is_ascii_alphanumeric() || c == b'-' || c == b'.') {
        return Err(b"hostname may hold only letters, digits, '-' and '.'");
    }
    if h[0] == b'-' || h[0] == b'.' {
        return Err(b"hostname must start with a letter or digit");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run<'a>(a: &'a [&'a [u8]]) -> Result<Run<'a>, Usage<'a>> {
        match parse(a)? {
            Cmd::Run(r) => Ok(r),
            other => panic!("not a run: {other:?}"),
        }
    }

    #[test]
    fn tty_and_interactive_in_every_spelling() {
        let cases: [(&[u8], bool, bool); 6] = [
            (b"-ti", true, true),
            (b"-it", true, true),
            (b"-t", true, false),
            (b"--tty", true, false),
            (b"-i", false, true),
            (b"--interactive", false, true),
        ];
        for (f, tty, interactive) in cases {
            let a: &[&[u8]] = &[b"mydocker", b"run", f, b"/bin/sh"];
            let r = run(a).unwrap();
            assert_eq!((r.cmd, r.tty(), r.interactive()), (3, tty, interactive), "{:?}", f);
        }
        let a: &[&[u8]] = &[b"mydocker", b"run", b"-t", b"-i", b"sh"];
        let r = run(a).unwrap();
        assert!(r.tty() && r.interactive());
        let a: &[&[u8]] = &[b"mydocker", b"run", b"sh"];
        let r = run(a).unwrap();
        assert!(!r.tty() && !r.interactive());
    }

    #[test]
    fn arguments_after_the_command_are_not_flags() {
        let a: &[&[u8]] = &[b"mydocker", b"run", b"sh", b"-c", b"--hostname", b"-e"];
        let r = run(a).unwrap();
        assert_eq!(r.cmd, 2);
        assert_eq!(r.nenv, 0);
    }

    #[test]
    fn dockers_spellings_of_values_switches_and_rm_are_taken() {
        // pflag's: `-f=v`, a short flag's value attached, `--switch=true|false`;
        // and docker's `--rm` and `-h` (hostname).
        let a: &[&[u8]] = &[
            b"mydocker", b"run", b"-m=10m", b"-eA=1", b"-e=B=2", b"-hbox", b"--rm", b"--init=true",
            b"--read-only=false", b"-w/tmp", b"sh",
        ];
        let r = run(a).unwrap();
        assert_eq!(r.limits.memory.map(|m| m.0), Some(10 << 20));
        assert_eq!(r.env_flags(), [&b"A=1"[..], b"B=2"]);
        assert_eq!(r.hostname, Some(&b"box"[..]));
        assert!(r.init() && !r.read_only());
        assert_eq!(r.workdir, Some(&b"/tmp"[..]));
        assert_eq!(r.cmd, 10);
        assert_eq!(run(&[b"mydocker", b"run", b"-m10m", b"sh"]).unwrap().limits.memory.map(|m| m.0), Some(10 << 20));
        // Whole words first: -ti and the book's -cpuset stay what they were.
        assert!(run(&[b"mydocker", b"run", b"-ti", b"sh"]).unwrap().tty());
        assert!(run(&[b"mydocker", b"run", b"-cpuset", b"0", b"sh"]).unwrap().limits.cpuset.is_some());
        for bad in [&b"-x"[..], b"-tX", b"--memory10m"] {
            let a = [&b"mydocker"[..], b"run", bad, b"sh"];
            let e = run(&a).err().unwrap();
            assert_eq!((e.what, e.arg), (&b"unknown flag"[..], bad), "{}", String::from_utf8_lossy(bad));
        }
    }

    #[test]
    fn a_switch_takes_every_boolean_pflag_takes_and_names_a_bad_one() {
        // strconv.ParseBool's words, pflag's (docker's) reading of --flag=BOOL.
        for (v, on) in [("true", true), ("1", true), ("t", true), ("T", true), ("TRUE", true), ("True", true)]
            .into_iter()
            .chain([("false", false), ("0", false), ("f", false), ("F", false), ("FALSE", false), ("False", false)])
        {
            for flag in ["--init", "--privileged", "-i"] {
                let a = format!("{flag}={v}");
                let argv: [&[u8]; 4] = [b"mydocker", b"run", a.as_bytes(), b"sh"];
                let r = run(&argv).unwrap();
                assert_eq!(r.init() || r.privileged() || r.interactive(), on, "{a}");
            }
        }
        for (bad, what, arg) in [("--init=yes", "--init", "yes"), ("--rm=", "--rm", ""), ("-t=on", "--tty", "on")] {
            let argv: [&[u8]; 4] = [b"mydocker", b"run", bad.as_bytes(), b"sh"];
            let e = run(&argv).err().unwrap();
            assert_eq!((e.what, e.arg, e.why), (what.as_bytes(), arg.as_bytes(), &b"not a boolean"[..]), "{bad}");
        }
    }

    #[test]
    fn dockers_network_none_and_no_new_privileges_are_taken_and_other_values_refused() {
        // (no_new_privs asked, or the refused value and why).
        let ok = |a: &[&[u8]]| -> Result<bool, (Vec<u8>, &[u8])> {
            let a = [&[&b"mydocker"[..], b"run"][..], a, &[b"sh"]].concat();
            run(&a).map(|r| r.no_new_privs).map_err(|e| (e.arg.to_vec(), e.why))
        };
        for a in [&[&b"--network"[..], b"none"][..], &[b"--net", b"none"], &[b"--net=none"], &[b"--network=none"]] {
            assert_eq!(ok(a).unwrap(), false);
        }
        // no-new-privileges leaves an earlier seccomp= as it was.
        let a: &[&[u8]] = &[b"mydocker", b"run", b"--security-opt=seccomp=unconfined", b"--security-opt=no-new-privileges", b"sh"];
        assert!(matches!(run(a).unwrap().seccomp, crate::seccomp::Profile::Unconfined));
        for v in [&b"no-new-privileges"[..], b"no-new-privileges:true", b"no-new-privileges=true"] {
            assert_eq!(ok(&[b"--security-opt", v]).unwrap(), true);
        }
        // docker's AppArmor and SELinux opt-outs: what mydocker does anyway.
        for v in [&b"apparmor=unconfined"[..], b"apparmor:unconfined", b"label=disable", b"label:disable"] {
            let a: &[&[u8]] = &[b"mydocker", b"run", b"--security-opt", v, b"sh"];
            let r = run(a).unwrap();
            assert!(!r.no_new_privs && matches!(r.seccomp, crate::seccomp::Profile::Default), "{}", String::from_utf8_lossy(v));
        }
        for (a, v, why) in [
            (&b"--network"[..], &b"host"[..], &b"supported: none"[..]),
            (b"--net", b"bridge", b"supported: none"),
            (b"--network", b"", b"supported: none"),
            (b"--security-opt", b"no-new-privileges=false", b"supported: seccomp=unconfined, seccomp=FILE, no-new-privileges"),
            (b"--security-opt", b"no-new-privileges:", b"supported: seccomp=unconfined, seccomp=FILE, no-new-privileges"),
        ] {
            assert_eq!(ok(&[a, v]), Err((v.to_vec(), why)), "{}", String::from_utf8_lossy(v));
        }
    }

    #[test]
    fn double_dash_ends_options() {
        let a: &[&[u8]] = &[b"mydocker", b"run", b"-t", b"--", b"-weird", b"x"];
        assert_eq!(run(a).unwrap().cmd, 4);
    }

    #[test]
    fn env_and_hostname_in_both_spellings() {
        let a: &[&[u8]] = &[
            b"mydocker",
            b"run",
            b"-e",
            b"FOO=bar",
            b"--env=HOME",
            b"--env",
            b"A=",
            b"--hostname=box",
            b"--env-clear",
            b"env",
        ];
        let r = run(a).unwrap();
        assert_eq!(r.env_flags(), &[&b"FOO=bar"[..], b"HOME", b"A="]);
        assert_eq!(r.hostname, Some(&b"box"[..]));
        assert!(r.env_clear());
        assert_eq!(r.cmd, 9);
    }

    fn err(a: &[&[u8]]) -> (Vec<u8>, Vec<u8>) {
        let e = parse(a).unwrap_err();
        (e.what.to_vec(), e.why.to_vec())
    }

    #[test]
    fn bad_input_is_a_usage_error() {
        let long = [b'a'; 65];
        let cases: &[&[&[u8]]] = &[
            &[b"mydocker"],
            &[b"mydocker", b"frobnicate"],
            &[b"mydocker", b"run"],
            &[b"mydocker", b"run", b"-t"],
            &[b"mydocker", b"run", b"--bogus", b"sh"],
            &[b"mydocker", b"run", b"-e"],
            &[b"mydocker", b"run", b"-e", b"=x", b"sh"],
            &[b"mydocker", b"run", b"-e", b"", b"sh"],
            &[b"mydocker", b"run", b"--hostname", &long, b"sh"],
            &[b"mydocker", b"run", b"--hostname", b"a b", b"sh"],
            &[b"mydocker", b"run", b"--hostname", b"", b"sh"],
            &[b"mydocker", b"run", b"--hostname", b"-x", b"sh"],
            &[b"mydocker", b"run", b""],
            &[b"mydocker", b"run", b"--tty=yes", b"sh"],
        ];
        for c in cases {
            assert!(parse(*c).is_err(), "accepted {c:?}");
        }
        assert_eq!(err(&[b"mydocker", b"run", b"--bogus", b"sh"]).0, b"unknown flag");
        assert_eq!(err(&[b"mydocker", b"run", b"-e"]).0, b"flag needs a value");
    }

    #[test]
    fn a_hostname_error_names_the_rule_it_breaks() {
        let why = |h: &[u8]| run(&[b"mydocker", b"run", b"--hostname", h, b"sh"]).err().map(|u| u.why);
        for h in [&b"-a"[..], b".a", b"-", b"."] {
            assert_eq!(why(h), Some(&b"hostname must start with a letter or digit"[..]));
        }
        for h in [&b"a b"[..], b"-a_"] {
            assert_eq!(why(h), Some(&b"hostname may hold only letters, digits, '-' and '.'"[..]));
        }
        assert_eq!(why(b"a-1.b"), None);
    }

    #[test]
    fn a_64_byte_hostname_is_the_limit() {
        let h = [b'h'; 64];
        let a: &[&[u8]] = &[b"mydocker", b"run", b"--hostname", &h, b"sh"];
        assert_eq!(run(a).unwrap().hostname.unwrap().len(), 64);
    }

    #[test]
    fn too_many_env_flags_is_an_error_not_a_crash() {
        let mut a: Vec<&[u8]> = vec![b"mydocker", b"run"];
        for _ in 0..=MAX_ENV_FLAGS {
            a.push(b"-e");
            a.push(b"A=1");
        }
        a.push(b"true");
        assert_eq!(parse(&a[..]).unwrap_err().why, b"too many -e flags (limit 256)");
    }

    #[test]
    fn limits_in_the_originals_and_dockers_spelling() {
        let a: &[&[u8]] = &[b"m", b"run", b"-ti", b"-m", b"100m", b"-cpuset", b"1", b"-cpushare", b"512", b"/bin/sh"];
        let r = run(a).unwrap();
        assert_eq!(r.limits.memory, Some((100 << 20, &b"100m"[..])));
        assert_eq!(r.limits.cpuset.unwrap().0, b"1");
        assert_eq!(r.limits.shares, Some(512));
        let a: &[&[u8]] = &[
            b"m",
            b"run",
            b"--memory",
            b"64m",
            b"--cpuset-cpus",
            b"0-1",
            b"--cpu-shares",
            b"256",
            b"--pids-limit",
            b"20",
            b"--cpus=0.5",
            b"--cgroup-parent",
            b"/a/b",
            b"sh",
        ];
        let r = run(a).unwrap();
        assert_eq!(r.limits.memory.unwrap().0, 64 << 20);
        assert_eq!(r.limits.cpuset.unwrap().1.count(), 2);
        assert_eq!((r.limits.shares, r.limits.pids, r.limits.cpus), (Some(256), Some(20), Some(500)));
        assert_eq!(r.cgroup_parent, Some(&b"/a/b"[..]));
        assert!(r.limits.any());
        // docker's --pids-limit -1 (unlimited): no limit, also over an
        // earlier one; -m in docker's units.
        let a: &[&[u8]] = &[b"m", b"run", b"--pids-limit", b"5", b"--pids-limit", b"-1", b"-m", b"512mb", b"sh"];
        let r = run(a).unwrap();
        assert_eq!((r.limits.pids, r.limits.memory.map(|m| m.0)), (None, Some(512 << 20)));
    }

    #[test]
    fn bad_limits_are_usage_errors() {
        let bad: &[&[&[u8]]] = &[
            &[b"-m", b"0"],
            &[b"-m", b"-1"],
            &[b"-m", b"10x"],
            &[b"-m", b"1.5"],
            &[b"-m", b"99999999999g"],
            &[b"-cpuset", b"1-"],
            &[b"-cpuset", b"a"],
            &[b"-cpuset", b"3-1"],
            &[b"-cpuset", b"0,,1"],
            &[b"-cpushare", b"1"],
            &[b"-cpushare", b"262145"],
            &[b"--pids-limit", b"0"],
            &[b"--pids-limit", b"-3"],
            &[b"--cpus", b"0"],
            &[b"--cgroup-parent", b"../x"],
            &[b"--cgroup-parent", b""],
        ];
        for flags in bad {
            let mut a: Vec<&[u8]> = vec![b"m", b"run"];
            a.extend_from_slice(flags);
            a.push(b"sh");
            assert!(parse(&a[..]).is_err(), "accepted {:?}", flags);
        }
    }

    #[test]
    fn help_and_version() {
        assert_eq!(parse(&[&b"m"[..], b"--help"][..]).unwrap(), Cmd::Help);
        assert_eq!(parse(&[&b"m"[..], b"--version"][..]).unwrap(), Cmd::Version);
        assert_eq!(parse(&[&b"m"[..], b"run", b"--help"][..]).unwrap(), Cmd::RunHelp);
    }
}
