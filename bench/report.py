"""Turns one make bench run into bench/results.md: tables of the hot and
isolated passes, launcher facts, scale and argv checks, and the targets
with the numbers that decide them. Only ratios within this one run count.

usage: report.py OUT_DIR HOT_ROUNDS ISO_ROUNDS
"""
import glob
import json
import os
import platform
import statistics
import subprocess
import sys
import time

out, hot_rounds, iso_rounds = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
ORDER = ["floor", "mydocker", "floor + duties", "unshare", "bwrap", "floor -m 100m", "mydocker -m 100m",
         "floor + duties -m 100m", "crun", "runc", "mydocker (OCI)", "crun create+start+delete", "runc create+start+delete",
         "mydocker create+start+delete", "mydocker --rootfs", "mydocker --rootfs, no device policy",
         "mydocker, seccomp unconfined"]
ROOTFS_BASE = "mydocker --rootfs, no device policy"
# Which launcher does the same work, for the "× floor" column: the launchers
# with a 100 MiB memory cgroup are compared with the floor that makes one
# too; the --rootfs runs with the same binary without the device policy.
FLOOR = {n: ("floor -m 100m" if ("-m" in n or n in ("crun", "runc", "mydocker (OCI)") or "create+start" in n) else "floor") for n in ORDER}
FLOOR["mydocker --rootfs"] = FLOOR[ROOTFS_BASE] = ROOTFS_BASE


def load(pass_):
    times = {}
    for f in sorted(glob.glob(os.path.join(out, f"{pass_}-*.json"))):
        for r in json.load(open(f))["results"]:
            times.setdefault(r["command"], []).extend(r["times"])
    return times


def ms(x):
    return f"{x * 1e3:.2f}"


facts = {}
for line in open(os.path.join(out, "facts.tsv")):
    name, size, static, rss, calls = line.rstrip("\n").split("\t")
    facts[name] = dict(size=int(size), static=static, rss=int(rss or 0), calls=int(calls or 0))


def table(pass_):
    t = load(pass_)
    med = {n: statistics.median(v) for n, v in t.items()}
    rows = ["| launcher | median ms | min ms | mean ± sd ms | × floor (same work) | runs | binary | static | peak RSS KiB | syscalls (tree) |",
            "|---|---:|---:|---:|---:|---:|---:|:-:|---:|---:|"]
    for n in [n for n in ORDER if n in t]:
        v = t[n]
        f = facts[n]
        rows.append(f"| {n} | {ms(med[n])} | {ms(min(v))} | {ms(statistics.mean(v))} ± {ms(statistics.stdev(v))} | "
                    f"{med[n] / med[FLOOR[n]]:.2f} | {len(v)} | {f['size'] / 1024:.0f} KiB | {f['static']} | {f['rss']} | {f['calls']} |")
    return med, "\n".join(rows)


hot, hot_table = table("hot")
iso, iso_table = table("isolated")
scale = json.load(open(os.path.join(out, "scale.json")))
leaks = json.load(open(os.path.join(out, "leaks.json")))
argv = json.load(open(os.path.join(out, "argv.json")))

mode = "hybrid (v1 controllers; the cgroup2 at /sys/fs/cgroup/unified hidden by an empty tmpfs for crun)"
if not any(" - cgroup " in l for l in open("/proc/self/mountinfo")):
    mode = "v2"
cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), platform.machine())


def check(ok):
    return "✅" if ok else "❌"


F = facts
D, DM = "floor + duties", "floor + duties -m 100m"
# Issue 12's targets: relative to the floor doing the same duties (the
# floor is the physical limit, and it joins its cgroup the fastest way too).
targets = [
    ("hot: mydocker ≤ 1.05 × floor + duties", hot["mydocker"] / hot[D], 1.05),
    ("hot: mydocker -m 100m ≤ 1.05 × floor + duties -m 100m", hot["mydocker -m 100m"] / hot[DM], 1.05),
    ("isolated: mydocker ≤ 1.05 × floor + duties", iso["mydocker"] / iso[D], 1.05),
    ("isolated: mydocker -m 100m ≤ 1.05 × floor + duties -m 100m", iso["mydocker -m 100m"] / iso[DM], 1.05),
    ("syscalls of the tree ≤ 1.05 × floor + duties", F["mydocker"]["calls"] / F[D]["calls"], 1.05),
    ("syscalls with -m ≤ 1.05 × floor + duties -m 100m", F["mydocker -m 100m"]["calls"] / F[DM]["calls"], 1.05),
    ("isolated: mydocker -m 100m ≤ 1.25 × mydocker", iso["mydocker -m 100m"] / iso["mydocker"], 1.25),
    ("isolated: mydocker -m 100m ≤ 0.15 × crun (100 MiB limit)", iso["mydocker -m 100m"] / iso["crun"], 0.15),
    ("isolated: mydocker -m 100m ≤ 0.10 × runc (100 MiB limit)", iso["mydocker -m 100m"] / iso["runc"], 0.10),
    ("hot: mydocker -m 100m ≤ 0.30 × crun", hot["mydocker -m 100m"] / hot["crun"], 0.30),
    ("isolated: --rootfs with its device cgroup ≤ 1.10 × --rootfs without", iso["mydocker --rootfs"] / iso[ROOTFS_BASE], 1.10),
    ("hot: --rootfs with its device cgroup ÷ --rootfs without (no target)", hot["mydocker --rootfs"] / hot[ROOTFS_BASE], None),
    ("binary ≤ 128 KiB (KiB)", F["mydocker"]["size"] / 1024, 128),
    ("hot: mydocker faster than unshare(1) (ratio < 1)", hot["mydocker"] / hot["unshare"], 1.0 - 1e-9),
    ("launcher peak RSS ≤ 1.10 × the floor's", F["mydocker"]["rss"] / max(1, F["floor"]["rss"]), 1.10),
    ("scale: last 100 within 10% of the first 100 (absolute drift of the medians)", abs(scale["drift"]), 0.10),
    ("scale: mydocker's drift beyond the floor's own, interleaved in the same sequence (within 10%)",
     abs((1 + scale["drift"]) / (1 + scale["floor_drift"]) - 1), 0.10),
]
if "mydocker (OCI)" in hot:
    for p, t in (("hot", hot), ("isolated", iso)):
        targets.append((f"{p}: mydocker (OCI run -b) ÷ crun, same bundle (issue 15; no target here)", t["mydocker (OCI)"] / t["crun"], None))
        targets.append((f"{p}: mydocker (OCI run -b) ÷ runc, same bundle (issue 15; no target here)", t["mydocker (OCI)"] / t["runc"], None))
if "mydocker create+start+delete" in hot:
    for p, t in (("hot", hot), ("isolated", iso)):
        for peer in ("crun", "runc"):
            targets.append((f"{p}: mydocker create + start + delete ÷ {peer}'s, same bundle (issue 15; no target here)",
                            t["mydocker create+start+delete"] / t[f"{peer} create+start+delete"], None))
if "mydocker, seccomp unconfined" in hot:
    targets.append(("hot: the default seccomp filter's cost (mydocker ÷ seccomp unconfined; no target)",
                    hot["mydocker"] / hot["mydocker, seccomp unconfined"], None))

print(f"""# make bench results

- date: {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}
- machine: {os.cpu_count()} × {cpu}; kernel {platform.release()}; cgroups: {mode}
- load average at the end: {open('/proc/loadavg').read().split()[0:3]}
- payload: static busybox `true`; every launcher makes new UTS, PID, mount, net and IPC namespaces and a fresh /proc
- {hot_rounds} hot and {iso_rounds} isolated rounds, the order of the launchers rotated between rounds
- the floor with `-m` makes a memory cgroup and its child joins it by itself ("0" into `tasks`, issue 12), as mydocker does
- `--rootfs` runs use the bundle's busybox rootfs; "no device policy" is this source built with the bench-only feature `bench-no-device-policy` (no policy, no cgroup for it)
- floor + duties: the floor also doing, in plain C, every duty the issues give mydocker on a plain run (signal forwarding and pending signals, error pipe, fds closed first, PDEATHSIG and the parent-gone check, own session, hostname, lo up, docker's default capabilities and no_new_privs, SIG_IGN reset, docker's default seccomp filter — the very filter mydocker installs, read back with strace; with -m also no swap, the owner's lock and the OOM read): the cost of the duties themselves

## Hot (back to back, after a warm-up)

{hot_table}

## Isolated (≥ 0.1 s idle before each run)

{iso_table}

## Scale

- {scale['n']} containers (`mydocker run -m 100m`) in sequence, interleaved with the floor's, after 50 to warm up: median of the first {scale['k']} {scale['first_ms']:.2f} ms, of the last {scale['k']} {scale['last_ms']:.2f} ms (drift {scale['drift'] * 100:+.1f}%); the floor with a memory cgroup, in the same sequence: {scale['floor_first_ms']:.2f} → {scale['floor_last_ms']:.2f} ms ({scale['floor_drift'] * 100:+.1f}%)
- left behind afterwards: {leaks['cgroups']} cgroups, {leaks['mounts']} mounts, {leaks['fds']} fds, {leaks['processes']} processes
- 2 at a time: {scale['par_per_s']:.0f} containers/s against {scale['seq_per_s']:.0f}/s in sequence ({scale['par_per_s'] / scale['seq_per_s']:.2f}×)
- argv frames, median of 100, the floor passing the same arguments: """ + "; ".join(
    f"{k}: mydocker {v['mydocker_ms']:.2f} ms vs floor {v['floor_ms']:.2f} ms ({v['mydocker_ms'] / v['floor_ms']:.2f}×)" for k, v in argv.items()) + f"""

## Targets

| target | this run | limit | holds |
|---|---:|---:|:-:|""")
for name, value, limit in targets:
    if limit is None:
        print(f"| {name} | {value:.2f} | — | — |")
    else:
        print(f"| {name} | {value:.2f} | {limit:.2f} | {check(value <= limit)} |")
print(f"| (for scale) hot: mydocker ÷ the bare floor | {hot['mydocker'] / hot['floor']:.2f} | — | — |")
print(f"| (for scale) hot: the duties alone (floor + duties ÷ floor) | {hot[D] / hot['floor']:.2f} | — | — |")
print(f"| (for scale) isolated: floor -m 100m ÷ floor (the floor's own join) | {iso['floor -m 100m'] / iso['floor']:.2f} | — | — |")
print(f"| (for scale) the floor + duties -m 100m ÷ crun | {hot['floor + duties -m 100m'] / hot['crun']:.2f} | — | — |")
print(f"| (for scale) the kernel floor -m 100m ÷ crun | {hot['floor -m 100m'] / hot['crun']:.2f} | — | — |")
print(f"| (for scale) the kernel floor -m 100m ÷ runc | {hot['floor -m 100m'] / hot['runc']:.2f} | — | — |")
leak_free = not any(leaks.values())
print(f"| nothing leaked after {scale['n']} containers | {sum(leaks.values())} | 0 | {check(leak_free)} |")
print(f"| binary static | {F['mydocker']['static']} | yes | {check(F['mydocker']['static'] == 'yes')} |")
