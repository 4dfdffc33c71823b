#!/usr/bin/python3
"""make e2e: podman and containerd drive an OCI runtime end to end.

Every case runs with each runtime named on the command line; the first one is
the reference (runc). A case passes for a runtime when its own expectations
hold AND what it observed equals what the reference observed (exit statuses,
output, namespaces shared or not, limits seen inside...). Everything lives
under BUILD/e2e: podman's storage (vfs) and state, a private containerd
(own root, state, socket; started and stopped here), the image. Every cgroup
podman or containerd makes goes under a cgroup of our own, below the caller's
cgroup, and is removed at the end; nothing is left running.

Output is cargo test's shape ("test NAME ... ok", "test result: ...") so
tests/summary.sh counts it; a case that cannot run prints "SKIP NAME: why".

usage: run.py --build DIR --rootfs DIR [--mydocker BIN] [--only REGEX] RUNTIME...
  RUNTIME: runc, crun, mydocker, or NAME=/abs/path
"""
import argparse
import contextlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time

IMG = "localhost/e2e-bb:latest"
NS = "e2e"  # containerd namespace
HANG = 120  # seconds after which one command counts as hung (not a timed assert)


class Fail(Exception):
    pass


class Res:
    def __init__(self, argv, rc, out, err):
        self.argv, self.rc, self.out, self.err = argv, rc, out, err

    def show(self):
        cmd = " ".join(quote(a) for a in self.argv)
        return f"$ {cmd}\n  rc={self.rc}\n  stdout={self.out[-600:]!r}\n  stderr={self.err[-600:]!r}"


def quote(a):
    return a if re.fullmatch(r"[\w@%+=:,./-]+", a) else "'" + a.replace("'", "'\\''") + "'"


class Log:
    """Commands of the current case, shown when it fails."""

    def __init__(self):
        self.items = []

    def add(self, r):
        self.items.append(r)


LOG = Log()
# Every command runs here: conmon writes files (an "oom" marker) into its
# working directory.
CWD = None


def run(argv, env=None, timeout=HANG, stdin=subprocess.DEVNULL):
    """Runs argv, returns Res; a hang kills its process group and fails the case."""
    try:
        p = subprocess.Popen(argv, stdin=stdin, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             env=env, start_new_session=True, cwd=CWD)
    except OSError as e:
        r = Res(argv, -1, "", str(e))
        LOG.add(r)
        return r
    try:
        out, err = p.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(p.pid, signal.SIGKILL)
        out, err = p.communicate()
        r = Res(argv, -1, out.decode(errors="replace"), err.decode(errors="replace"))
        LOG.add(r)
        raise Fail(f"hung for {timeout} s: {argv[:6]}")
    r = Res(argv, p.returncode, out.decode(errors="replace"), err.decode(errors="replace"))
    LOG.add(r)
    return r


def expect(cond, what):
    if not cond:
        raise Fail(what)


def wait_until(pred, what, limit=30.0):
    """Polls pred (a hang guard, not a timed assert: the limit only ends a wait
    that would otherwise never end)."""
    end = time.monotonic() + limit
    while time.monotonic() < end:
        v = pred()
        if v:
            return v
        time.sleep(0.05)
    raise Fail(f"never happened: {what}")


def lines(s):
    """Terminal output normalised: no CR, no NUL, no empty lines."""
    # ctr -t echoes the NUL script(1) reads from /dev/null as "^@".
    s = s.replace("\r", "").replace("\0", "").replace("^@", "")
    return [l for l in s.split("\n") if l.strip()]


# ---- cgroups ----------------------------------------------------------------

def cgroup_mounts():
    """Mount points of every cgroup and cgroup2 hierarchy whose root is '/'."""
    out = []
    with open("/proc/self/mountinfo") as f:
        for line in f:
            a, b = line.split(" - ", 1)
            fields = a.split()
            fstype = b.split()[0]
            if fstype in ("cgroup", "cgroup2") and fields[3] == "/":
                out.append(fields[4].replace("\\040", " "))
    return out


def own_cgroup():
    """The caller's cgroup: the memory controller's on v1/hybrid hosts, the
    unified one on pure v2 hosts. On v2 a cgroup holding processes cannot get
    children with controllers (no-internal-processes rule): then '/'."""
    v2 = None
    with open("/proc/self/cgroup") as f:
        for line in f:
            hid, ctrl, path = line.rstrip("\n").split(":", 2)
            if "memory" in ctrl.split(","):
                return path
            if hid == "0":
                v2 = path
    if v2 and v2 != "/":
        try:
            with open(f"/sys/fs/cgroup{v2}/cgroup.procs") as f:
                if f.read().strip():
                    return "/"
        except OSError:
            return "/"
    return v2 or "/"


def cg_dirs(rel):
    """Every existing directory below rel in every hierarchy, deepest first."""
    found = []
    for mp in cgroup_mounts():
        top = mp + rel
        if not os.path.isdir(top):
            continue
        for d, subs, _ in os.walk(top, topdown=False):
            found.append(d)
    return found


def cg_procs(rel):
    pids = set()
    for d in cg_dirs(rel):
        try:
            with open(os.path.join(d, "cgroup.procs")) as f:
                pids.update(int(x) for x in f.read().split())
        except OSError:
            pass
    return pids


def cg_remove(rel):
    """Removes rel and everything below it in every hierarchy; returns what
    could not be removed."""
    left = []
    for d in cg_dirs(rel):
        for _ in range(50):
            try:
                os.rmdir(d)
                break
            except FileNotFoundError:
                break
            except OSError:
                time.sleep(0.02)
        else:
            left.append(d)
    return left


# ---- environment --------------------------------------------------------------

class Runtime:
    def __init__(self, name, path, cg):
        self.name, self.path, self.cg = name, path, cg


class Env:
    def __init__(self, build, rootfs):
        self.work = os.path.join(os.path.abspath(build), "e2e")
        self.rootfs = os.path.abspath(rootfs)
        self.base_cg = own_cgroup().rstrip("/") + f"/mydocker-e2e-{os.getpid()}"
        self.ctd = None
        pd = os.path.join(self.work, "podman")
        self.podman_env = dict(os.environ, CONTAINERS_CONF=f"{pd}/containers.conf",
                               CONTAINERS_STORAGE_CONF=f"{pd}/storage.conf",
                               CONTAINERS_REGISTRIES_CONF=f"{pd}/registries.conf")
        self.podman_base = ["podman", "--root", f"{pd}/root", "--runroot", f"{pd}/run",
                            "--tmpdir", f"{pd}/tmp", "--storage-driver", "vfs",
                            "--cgroup-manager", "cgroupfs", "--events-backend", "file"]
        cd = os.path.join(self.work, "containerd")
        self.sock = f"{cd}/c.sock"
        if len(self.sock) > 100:  # sun_path holds 108 bytes
            self.sock = f"/run/mydocker-e2e-{os.getpid()}.sock"
        self.ctr_base = ["ctr", "-a", self.sock, "-n", NS]
        # Host paths the clients create on first use; removed at the end if
        # this run made them.
        self.host_paths = [p for p in ("/var/lib/containers", "/run/containerd", "/run/crun",
                                       "/run/runc", "/run/mydocker")
                           if not os.path.exists(p)]

    # podman with one runtime; every container under that runtime's cgroup.
    def podman(self, rt, *args, timeout=HANG):
        return run(self.podman_base + ["--runtime", rt.path] + list(args),
                   env=self.podman_env, timeout=timeout)

    def ctr(self, *args, timeout=HANG):
        return run(self.ctr_base + list(args), timeout=timeout)

    def ctr_run_flags(self, rt, cid):
        return ["--snapshotter", "native", "--runc-binary", rt.path,
                "--runc-root", f"{self.work}/containerd/runc-root/{rt.name}",
                "--fifo-dir", f"{self.work}/containerd/fifo", "--cgroup", f"{rt.cg}/{cid}"]

    def setup(self):
        shutil.rmtree(self.work, ignore_errors=True)
        pd = os.path.join(self.work, "podman")
        for d in ("root", "run", "tmp"):
            os.makedirs(f"{pd}/{d}")
        ulimits = '["nofile=1024:1024", "nproc=1024:1024"]'
        with open(f"{pd}/containers.conf", "w") as f:
            # default_ulimits: podman's 1048576 cannot be set where the caller
            # lacks CAP_SYS_RESOURCE (runc and crun refuse too).
            # log_driver: k8s-file, not journald (no journal needed).
            f.write(f'[containers]\ndefault_ulimits = {ulimits}\nnetns = "none"\nlog_driver = "k8s-file"\n'
                    f'[engine]\ncgroup_manager = "cgroupfs"\nevents_logger = "file"\n'
                    f'events_logfile_path = "{pd}/events.log"\ntmp_dir = "{pd}/tmp"\n')
        with open(f"{pd}/storage.conf", "w") as f:
            f.write(f'[storage]\ndriver = "vfs"\ngraphroot = "{pd}/root"\nrunroot = "{pd}/run"\n')
        with open(f"{pd}/registries.conf", "w") as f:
            f.write("unqualified-search-registries = []\n")
        # crun 1.8 refuses hybrid hosts (cgroup2 at /sys/fs/cgroup/unified holds
        # controllers): run it in a private mount namespace with an empty tmpfs
        # there, so it sees plain v1. A no-op on pure v1 and pure v2 hosts.
        os.makedirs(f"{self.work}/bin")
        with open(f"{self.work}/bin/crun", "w") as f:
            f.write('#!/bin/sh\nif mountpoint -q /sys/fs/cgroup/unified; then\n'
                    '  exec unshare -m --propagation private sh -c \'mount -t tmpfs -o size=4k none '
                    '/sys/fs/cgroup/unified && exec /usr/bin/crun "$@"\' crun "$@"\nfi\n'
                    'exec /usr/bin/crun "$@"\n')
        os.chmod(f"{self.work}/bin/crun", 0o755)
        global CWD
        CWD = self.work
        self.start_containerd()

    def make_image(self, rt):
        """podman import of the busybox rootfs; an OCI archive of it into containerd."""
        tar = f"{self.work}/bb.tar"
        r = run(["tar", "-C", self.rootfs, "-cf", tar, "."])
        expect(r.rc == 0, "tar of the rootfs")
        r = self.podman(rt, "import", tar, IMG)
        expect(r.rc == 0, "podman import")
        oci = f"{self.work}/bb-oci.tar"
        r = self.podman(rt, "save", "--format", "oci-archive", "-o", oci, IMG)
        expect(r.rc == 0, "podman save")
        r = self.ctr("images", "import", "--snapshotter", "native", oci)
        expect(r.rc == 0, "ctr images import")

    def start_containerd(self):
        cd = os.path.join(self.work, "containerd")
        os.makedirs(f"{cd}/fifo")
        with open(f"{cd}/config.toml", "w") as f:
            # No CRI plugin: no CNI, no image pulls, a fast start.
            f.write(f'version = 2\nroot = "{cd}/root"\nstate = "{cd}/state"\n'
                    f'disabled_plugins = ["io.containerd.grpc.v1.cri"]\n'
                    f'[grpc]\n  address = "{self.sock}"\n[ttrpc]\n  address = "{self.sock}.ttrpc"\n'
                    f'[debug]\n  address = ""\n[metrics]\n  address = ""\n')
        log = open(f"{cd}/containerd.log", "w")
        self.ctd = subprocess.Popen(["containerd", "--config", f"{cd}/config.toml"],
                                    stdin=subprocess.DEVNULL, stdout=log, stderr=log,
                                    start_new_session=True, cwd=self.work)
        wait_until(lambda: self.ctd.poll() is not None or
                   (os.path.exists(self.sock) and self.ctr("version").rc == 0),
                   "containerd answers")
        expect(self.ctd.poll() is None, f"containerd exited, see {cd}/containerd.log")

    def stop_containerd(self):
        if not self.ctd:
            return
        self.ctd.send_signal(signal.SIGTERM)
        try:
            self.ctd.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.ctd.kill()
            self.ctd.wait()
        # Shims outlive containerd: any of ours (they name our socket) still
        # there means a task was not deleted; end it, by pid.
        for pid in shims_of(self.sock):
            print(f"e2e: containerd shim {pid} left running; killed")
            os.kill(pid, signal.SIGKILL)
        for p in (self.sock, self.sock + ".ttrpc"):
            if os.path.exists(p):
                os.unlink(p)

    def teardown(self):
        self.stop_containerd()
        left = cg_remove(self.base_cg)
        for d in left:
            print(f"e2e: cgroup left behind: {d}")
        for m in mounts_under(self.work):
            subprocess.call(["umount", "-l", m])
        for p in self.host_paths:
            shutil.rmtree(p, ignore_errors=True)
        return left


def shims_of(sock):
    pids = []
    for p in os.listdir("/proc"):
        if not p.isdigit():
            continue
        try:
            with open(f"/proc/{p}/cmdline", "rb") as f:
                argv = f.read().split(b"\0")
        except OSError:
            continue
        if argv and argv[0].endswith(b"containerd-shim-runc-v2") and sock.encode() in argv:
            pids.append(int(p))
    return pids


def mounts_under(path):
    out = []
    with open("/proc/self/mountinfo") as f:
        for line in f:
            mp = line.split()[4]
            if mp == path or mp.startswith(path + "/"):
                out.append(mp)
    return sorted(out, reverse=True)


# ---- the cases ----------------------------------------------------------------
# Each takes (env, rt), returns a JSON-able observation, raises Fail when one of
# its own expectations does not hold.

CASES = []


def case(name):
    def reg(f):
        CASES.append((name, f))
        return f
    return reg


def cid(rt, what):
    return f"e2e-{rt.name}-{what}"


def prun(env, rt, *args, timeout=HANG):
    """podman run, network none, in this runtime's cgroup."""
    return env.podman(rt, "run", "--network", "none", "--cgroup-parent", rt.cg, *args,
                      timeout=timeout)


@case("podman::run_rm_pid_is_1")
def _(env, rt):
    r = prun(env, rt, "--rm", IMG, "sh", "-c", "echo $$")
    expect(r.rc == 0 and r.out == "1\n", f"want rc 0 and '1', got rc {r.rc} {r.out!r}")
    return {"rc": r.rc, "out": r.out}


def exit_case(status, argv, says=None):
    """podman's exit status; for 126 and 127 podman derives it from the
    runtime's error text, so the text must name the cause (runc's words)."""
    def f(env, rt):
        r = prun(env, rt, "--rm", IMG, *argv)
        expect(r.rc == status, f"want exit status {status}, got {r.rc}")
        if says:
            expect(says in r.err.lower(), f"want the error to say {says!r}: {r.err.strip()[-300:]!r}")
        return {"rc": r.rc, "says": says}
    return f


case("podman::exit_status_0")(exit_case(0, ["true"]))
case("podman::exit_status_3")(exit_case(3, ["sh", "-c", "exit 3"]))
case("podman::exit_status_126_not_executable")(exit_case(126, ["/etc/passwd"], "permission denied"))
case("podman::exit_status_127_not_found")(exit_case(127, ["/no/such/command"], "not found"))


def pinspect(env, rt, name, fmt):
    r = env.podman(rt, "inspect", "--format", fmt, name)
    expect(r.rc == 0, f"podman inspect {name}")
    return r.out.strip()


def gone(env, rt, name):
    r = env.podman(rt, "ps", "-a", "-q", "--filter", f"name=^{name}$")
    return r.rc == 0 and r.out.strip() == ""


LOOP = "while :; do sleep 0.1; done"


@contextlib.contextmanager
def detached(env, rt, what, *args, script=LOOP):
    """podman run -d of a shell running `script`; yields its name, removes
    it (rm -f) on every path. `args`: run flags."""
    n = cid(rt, what)
    try:
        r = prun(env, rt, "-d", "--name", n, *args, IMG, "sh", "-c", script)
        expect(r.rc == 0, "podman run -d")
        yield n
    finally:
        env.podman(rt, "rm", "-f", "-t", "0", n)


@case("podman::run_d_exec_stop_term_rm")
def _(env, rt):
    # PID 1 exits 7 on TERM: stop's first signal arrives.
    with detached(env, rt, "stop-term", script="trap 'exit 7' TERM; " + LOOP) as n:
        # The exec'd process: the container's PID namespace, and its
        # seccomp filter (podman's default profile) too.
        e = env.podman(rt, "exec", n, "sh", "-c",
                       "cat /proc/1/comm; [ $(readlink /proc/1/ns/pid) = $(readlink /proc/self/ns/pid) ]"
                       " && echo same-pid-ns; [ $$ != 1 ] && echo not-pid-1; grep '^Seccomp:' /proc/self/status;"
                       " exit 5")
        expect(e.rc == 5, f"podman exec: want exit status 5, got {e.rc}")
        expect(e.out == "sh\nsame-pid-ns\nnot-pid-1\nSeccomp:\t2\n", f"podman exec output {e.out!r}")
        s = env.podman(rt, "stop", "-t", "30", n)
        expect(s.rc == 0, "podman stop")
        code = pinspect(env, rt, n, "{{.State.ExitCode}}")
        expect(code == "7", f"want exit code 7 (TERM handled), got {code}")
        rm = env.podman(rt, "rm", n)
        expect(rm.rc == 0 and gone(env, rt, n), "podman rm")
    return {"exec_rc": e.rc, "exec_out": e.out, "exit_code": code}


@case("podman::exec_failures_keep_podmans_126_and_127")
def _(env, rt):
    # runc's exec exits 255 when the process cannot run; podman reads the
    # cause from the runtime's words and reports docker's 126 / 127.
    got = {}
    with detached(env, rt, "exec-fail") as n:
        for status, argv, says in ((127, ["/no/such/command"], "not found"),
                                   (126, ["/etc/passwd"], "permission denied")):
            e = env.podman(rt, "exec", n, *argv)
            expect(e.rc == status, f"podman exec {argv[0]}: want exit status {status}, got {e.rc}: {e.err.strip()[-300:]!r}")
            expect(says in e.err.lower(), f"want the error to say {says!r}: {e.err.strip()[-300:]!r}")
            got[argv[0]] = e.rc
    return got


@case("podman::read_only_and_tmpfs_mounts_copy_up")
def _(env, rt):
    # podman puts tmpcopyup on every --tmpfs / --mount type=tmpfs and on
    # the /tmp, /var/tmp and /run tmpfs mounts of --read-only: the tmpfs
    # starts with what the image had there (runc's and crun's extension).
    ro = prun(env, rt, "--rm", "--read-only", IMG, "sh", "-c",
              "touch /x 2>/dev/null && echo root-rw || echo root-ro; touch /tmp/t && echo tmp-rw")
    got = [ro.rc, lines(ro.out)]
    for flags in (["--tmpfs", "/etc"], ["--mount", "type=tmpfs,dst=/etc"]):
        r = prun(env, rt, "--rm", *flags, IMG, "sh", "-c",
                 "grep -c '^root:' /etc/passwd; echo x > /etc/new && echo etc-rw;"
                 " grep ' /etc ' /proc/self/mountinfo | sed 's/.* - //' | cut -d' ' -f1")
        expect(r.rc == 0, f"{flags}: rc {r.rc}: {r.err.strip()[-300:]!r}")
        got += [r.rc, lines(r.out)]
    expect(got == [0, ["root-ro", "tmp-rw"]] + [0, ["1", "etc-rw", "tmpfs"]] * 2,
           f"want the image's /etc/passwd in a writable tmpfs, a read-only root: got {got}: {ro.err.strip()[-300:]!r}")
    return got


def links_image(env, rt):
    """The busybox image plus the symlinks distribution images ship:
    /var/run -> /run (Debian, Fedora, Alpine), merged /usr's /lib ->
    usr/lib; imported on first use."""
    img = "localhost/e2e-bb-links:latest"
    if not getattr(env, "links_img", False):
        import io
        import tarfile
        tar = f"{env.work}/bb-links.tar"
        r = run(["tar", "-C", env.rootfs, "-cf", tar, "."])
        expect(r.rc == 0, "tar of the rootfs")
        with tarfile.open(tar, "a") as t:
            for name, to in (("run", None), ("usr", None), ("usr/lib", None), ("var", None),
                             ("var/run", "/run"), ("lib", "usr/lib")):
                i = tarfile.TarInfo(f"./{name}")
                i.type, i.mode = (tarfile.SYMTYPE, 0o777) if to else (tarfile.DIRTYPE, 0o755)
                i.linkname = to or ""
                t.addfile(i)
        r = env.podman(rt, "import", tar, img)
        expect(r.rc == 0, "podman import")
        env.links_img = True
    return img


@case("podman::volumes_below_image_symlinks")
def _(env, rt):
    # Kubernetes' service account and podman -v onto /var/run/... or
    # /lib/...: the destination resolved inside the rootfs (runc's
    # securejoin, crun's openat2 RESOLVE_IN_ROOT), the mount at /run/...
    src = f"{env.work}/links-src"
    os.makedirs(src, exist_ok=True)
    with open(f"{src}/token", "w") as f:
        f.write("tok\n")
    r = prun(env, rt, "--rm", "-v", f"{src}:/var/run/secrets/kubernetes.io/serviceaccount:ro",
             "-v", f"{src}:/lib/modules:ro", links_image(env, rt), "sh", "-c",
             "cat /run/secrets/kubernetes.io/serviceaccount/token /usr/lib/modules/token")
    expect(r.rc == 0 and r.out == "tok\ntok\n", f"want the volumes at /run/... and /usr/lib/...: rc {r.rc} "
           f"{r.out!r} {r.err.strip()[-300:]!r}")
    return {"rc": r.rc, "out": r.out}


@case("podman::run_privileged_gets_every_host_device")
def _(env, rt):
    # --privileged: podman lists every host /dev node in linux.devices
    # (100+ on an ordinary host): no fixed mount-table limit may refuse it.
    import stat
    host = sum(1 for e in os.scandir("/dev")
               if stat.S_ISCHR(e.stat(follow_symlinks=False).st_mode) or stat.S_ISBLK(e.stat(follow_symlinks=False).st_mode))
    r = prun(env, rt, "--rm", "--privileged", IMG, "sh", "-c",
             "[ -c /dev/kmsg ] && echo kmsg; find /dev -type c -o -type b | wc -l")
    expect(r.rc == 0, f"podman run --privileged: rc {r.rc}: {r.err.strip()[-300:]!r}")
    lines = r.out.split()
    expect(lines[:1] == ["kmsg"] and int(lines[1]) >= min(host, 100),
           f"want the host's device nodes bound ({host} on the host): {r.out!r}")
    return {"rc": r.rc, "kmsg": lines[:1] == ["kmsg"]}


@case("podman::stop_kills_after_timeout")
def _(env, rt):
    # A shell as PID 1 without a TERM trap ignores TERM: stop escalates to KILL.
    with detached(env, rt, "stop-kill") as n:
        s = env.podman(rt, "stop", "-t", "1", n)
        expect(s.rc == 0, "podman stop -t 1")
        code = pinspect(env, rt, n, "{{.State.ExitCode}}")
        expect(code == "137", f"want exit code 137 (KILL), got {code}")
        rm = env.podman(rt, "rm", n)
        expect(rm.rc == 0 and gone(env, rt, n), "podman rm")
    return {"exit_code": code}


def script_argv(argv):
    """argv under script(1): a terminal on the client's side."""
    return ["script", "-qec", " ".join(quote(a) for a in argv), "/dev/null"]


TTY_SH = "tty; [ -t 0 ] && [ -t 1 ] && echo isatty; exit 5"


def tty_seen(r, first=True):
    """TTY_SH's result under script(1): exit 5 and a terminal of the
    container's devpts (/dev/pts/0 for its first process). ctr may log that
    it could not resize a finished process's terminal (a client race, with
    runc too): not the container's output."""
    got = [l for l in lines(r.out) if "resize pty" not in l]
    expect(r.rc == 5, f"want exit status 5, got {r.rc}")
    pts = got[:1] == ["/dev/pts/0"] if first else got[:1] != [] and got[0].startswith("/dev/pts/")
    expect(pts and got[1:] == ["isatty"], f"want a /dev/pts terminal and isatty, got {got}")
    return {"rc": r.rc, "out": got}


@case("podman::run_t_console_socket")
def _(env, rt):
    argv = env.podman_base + ["--runtime", rt.path, "run", "--rm", "-t", "--network", "none",
                              "--cgroup-parent", rt.cg, IMG, "sh", "-c", TTY_SH]
    return tty_seen(run(script_argv(argv), env=env.podman_env))


@case("podman::exec_t_console_socket")
def _(env, rt):
    with detached(env, rt, "exec-t") as n:
        argv = env.podman_base + ["--runtime", rt.path, "exec", "-t", n, "sh", "-c", TTY_SH]
        e = run(script_argv(argv), env=env.podman_env)
    return tty_seen(e, first=False)


def host_memory_limit(pid):
    """The memory limit of process pid's cgroup, read on the host side."""
    with open(f"/proc/{pid}/cgroup") as f:
        rows = [l.rstrip("\n").split(":", 2) for l in f]
    for hid, ctrl, path in rows:
        if "memory" in ctrl.split(","):
            for mp in cgroup_mounts():
                if os.path.exists(f"{mp}{path}/memory.limit_in_bytes"):
                    return open(f"{mp}{path}/memory.limit_in_bytes").read().strip()
    for hid, ctrl, path in rows:
        if hid == "0":
            for mp in cgroup_mounts():
                if os.path.exists(f"{mp}{path}/memory.max"):
                    return open(f"{mp}{path}/memory.max").read().strip()
    return None


@case("podman::pause_unpause")
def _(env, rt):
    with detached(env, rt, "pause") as n:
        expect(env.podman(rt, "pause", n).rc == 0, "podman pause")
        paused = pinspect(env, rt, n, "{{.State.Status}}")
        expect(env.podman(rt, "unpause", n).rc == 0, "podman unpause")
        running = pinspect(env, rt, n, "{{.State.Status}}")
    expect((paused, running) == ("paused", "running"), f"want paused then running, got {paused}, {running}")
    return {"paused": paused, "running": running}


@case("podman::update_memory")
def _(env, rt):
    with detached(env, rt, "update", "-m", "64m") as n:
        pid = pinspect(env, rt, n, "{{.State.Pid}}")
        before = host_memory_limit(pid)
        u = env.podman(rt, "update", "-m", "32m", n)
        expect(u.rc == 0, "podman update -m 32m")
        after = host_memory_limit(pid)
    expect((before, after) == ("67108864", "33554432"), f"want 64 MiB then 32 MiB, got {before}, {after}")
    return {"before": before, "after": after}


@case("podman::container_is_in_its_cgroup_in_every_v1_hierarchy")
def _(env, rt):
    """runc makes and joins cgroupsPath in every hierarchy mounted, those
    without a limit too (cpuacct, blkio, name=systemd): podman stats,
    cadvisor and CRI stats read the container's own cpuacct there. The v1
    ones (crun sees no hybrid cgroup2 here); on a pure v2 host, cgroup2."""
    with detached(env, rt, "allcg") as n:
        pid = pinspect(env, rt, n, "{{.State.Pid}}")
        full = pinspect(env, rt, n, "{{.Id}}")
        with open(f"/proc/{pid}/cgroup") as f:
            rows = [l.rstrip("\n").split(":", 2) for l in f]
    v1 = [r for r in rows if r[0] != "0"] or rows
    outside = [f"{c}:{p}" for _, c, p in v1 if full not in p]
    expect(not outside, f"not in the container's cgroup: {outside}")
    return {"hierarchies": len(v1), "outside": outside}


MEMCAT = ("cat /sys/fs/cgroup/memory/memory.limit_in_bytes 2>/dev/null"
          " || cat /sys/fs/cgroup/memory.max")


@case("podman::memory_limit_seen_inside")
def _(env, rt):
    r = prun(env, rt, "--rm", "-m", "32m", IMG, "sh", "-c", MEMCAT)
    expect(r.rc == 0 and r.out == "33554432\n", f"want 33554432, got rc {r.rc} {r.out!r}")
    return {"rc": r.rc, "out": r.out}


@case("podman::memory_oom_kill")
def _(env, rt):
    n = cid(rt, "oom")
    # 128 MiB read into one buffer under a 32 MiB limit (64 MiB with swap).
    r = prun(env, rt, "--name", n, "-m", "32m", IMG, "dd", "if=/dev/zero", "of=/dev/null",
             "bs=128M", "count=1")
    try:
        expect(r.rc == 137, f"want exit status 137, got {r.rc}")
        st = pinspect(env, rt, n, "{{.State.ExitCode}} {{.State.OOMKilled}}")
    finally:
        env.podman(rt, "rm", "-f", "-t", "0", n)
    return {"rc": r.rc, "state": st}


PIDS_SH = ("cat /sys/fs/cgroup/pids/pids.max 2>/dev/null || cat /sys/fs/cgroup/pids.max;"
           " (for i in $(seq 20); do sleep 5 & echo $i; done) >/tmp/n 2>/dev/null; tail -n 1 /tmp/n")


@case("podman::pids_limit")
def _(env, rt):
    # 10 tasks: this shell, the subshell, and 8 sleeps; the 9th fork fails.
    r = prun(env, rt, "--rm", "--pids-limit", "10", IMG, "sh", "-c", PIDS_SH)
    expect(r.rc == 0 and r.out == "10\n8\n", f"want '10' then 8 forks, got rc {r.rc} {r.out!r}")
    return {"rc": r.rc, "out": r.out}


NS_SH = "for n in net ipc uts pid; do readlink /proc/self/ns/$n; done"


@case("podman::pod_shares_namespaces")
def _(env, rt):
    pod = cid(rt, "pod")
    try:
        r = env.podman(rt, "pod", "create", "--name", pod, "--network", "none",
                       "--cgroup-parent", rt.cg)
        expect(r.rc == 0, "podman pod create")
        a = env.podman(rt, "run", "-d", "--pod", pod, "--name", pod + "-a", IMG, "sh", "-c",
                       "while :; do sleep 0.1; done")
        expect(a.rc == 0, "podman run -d --pod")
        b = env.podman(rt, "run", "--rm", "--pod", pod, IMG, "sh", "-c", NS_SH)
        expect(b.rc == 0, "podman run --rm --pod")
        e = env.podman(rt, "exec", pod + "-a", "sh", "-c", NS_SH)
        expect(e.rc == 0, "podman exec in the pod")
        infra = pinspect(env, rt, pod + "-a", "{{.Pod}}")
        ipid = env.podman(rt, "pod", "inspect", "--format", "{{.InfraContainerID}}", pod).out.strip()
        ipid = pinspect(env, rt, ipid, "{{.State.Pid}}")
        host = [os.readlink(f"/proc/{ipid}/ns/{n}") for n in ("net", "ipc", "uts", "pid")]
        bl, el = b.out.split(), e.out.split()
        obs = {k: [bl[i] == host[i], el[i] == host[i]] for i, k in enumerate(("net", "ipc", "uts", "pid"))}
        expect(all(obs[k] == [True, True] for k in ("net", "ipc", "uts")),
               f"net, ipc, uts shared with the infra container: {obs}")
        expect(obs["pid"] == [False, False], f"pid ns private: {obs}")
        expect(infra != "", "container in the pod")
    finally:
        rm = env.podman(rt, "pod", "rm", "-f", "-t", "0", pod)
    expect(rm.rc == 0, "podman pod rm -f")
    return obs


SECCOMP_SH = "grep '^Seccomp:' /proc/self/status; linux64 -R true 2>/dev/null; echo rc=$?"


@case("podman::default_seccomp_profile_enforced")
def _(env, rt):
    # personality(ADDR_NO_RANDOMIZE) is not among the values podman's default
    # profile allows; unconfined it works: the control shows the probe can fail.
    r = prun(env, rt, "--rm", IMG, "sh", "-c", SECCOMP_SH)
    u = prun(env, rt, "--rm", "--security-opt", "seccomp=unconfined", IMG, "sh", "-c", SECCOMP_SH)
    got = [lines(r.out), lines(u.out)]
    expect(got[0] == ["Seccomp:\t2", "rc=1"], f"filtered: want mode 2 and rc=1, got {got[0]}")
    expect(got[1] == ["Seccomp:\t0", "rc=0"], f"unconfined: want mode 0 and rc=0, got {got[1]}")
    return got


# containerd ---------------------------------------------------------------------

def crun_(env, rt, name, *rest, flags=()):
    """ctr run RT IMG ID ..., in this runtime's cgroup."""
    return env.ctr("run", *env.ctr_run_flags(rt, name), *flags, IMG, name, *rest)


def task_status(env, name):
    r = env.ctr("task", "ls")
    for l in r.out.splitlines()[1:]:
        f = l.split()
        if f and f[0] == name:
            return f[1], f[2]
    return None, None


def ctr_cleanup(env, name):
    """Task and container gone; returns ctr task rm's stderr (it names a non-zero exit)."""
    st, _ = task_status(env, name)
    err = ""
    if st is not None:
        r = env.ctr("task", "rm", "-f", name)
        err = r.err
    env.ctr("containers", "rm", name)
    return err


@case("containerd::run_rm_pid_is_1")
def _(env, rt):
    n = cid(rt, "c-pid1")
    r = crun_(env, rt, n, "sh", "-c", "echo $$", flags=["--rm"])
    expect(r.rc == 0 and r.out == "1\n", f"want rc 0 and '1', got rc {r.rc} {r.out!r}")
    return {"rc": r.rc, "out": r.out}


@case("containerd::run_rm_exit_status_3")
def _(env, rt):
    n = cid(rt, "c-exit3")
    r = crun_(env, rt, n, "sh", "-c", "exit 3", flags=["--rm"])
    expect(r.rc == 3, f"want exit status 3, got {r.rc}")
    return {"rc": r.rc}


LONG_SH = "trap 'exit 7' TERM; sleep 1000 & wait"


def ctr_long(env, rt, n):
    r = crun_(env, rt, n, "sh", "-c", LONG_SH, flags=["-d"])
    expect(r.rc == 0, "ctr run -d")
    pid, st = wait_until(lambda: (lambda t: t if t[1] == "RUNNING" else None)(task_status(env, n)),
                         "task RUNNING")
    return int(pid)


@case("containerd::task_exec")
def _(env, rt):
    n = cid(rt, "c-exec")
    try:
        ctr_long(env, rt, n)
        e = env.ctr("task", "exec", "--exec-id", "x1", n, "sh", "-c",
                    "[ $(readlink /proc/1/ns/pid) = $(readlink /proc/self/ns/pid) ] && echo same-pid-ns;"
                    " cat /proc/1/comm; exit 4")
        expect(e.rc == 4, f"want exit status 4, got {e.rc}")
        expect(e.out == "same-pid-ns\nsh\n", f"exec output {e.out!r}")
    finally:
        ctr_cleanup(env, n)
    return {"rc": e.rc, "out": e.out}


@case("containerd::task_ps")
def _(env, rt):
    n = cid(rt, "c-ps")
    try:
        pid = ctr_long(env, rt, n)
        # The sleep is started before wait: poll until both are listed.
        def two():
            r = env.ctr("task", "ps", n)
            pids = [int(l.split()[0]) for l in r.out.splitlines()[1:] if l.strip()]
            return pids if r.rc == 0 and len(pids) == 2 else None
        pids = wait_until(two, "ctr task ps lists sh and sleep")
        expect(pid in pids, f"init pid {pid} in {pids}")
    finally:
        ctr_cleanup(env, n)
    return {"count": len(pids), "init_listed": pid in pids}


@case("containerd::task_kill_term_and_kill")
def _(env, rt):
    obs = {}
    for sig, want in (("SIGTERM", "7"), ("SIGKILL", "137")):
        n = cid(rt, "c-kill-" + sig.lower())
        try:
            ctr_long(env, rt, n)
            k = env.ctr("task", "kill", "-s", sig, n)
            expect(k.rc == 0, f"ctr task kill -s {sig}")
            wait_until(lambda: task_status(env, n)[1] == "STOPPED", "task STOPPED")
        finally:
            err = ctr_cleanup(env, n)
        m = re.search(r"exit code (\d+)", err)
        code = m.group(1) if m else None
        expect(code == want, f"{sig}: want exit code {want}, got {code}")
        obs[sig] = code
    return obs


@case("containerd::run_t_console_socket")
def _(env, rt):
    n = cid(rt, "c-tty")
    argv = env.ctr_base + ["run", *env.ctr_run_flags(rt, n), "--rm", "-t", IMG, n, "sh", "-c", TTY_SH]
    try:
        r = run(script_argv(argv))
    finally:
        ctr_cleanup(env, n)
    return tty_seen(r)


@case("containerd::task_exec_t_console_socket")
def _(env, rt):
    n = cid(rt, "c-exec-t")
    try:
        ctr_long(env, rt, n)
        argv = env.ctr_base + ["task", "exec", "-t", "--exec-id", "t1", n, "sh", "-c", TTY_SH]
        e = run(script_argv(argv))
    finally:
        ctr_cleanup(env, n)
    return tty_seen(e, first=False)


@case("containerd::task_pause_resume")
def _(env, rt):
    n = cid(rt, "c-pause")
    try:
        ctr_long(env, rt, n)
        expect(env.ctr("task", "pause", n).rc == 0, "ctr task pause")
        paused = task_status(env, n)[1]
        expect(env.ctr("task", "resume", n).rc == 0, "ctr task resume")
        running = task_status(env, n)[1]
    finally:
        ctr_cleanup(env, n)
    expect((paused, running) == ("PAUSED", "RUNNING"), f"want PAUSED then RUNNING, got {paused}, {running}")
    return {"paused": paused, "running": running}


@case("containerd::cri_pod_shape_with_ns")
def _(env, rt):
    """Kubernetes' CRI shape: a pause-like container, then an app container
    joining its network, IPC and UTS namespaces by path; the pause container
    outlives the app."""
    p, a = cid(rt, "c-pause"), cid(rt, "c-app")
    try:
        pid = ctr_long(env, rt, p)
        host = [os.readlink(f"/proc/{pid}/ns/{x}") for x in ("net", "ipc", "uts", "pid")]
        ns = [f"network:/proc/{pid}/ns/net", f"ipc:/proc/{pid}/ns/ipc", f"uts:/proc/{pid}/ns/uts"]
        flags = ["--rm"] + [x for v in ns for x in ("--with-ns", v)]
        r = crun_(env, rt, a, "sh", "-c", NS_SH, flags=flags)
        expect(r.rc == 0, f"app container: rc {r.rc}")
        got = r.out.split()
        obs = {k: got[i] == host[i] if i < len(got) else None
               for i, k in enumerate(("net", "ipc", "uts", "pid"))}
        expect(obs == {"net": True, "ipc": True, "uts": True, "pid": False},
               f"net, ipc, uts joined, pid private: {obs}")
        st = task_status(env, p)
        obs["pause_after_app"] = st[1]
        expect(st == (str(pid), "RUNNING"), f"pause container still running: {st}")
    finally:
        ctr_cleanup(env, a)
        ctr_cleanup(env, p)
    return obs


def nothing_left(env, rt):
    """After this runtime's cases: no container known to podman or containerd,
    no process in our cgroups, no mount under the work dir; the cgroup
    directories left (podman leaves some of its own) match the reference's."""
    left = {"podman containers": env.podman(rt, "ps", "-a", "-q").out.split(),
            "podman pods": env.podman(rt, "pod", "ps", "-q").out.split(),
            "containerd tasks": env.ctr("task", "ls", "-q").out.split(),
            "containerd containers": env.ctr("containers", "ls", "-q").out.split()}
    if any(left.values()):
        # Removed now (a failed case leaves them), so the next runtime starts clean.
        env.podman(rt, "pod", "rm", "-af", "-t", "0")
        env.podman(rt, "rm", "-af", "-t", "0")
        for t in left["containerd tasks"]:
            env.ctr("task", "rm", "-f", t)
        for c in left["containerd containers"]:
            env.ctr("containers", "rm", c)
    expect(not any(left.values()), f"left behind: {left}")
    procs = cg_procs(rt.cg)
    for pid in procs:  # in our own cgroups: ours to end
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    if procs:
        wait_until(lambda: not cg_procs(rt.cg), "leftover processes gone")
    expect(not procs, f"processes left in our cgroups: {sorted(procs)}")
    m = mounts_under(env.work)
    expect(not m, f"mounts left: {m}")
    # A container's own cgroup (podman: libpod-<id>, ours for ctr: e2e-*)
    # must be gone; what podman keeps for itself (conmon, a pod's parent)
    # is its business, and removed below with the rest.
    mine = sorted({d.split(rt.cg, 1)[1] for d in cg_dirs(rt.cg)
                   if re.match(r"(libpod-[0-9a-f]{64}|e2e-.*)$", os.path.basename(d))})
    left = cg_remove(rt.cg)
    expect(not mine, f"container cgroups left behind: {mine}")
    expect(not left, f"cgroups that cannot be removed: {left}")
    return {"container_cgroups_left": mine}


# ---- main -----------------------------------------------------------------------

def resolve(spec, env, mydocker):
    if "=" in spec:
        name, path = spec.split("=", 1)
    elif spec == "crun":
        name, path = "crun", f"{env.work}/bin/crun"
    elif spec == "mydocker":
        name, path = "mydocker", mydocker
    else:
        name, path = spec, shutil.which(spec) or spec
    return Runtime(name, os.path.abspath(path) if path else path, f"{env.base_cg}/{name}")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", required=True)
    ap.add_argument("--rootfs", required=True)
    ap.add_argument("--mydocker")
    ap.add_argument("--only", default="")
    ap.add_argument("runtimes", nargs="+")
    a = ap.parse_args()
    if os.geteuid() != 0:
        print("SKIP e2e: not root")
        print("test result: ok. 1 passed; 0 failed; 0 ignored; 0 measured; 0 filtered out")
        return 0
    env = Env(a.build, a.rootfs)
    rts = [resolve(s, env, a.mydocker) for s in a.runtimes]
    passed = failed = 0
    ref = {}
    t0 = time.monotonic()
    print(f"e2e: work {env.work}, cgroups under {env.base_cg}, runtimes "
          + ", ".join(f"{r.name}={r.path}" for r in rts) + f" (reference: {rts[0].name})")
    try:
        env.setup()
        env.make_image(rts[0])
    except Fail as e:
        print(f"test e2e::setup ... FAILED\n    {e}")
        for r in LOG.items[-3:]:
            print("    " + r.show().replace("\n", "\n    "))
        env.teardown()
        print("test result: FAILED. 0 passed; 1 failed; 0 ignored; 0 measured; 0 filtered out")
        return 1
    cases = CASES + [("nothing_left", nothing_left)]
    for rt in rts:
        missing = not rt.path or not os.access(rt.path, os.X_OK)
        for name, f in cases:
            full = f"e2e::{rt.name}::{name}"
            if a.only and not re.search(a.only, full):
                continue
            if missing:
                print(f"test {full} ... FAILED\n    runtime {rt.path!r} is not an executable")
                failed += 1
                continue
            LOG.items = []
            t = time.monotonic()
            try:
                obs = f(env, rt)
                why = None
                if rt is not rts[0] and name in ref and ref[name] != obs:
                    why = f"differs from {rts[0].name}: want {ref[name]}, got {obs}"
                elif rt is rts[0]:
                    ref[name] = obs
            except Fail as e:
                why = str(e)
            dt = time.monotonic() - t
            if why is None:
                print(f"test {full} ... ok ({dt:.1f} s)")
                passed += 1
            else:
                print(f"test {full} ... FAILED ({dt:.1f} s)\n    {why}")
                for r in LOG.items[-4:]:
                    print("    " + r.show().replace("\n", "\n    "))
                failed += 1
            sys.stdout.flush()
    left = env.teardown()
    if left:
        failed += 1
    verdict = "ok" if failed == 0 else "FAILED"
    print(f"e2e: {time.monotonic() - t0:.0f} s")
    print(f"test result: {verdict}. {passed} passed; {failed} failed; 0 ignored; 0 measured; 0 filtered out")
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
