"""Scale checks for make bench. Spawns with posix_spawn and waits directly,
to add as little as possible to what is measured.

usage: scale.py scale MYDOCKER FLOOR PAYLOAD N
         N containers in sequence (does the per-container time drift?), then
         2 at a time (throughput against sequential)
       scale.py argv MYDOCKER FLOOR PAYLOAD
         1 KiB and 128 KiB command lines through mydocker and the floor,
         interleaved, median of 100 each
Prints JSON on stdout.
"""
import json
import os
import statistics
import sys
import threading
import time

devnull = os.open(os.devnull, os.O_RDWR)


def one(argv):
    pid = os.posix_spawn(argv[0], argv, os.environ, file_actions=[(os.POSIX_SPAWN_DUP2, devnull, 1)])
    _, status = os.waitpid(pid, 0)
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"{argv[0]} failed: status {status}")


def timed(argv):
    t = time.perf_counter()
    one(argv)
    return time.perf_counter() - t


def drift(a, b, n):
    """Median time of the first and the last 100 of n runs in a row, for
    two launchers interleaved (a, b, b, a, ...), so that whatever the kernel
    itself accumulates over the sequence (dying memory cgroups, namespaces
    torn down asynchronously) weighs on both alike. Medians, because with a
    memory cgroup a few runs wait 10 ms for an RCU grace period, and a
    handful of those would swing a mean by more than a leak would."""
    # Warm the caches first, so the first 100 measure steady state too.
    for _ in range(50):
        one(a)
        one(b)
    sa, sb = [], []
    for i in range(n):
        for argv, seq in ((a, sa), (b, sb)) if i % 2 == 0 else ((b, sb), (a, sa)):
            seq.append(timed(argv))
    k = min(100, n // 2)
    return k, statistics.median(sa[:k]), statistics.median(sa[-k:]), statistics.median(sb[:k]), statistics.median(sb[-k:])


def scale(md, floor, payload, n):
    argv = [md, "run", "-m", "100m", payload, "true"]
    # The floor interleaved with it: whatever the kernel itself drifts by
    # shows there too. (Run one after the other, the second launcher met
    # the state the first had left: +20 % for whichever ran last.)
    k, first, last, ffirst, flast = drift(argv, [floor, "-m", "104857600", payload, "true"], n)
    m = max(2, n // 2)
    t = time.perf_counter()
    for _ in range(m):
        one(argv)
    seq_rate = m / (time.perf_counter() - t)

    def worker(count):
        for _ in range(count):
            one(argv)

    t = time.perf_counter()
    ws = [threading.Thread(target=worker, args=(m // 2,)) for _ in range(2)]
    for w in ws:
        w.start()
    for w in ws:
        w.join()
    par_rate = (m // 2 * 2) / (time.perf_counter() - t)
    return {"n": n, "k": k, "first_ms": first * 1e3, "last_ms": last * 1e3, "drift": last / first - 1,
            "floor_first_ms": ffirst * 1e3, "floor_last_ms": flast * 1e3, "floor_drift": flast / ffirst - 1,
            "m": m, "seq_per_s": seq_rate, "par_per_s": par_rate}


def argv_sizes(md, floor, payload):
    res = {}
    arg = "a" * 1023  # 1 KiB with its terminator
    for label, count in (("1 KiB", 1), ("128 KiB", 128)):
        extra = [arg] * count
        t_md, t_fl = [], []
        for _ in range(100):
            t_md.append(timed([md, "run", payload, "true"] + extra))
            t_fl.append(timed([floor, payload, "true"] + extra))
        res[label] = {"mydocker_ms": statistics.median(t_md) * 1e3, "floor_ms": statistics.median(t_fl) * 1e3}
    return res


if sys.argv[1] == "scale":
    out = scale(sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5]))
else:
    out = argv_sizes(sys.argv[2], sys.argv[3], sys.argv[4])
json.dump(out, sys.stdout)
