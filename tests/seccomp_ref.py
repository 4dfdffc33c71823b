#!/usr/bin/python3
"""The reference for src/seccomp's proof by difference: libseccomp (Debian's
python3-seccomp), fed a docker/OCI JSON profile the way moby and runc feed it.

  seccomp_ref.py resolve NAMES_FILE           -> "arch name nr" for every name libseccomp knows
  seccomp_ref.py compile PROFILE HOST CAPS OUT -> libseccomp's BPF for the profile in OUT

HOST is x86_64 or aarch64 (the filter's native arch; the other is removed),
CAPS the kept capabilities, comma-separated (CAP_ prefix optional).
moby: includes/excludes caps (all kept / none kept) and arches (the host's Go
name), archMap's entry for the host. runc: names libseccomp does not know are
skipped; args repeating an index become one rule each; errnoRet defaults to
EPERM for ERRNO and TRACE.
"""
import json
import sys

import seccomp as S

ARCH = {"SCMP_ARCH_X86_64": S.Arch.X86_64, "SCMP_ARCH_X86": S.Arch.X86, "SCMP_ARCH_X32": S.Arch.X32,
        "SCMP_ARCH_AARCH64": S.Arch.AARCH64, "SCMP_ARCH_ARM": S.Arch.ARM}
RUNS = {"x86_64": ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"],
        "aarch64": ["SCMP_ARCH_AARCH64", "SCMP_ARCH_ARM"]}
GO = {"x86_64": "amd64", "aarch64": "arm64"}
OPS = {"SCMP_CMP_NE": S.NE, "SCMP_CMP_LT": S.LT, "SCMP_CMP_LE": S.LE, "SCMP_CMP_EQ": S.EQ,
       "SCMP_CMP_GE": S.GE, "SCMP_CMP_GT": S.GT, "SCMP_CMP_MASKED_EQ": S.MASKED_EQ}


def action(name, errno):
    e = 1 if errno is None else errno
    return {"SCMP_ACT_ALLOW": S.ALLOW, "SCMP_ACT_ERRNO": S.ERRNO(e), "SCMP_ACT_KILL": S.KILL,
            "SCMP_ACT_KILL_THREAD": S.KILL, "SCMP_ACT_KILL_PROCESS": S.KILL_PROCESS, "SCMP_ACT_TRAP": S.TRAP,
            "SCMP_ACT_LOG": S.LOG, "SCMP_ACT_TRACE": S.TRACE(e)}[name]


def known(arch, name):
    try:
        return S.resolve_syscall(arch, name) >= 0
    except ValueError:
        return False


def cap(c):
    return c if c.startswith("CAP_") else "CAP_" + c


def compile_profile(path, host, caps, out):
    p = json.load(open(path))
    caps = {cap(c) for c in caps.split(",") if c}
    defact = action(p["defaultAction"], p.get("defaultErrnoRet"))
    f = S.SyscallFilter(defact)
    native = RUNS[host][0]
    if host != "x86_64":
        f.add_arch(ARCH[native])
        f.remove_arch(S.Arch.NATIVE)
    arches = list(p.get("architectures") or [])
    for m in p.get("archMap") or []:
        if m["architecture"] == native:
            arches += m.get("subArchitectures") or []
    in_filter = [ARCH[native]]
    for a in arches:
        if a in RUNS[host] and a != native and ARCH[a] not in in_filter:
            f.add_arch(ARCH[a])
            in_filter.append(ARCH[a])
    for s in p.get("syscalls") or []:
        inc, exc = s.get("includes") or {}, s.get("excludes") or {}
        if any(cap(c) in caps for c in exc.get("caps") or []):
            continue
        if not all(cap(c) in caps for c in inc.get("caps") or []):
            continue
        if inc.get("arches") and GO[host] not in inc["arches"]:
            continue
        if GO[host] in (exc.get("arches") or []):
            continue
        act = action(s["action"], s.get("errnoRet"))
        if act == defact:
            continue  # runc drops rules with the default action (libseccomp refuses them)
        args = [S.Arg(a["index"], OPS[a["op"]], a["value"], a.get("valueTwo", 0)) for a in s.get("args") or []]
        idx = [a["index"] for a in s.get("args") or []]
        groups = [[a] for a in args] if len(set(idx)) != len(idx) else [args]
        for name in list(s.get("names") or []) + ([s["name"]] if s.get("name") else []):
            if not any(known(a, name) for a in in_filter):
                continue  # a name libseccomp does not know (runc skips it)
            for g in groups:
                try:
                    f.add_rule(act, name, *g)
                except ValueError:
                    pass  # a name libseccomp does not know (runc skips it)
                except RuntimeError as e:
                    # libseccomp refuses a rule (a conflicting or redundant one): runc fails here too.
                    sys.exit(f"seccomp_ref: {name}: {e}")
    with open(out, "wb") as fh:
        f.export_bpf(fh)


def resolve(path):
    names = open(path).read().split()
    for a in ("SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32", "SCMP_ARCH_AARCH64", "SCMP_ARCH_ARM"):
        for n in names:
            try:
                nr = S.resolve_syscall(ARCH[a], n)
            except ValueError:
                continue
            if nr >= 0:
                print(a, n, nr)


if __name__ == "__main__":
    if sys.argv[1] == "resolve":
        resolve(sys.argv[2])
    else:
        compile_profile(*sys.argv[2:6])
