#!/usr/bin/python3
"""make bench, the level users see: `podman run --rm IMG true` and
`ctr run --rm IMG ID true` with mydocker, crun and runc as the runtime, side by
side in one run (rounds rotate the order; only ratios within one run count).

The environment is make e2e's (tests/e2e/run.py): podman with vfs storage and
containerd private to BUILD/e2e, cgroups under the caller's, all removed after.

usage: bench/clients.py BUILD_DIR MYDOCKER_BIN ROOTFS
env: CLIENT_RUNS (per round, default 10), CLIENT_ROUNDS (default 3)
Writes BUILD/bench/clients.md and prints it.
"""
import importlib.util
import os
import statistics
import sys
import time

# No __pycache__ left in the source tree by the import below.
sys.dont_write_bytecode = True
here = os.path.dirname(os.path.abspath(__file__))
spec = importlib.util.spec_from_file_location("e2e", os.path.join(here, "..", "tests", "e2e", "run.py"))
e2e = importlib.util.module_from_spec(spec)
spec.loader.exec_module(e2e)


def main():
    build, md, rootfs = sys.argv[1:4]
    runs = int(os.environ.get("CLIENT_RUNS", "10"))
    rounds = int(os.environ.get("CLIENT_ROUNDS", "3"))
    env = e2e.Env(build, rootfs)
    rts = [e2e.resolve(s, env, os.path.abspath(md)) for s in ("mydocker", "crun", "runc")]
    times = {}
    broken = {}
    try:
        env.setup()
        env.make_image(rts[-1])

        def podman(rt):
            return env.podman(rt, "run", "--rm", "--network", "none", "--cgroup-parent", rt.cg,
                              e2e.IMG, "true")

        def ctr(rt):
            n = f"bench-{rt.name}"
            return env.ctr("run", *env.ctr_run_flags(rt, n), "--rm", e2e.IMG, n, "true")

        clients = [("podman run --rm IMG true", podman), ("ctr run --rm IMG ID true", ctr)]
        # Every pair must work before anything is timed; a broken one is
        # reported, not timed.
        for cname, f in clients:
            for rt in rts:
                r = f(rt)
                if r.rc != 0:
                    broken[(cname, rt.name)] = (r.err.strip().splitlines() or ["exit %d" % r.rc])[-1]
        for k in range(rounds):
            order = rts[k % len(rts):] + rts[:k % len(rts)]
            print(f"bench: clients, round {k + 1}/{rounds} ({runs} runs each)", file=sys.stderr)
            for cname, f in clients:
                for rt in order:
                    if (cname, rt.name) in broken:
                        continue
                    for _ in range(runs):
                        t = time.perf_counter()
                        r = f(rt)
                        dt = time.perf_counter() - t
                        if r.rc != 0:
                            broken[(cname, rt.name)] = r.err.strip()[-200:]
                            break
                        times.setdefault((cname, rt.name), []).append(dt)
    finally:
        env.teardown()
    out = ["## Clients: podman and containerd drive the runtime", "",
           f"{rounds} rounds × {runs} runs, order rotated per round; median and spread (p10–p90) "
           "in milliseconds; the ratio is to runc in the same run.", "",
           "| client command | runtime | median ms | p10–p90 ms | vs runc |", "|---|---|---|---|---|"]
    for cname, _ in clients:
        ref = times.get((cname, "runc"))
        refm = statistics.median(ref) if ref else None
        for rt in rts:
            key = (cname, rt.name)
            if key in broken or key not in times:
                out.append(f"| `{cname}` | {rt.name} | fails: {broken.get(key, '?')} | | |")
                continue
            v = sorted(times[key])
            m = statistics.median(v)
            q = statistics.quantiles(v, n=10, method="inclusive") if len(v) > 1 else [v[0]] * 9
            p10, p90 = q[0], q[8]
            ratio = f"{m / refm:.2f}" if refm else "–"
            out.append(f"| `{cname}` | {rt.name} | {m * 1000:.0f} | {p10 * 1000:.0f}–{p90 * 1000:.0f} | {ratio} |")
    text = "\n".join(out) + "\n"
    os.makedirs(os.path.join(build, "bench"), exist_ok=True)
    with open(os.path.join(build, "bench", "clients.md"), "w") as f:
        f.write(text)
    print(text)


if __name__ == "__main__":
    main()
