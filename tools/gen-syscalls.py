#!/usr/bin/python3
"""Generates src/seccomp/tables.rs: syscall names and numbers for the five
architectures mydocker filters, and docker's default seccomp profile in a
compact form.

Sources (Debian 12 packages, installed by tools/seccomp-prereq.sh):
  x86_64, i386, x32  linux-libc-dev:             /usr/include/x86_64-linux-gnu/asm/unistd_{64,32,x32}.h
  aarch64            linux-libc-dev-arm64-cross: /usr/aarch64-linux-gnu/include/asm/unistd.h
                     (asm-generic/unistd.h with arm64's __ARCH_WANT_* choices, through cpp)
  arm (EABI)         linux-libc-dev-armhf-cross: /usr/arm-linux-gnueabihf/include/asm/unistd.h
                     (unistd-eabi.h, plus the ARM-private __ARM_NR_* calls)
  default profile    golang-github-containers-common: /usr/share/containers/seccomp.json
                     (podman's default), turned into docker's by the edits in DOCKER_* below.

Layout of the output (see src/seccomp/tables.rs):
  NAMES     every name, sorted, front-coded; RESTARTS: offsets of every 16th
  NR_<ARCH> a 10-bit number per name index, packed little-endian (ABSENT = not
            on that arch), only for the architectures the build's host runs.
            ARM-private numbers 0xf0000+k are stored as ARM_PRIVATE|k; x32 as
            exceptions to x86_64 (without the 0x40000000 bit).
  DEFAULT_ALLOW  docker's unconditional allow list, a bit per name index.
  DEFAULT   docker's other rules as one byte stream: per rule a 7-byte head
            (name count, action, errno, capability kept/dropped, hosts,
            condition count), u16 name indices, 10 bytes per condition
            (argument, operator, u32 value and second value; docker's fit).

Run: tools/gen-syscalls.py > src/seccomp/tables.rs
"""
import json
import re
import subprocess
import sys

ARCHES = ["x86_64", "x86", "x32", "aarch64", "arm"]
ABSENT = 0x3FF
NOCAP = 0xFF
RESTART = 16
ARM_PRIVATE = 0x3F0


def cpp_defines(include_dir, header, extra=()):
    out = subprocess.run(
        ["cpp", "-dM", "-nostdinc", "-I", include_dir, *extra, "-"],
        input=f"#include <{header}>\n", capture_output=True, text=True, check=True,
    ).stdout
    defs = {}
    for line in out.splitlines():
        m = re.match(r"#define (\w+) (.*)$", line)
        if m:
            defs[m.group(1)] = m.group(2).strip()
    return defs


def evaluate(defs, expr, depth=0):
    if depth > 20:
        raise ValueError(expr)
    expr = re.sub(r"\b(__\w+)\b", lambda m: "(" + str(evaluate(defs, defs[m.group(1)], depth + 1)) + ")", expr)
    if not re.fullmatch(r"[0-9a-fA-FxX+() ]+", expr):
        raise ValueError(expr)
    return eval(expr)  # digits, hex, + and parentheses only (checked above)


# Macros with the prefix that are not syscalls.
SKIP = {"__NR_syscalls", "__NR_SYSCALL_MASK", "__NR_OABI_SYSCALL_BASE", "__NR_SYSCALL_BASE"}


def table(defs, prefix="__NR_"):
    t = {}
    for k, v in defs.items():
        if k.startswith(prefix) and not k.startswith("__NR3264") and k not in SKIP:
            try:
                t[k[len(prefix):]] = evaluate(defs, v)
            except (ValueError, KeyError):
                pass
    return t


# Calls newer than Debian 12's headers (6.1) that docker's profile allows. Since
# Linux 5.1 a new syscall gets the same number on every architecture (the
# kernel's scripts/syscall.tbl and arch/x86/entry/syscalls/syscall_{32,64}.tbl);
# uretprobe (6.11) exists on x86_64 only. A number that means nothing on some
# architecture is harmless to allow: the kernel answers ENOSYS.
NEWER = {"cachestat": 451, "fchmodat2": 452, "map_shadow_stack": 453, "futex_wake": 454, "futex_wait": 455,
         "futex_requeue": 456, "statmount": 457, "listmount": 458, "lsm_get_self_attr": 459,
         "lsm_set_self_attr": 460, "lsm_list_modules": 461, "mseal": 462, "setxattrat": 463,
         "getxattrat": 464, "listxattrat": 465, "removexattrat": 466}


def tables():
    inc = "/usr/include/x86_64-linux-gnu"
    x86_64 = table(cpp_defines("/usr/include", "asm/unistd_64.h", ["-I", inc]))
    x86 = table(cpp_defines("/usr/include", "asm/unistd_32.h", ["-I", inc]))
    x32defs = cpp_defines("/usr/include", "asm/unistd_x32.h", ["-I", inc])
    x32defs.setdefault("__X32_SYSCALL_BIT", "0x40000000")  # defined by asm/unistd.h
    x32 = {k: v & ~0x40000000 for k, v in table(x32defs).items()}
    aarch64 = table(cpp_defines("/usr/aarch64-linux-gnu/include", "asm/unistd.h"))
    armdefs = cpp_defines("/usr/arm-linux-gnueabihf/include", "asm/unistd.h", ["-D__ARM_EABI__"])
    arm = table(armdefs)
    for k, v in table(armdefs, "__ARM_NR_").items():
        if k == "BASE":
            continue
        assert v - 0xF0000 < 0xF, (k, v)
        arm[k] = ARM_PRIVATE | (v - 0xF0000)
    for t in (x86_64, x86, x32, aarch64, arm):
        for k, v in NEWER.items():
            assert t.setdefault(k, v) == v, k
    x86_64.setdefault("uretprobe", 335)
    for t in (x86_64, x86, x32, aarch64, arm):
        # src/seccomp/bpf.rs buckets numbers below 1024 (and ARM's private 16).
        # (and the 10-bit tables keep 0x3f0 and up for ARM_PRIVATE and ABSENT).
        assert t and all(0 <= v < ARM_PRIVATE or (v & ~0xF == ARM_PRIVATE and v != ABSENT) for v in t.values())
    return dict(zip(ARCHES, (x86_64, x86, x32, aarch64, arm)))


# docker's default profile (moby profiles/seccomp/default.json), derived from
# podman's (/usr/share/containers/seccomp.json): its unconditional allow list
# minus what podman allows and docker does not, plus what docker allows and
# podman (containers-common 0.50) does not yet know; then docker's own
# conditional and capability-dependent rules.
DOCKER_DROP = """clone clone3 fsconfig fsmount fsopen fspick get_mempolicy keyctl mbind mount
mount_setattr move_mount open_tree pidfd_getfd pivot_root process_vm_readv process_vm_writev ptrace
readdir reboot set_mempolicy setns sigaction signal sigpending sigsuspend syscall syslog timerfd
umount umount2 unshare""".split()
DOCKER_ADD = """cachestat fchmodat2 futex_requeue futex_wait futex_waitv futex_wake getxattrat
io_pgetevents io_pgetevents_time64 listmount listxattrat map_shadow_stack mseal removexattrat
riscv_hwprobe setxattrat statmount uretprobe vmsplice""".split()
CLONE_NS = 2114060288  # CLONE_NEWNS|NEWCGROUP|NEWUTS|NEWIPC|NEWUSER|NEWPID|NEWNET
DOCKER_RULES = [
    # names, action, errnoRet, args [(index, value, valueTwo, op)], includes caps, excludes caps, includes arches
    (["process_vm_readv", "process_vm_writev", "ptrace"], "ALLOW", 0, [], [], [], []),  # minKernel 4.8
    (["socket"], "ALLOW", 0, [(0, 38, 0, "LT")], [], [], []),  # refuses AF_ALG (38) and AF_VSOCK (40)
    (["socket"], "ALLOW", 0, [(0, 39, 0, "EQ")], [], [], []),
    (["socket"], "ALLOW", 0, [(0, 40, 0, "GT")], [], [], []),
    (["personality"], "ALLOW", 0, [(0, 0, 0, "EQ")], [], [], []),
    (["personality"], "ALLOW", 0, [(0, 8, 0, "EQ")], [], [], []),
    (["personality"], "ALLOW", 0, [(0, 131072, 0, "EQ")], [], [], []),
    (["personality"], "ALLOW", 0, [(0, 131080, 0, "EQ")], [], [], []),
    (["personality"], "ALLOW", 0, [(0, 4294967295, 0, "EQ")], [], [], []),
    (["arm_fadvise64_64", "arm_sync_file_range", "sync_file_range2", "breakpoint", "cacheflush", "set_tls"],
     "ALLOW", 0, [], [], [], ["arm", "arm64"]),
    (["arch_prctl"], "ALLOW", 0, [], [], [], ["amd64", "x32"]),
    (["modify_ldt"], "ALLOW", 0, [], [], [], ["amd64", "x32", "x86"]),
    (["open_by_handle_at"], "ALLOW", 0, [], ["DAC_READ_SEARCH"], [], []),
    ("""bpf clone clone3 fanotify_init fsconfig fsmount fsopen fspick lookup_dcookie lsm_get_self_attr
     lsm_list_modules lsm_set_self_attr mount mount_setattr
     move_mount open_tree perf_event_open quotactl quotactl_fd setdomainname sethostname setns syslog
     umount umount2 unshare""".split(), "ALLOW", 0, [], ["SYS_ADMIN"], [], []),
    (["clone"], "ALLOW", 0, [(0, CLONE_NS, 0, "MASKED_EQ")], [], ["SYS_ADMIN"], []),
    (["clone3"], "ERRNO", 38, [], [], ["SYS_ADMIN"], []),
    (["reboot"], "ALLOW", 0, [], ["SYS_BOOT"], [], []),
    (["chroot"], "ALLOW", 0, [], ["SYS_CHROOT"], [], []),
    (["delete_module", "init_module", "finit_module"], "ALLOW", 0, [], ["SYS_MODULE"], [], []),
    (["acct"], "ALLOW", 0, [], ["SYS_PACCT"], [], []),
    (["kcmp", "pidfd_getfd", "process_madvise", "process_vm_readv", "process_vm_writev", "ptrace"],
     "ALLOW", 0, [], ["SYS_PTRACE"], [], []),
    (["iopl", "ioperm"], "ALLOW", 0, [], ["SYS_RAWIO"], [], []),
    (["settimeofday", "stime", "clock_settime", "clock_settime64"], "ALLOW", 0, [], ["SYS_TIME"], [], []),
    (["vhangup"], "ALLOW", 0, [], ["SYS_TTY_CONFIG"], [], []),
    (["get_mempolicy", "mbind", "set_mempolicy", "set_mempolicy_home_node"], "ALLOW", 0, [], ["SYS_NICE"], [], []),
    (["syslog"], "ALLOW", 0, [], ["SYSLOG"], [], []),
    (["bpf"], "ALLOW", 0, [], ["BPF"], [], []),
    (["perf_event_open"], "ALLOW", 0, [], ["PERFMON"], [], []),
]
CAPS = """CHOWN DAC_OVERRIDE DAC_READ_SEARCH FOWNER FSETID KILL SETGID SETUID SETPCAP LINUX_IMMUTABLE
NET_BIND_SERVICE NET_BROADCAST NET_ADMIN NET_RAW IPC_LOCK IPC_OWNER SYS_MODULE SYS_RAWIO SYS_CHROOT
SYS_PTRACE SYS_PACCT SYS_ADMIN SYS_BOOT SYS_NICE SYS_RESOURCE SYS_TIME SYS_TTY_CONFIG MKNOD LEASE
AUDIT_WRITE AUDIT_CONTROL SETFCAP MAC_OVERRIDE MAC_ADMIN SYSLOG WAKE_ALARM BLOCK_SUSPEND AUDIT_READ
PERFMON BPF CHECKPOINT_RESTORE""".split()
HOST_ARCH_BITS = {"amd64": 1, "arm64": 2}  # the Go arch names docker matches on the host


def docker_profile():
    podman = json.load(open("/usr/share/containers/seccomp.json"))
    plain = set()
    for c in podman["syscalls"]:
        if c["action"] == "SCMP_ACT_ALLOW" and not c.get("args") and not c.get("includes") and not c.get("excludes"):
            plain |= set(c["names"])
    missing = set(DOCKER_DROP) - plain
    assert not missing, f"podman's profile changed: {missing}"
    allow = sorted((plain - set(DOCKER_DROP)) | set(DOCKER_ADD))
    return [(allow, "ALLOW", 0, [], [], [], [])] + DOCKER_RULES


def main():
    t = tables()
    profile = docker_profile()
    names = sorted(set().union(*t.values()))
    index = {n: i for i, n in enumerate(names)}
    # Names front-coded: per name one byte, 0x80 | the bytes it shares with
    # the previous name, then the rest of it (names are ASCII: the next
    # byte with the high bit starts the next name); every RESTART-th name
    # is whole, and RESTARTS holds their offsets for the binary search.
    blob, restarts, prev = bytearray(), [], b""
    for i, n in enumerate(names):
        n = n.encode()
        k = 0
        if i % RESTART == 0:
            restarts.append(len(blob))
        else:
            while k < min(len(n) - 1, len(prev), 127) and n[k] == prev[k]:
                k += 1
        assert max(n) < 0x80
        blob += bytes([0x80 | k]) + n[k:]
        prev = n
    x32_except = [(i, t["x32"].get(n, ABSENT)) for i, n in enumerate(names) if t["x32"].get(n, ABSENT) != t["x86_64"].get(n, ABSENT)]
    w = sys.stdout.write
    w("// @generated by tools/gen-syscalls.py from Debian 12's linux-libc-dev (6.1),\n")
    w("// linux-libc-dev-arm64-cross, linux-libc-dev-armhf-cross and golang-github-containers-common.\n")
    w("// Do not edit: change the script and run it again.\n")
    w("\n")
    w(f"pub const N: usize = {len(names)};\n")
    w(f"pub const ABSENT: u16 = {ABSENT:#x};\n")
    w(f"pub const ARM_PRIVATE: u16 = {ARM_PRIVATE:#x};\n")
    w(f"pub const RESTART: usize = {RESTART};\n")
    w("/// Every name, sorted and front-coded: [0x80 | shared with the previous][rest].\n")
    w('pub static NAMES: &[u8] = b"' + "".join(chr(c) if 32 <= c < 127 and c not in (34, 92) else f"\\x{c:02x}" for c in blob) + '";\n')
    w(f"/// Offsets in NAMES of names 0, RESTART, 2*RESTART, ... (stored whole).\n")
    w(f"pub static RESTARTS: [u16; {len(restarts)}] = {restarts};\n")
    w("/// Numbers per name index, 10 bits each, packed little-endian (see\n")
    w("/// bpf::number), for the architectures this build can run (x32: the\n")
    w("/// x86_64 number unless listed in X32_EXCEPT).\n")
    for a, cfg in (("x86_64", 'any(test, fuzzing, target_arch = "x86_64")'), ("x86", 'any(test, fuzzing, target_arch = "x86_64")'),
                   ("aarch64", 'any(test, fuzzing, not(target_arch = "x86_64"))'), ("arm", 'any(test, fuzzing, not(target_arch = "x86_64"))')):
        bits = 0
        for i, n in enumerate(names):
            bits |= t[a].get(n, ABSENT) << (10 * i)
        packed = bits.to_bytes((10 * len(names) + 7) // 8, "little")
        w(f"#[cfg({cfg})]\n")
        w(f"pub static NR_{a.upper()}: [u8; {len(packed)}] = [" + ", ".join(str(b) for b in packed) + "];\n")
    w(f'#[cfg(any(test, fuzzing, target_arch = "x86_64"))]\n')
    w(f"pub static X32_EXCEPT: [(u16, u16); {len(x32_except)}] = {x32_except};\n\n")
    # docker's rules as one byte stream (decoded by profile::next_builtin):
    # [names, act, act data, cap kept (NOCAP: none), cap dropped, hosts, args]
    # then the name indices (u16), then per argument [index, op, value as a
    # u32, valueTwo as a u32], little-endian.
    # The unconditional allow list (the first rule) as a bitmap.
    allow, rest = profile[0], profile[1:]
    assert allow[1:] == ("ALLOW", 0, [], [], [], [])
    bitmap = bytearray((len(names) + 7) // 8)
    for n in allow[0]:
        if n in index:
            bitmap[index[n] // 8] |= 1 << (index[n] % 8)
    w("/// docker's unconditional allow list: bit i%8 of byte i/8 for name i.\n")
    w(f"pub static DEFAULT_ALLOW: [u8; {len(bitmap)}] = {list(bitmap)};\n")
    acts = {"ALLOW": 0, "ERRNO": 1}
    ops = ["NE", "LT", "LE", "EQ", "GE", "GT", "MASKED_EQ"]
    data = bytearray()
    for names_, act, errno, args, inc, exc, arches in rest:
        hosts = 0
        for a in arches:
            hosts |= HOST_ARCH_BITS.get(a, 0)
        if arches and not hosts:
            continue
        assert len(inc) <= 1 and len(exc) <= 1
        idx = [index[n] for n in sorted(set(names_)) if n in index]
        assert len(idx) < 256 and errno < 256
        data += bytes([len(idx), acts[act], errno, CAPS.index(inc[0]) if inc else NOCAP, CAPS.index(exc[0]) if exc else NOCAP,
                       hosts, len(args)])
        for i in idx:
            data += i.to_bytes(2, "little")
        for i, v, v2, op in args:
            data += bytes([i, ops.index(op)]) + v.to_bytes(4, "little") + v2.to_bytes(4, "little")
    w(f"pub const NOCAP: u8 = {NOCAP:#x};\n")
    w("/// docker's default profile's other rules (default action ERRNO(EPERM),\n")
    w("/// every arch of the host), one after another: see profile::next_builtin.\n")
    w(f"pub static DEFAULT: [u8; {len(data)}] = {list(data)};\n")


if __name__ == "__main__":
    main()
