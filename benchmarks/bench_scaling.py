"""10k -> 100k -> 1M runs: time grows linearly, peak memory stays bounded.

    python benchmarks/bench_scaling.py [--scenario FILE] [--sizes 10000 100000 1000000] [--jobs 2]

Each size runs as a fresh ``run_job`` in its own subprocess (no event log, chunks of
``--chunk-size``, ``--jobs`` workers), end to end including pool start-up, writing parts
and consolidation. Reported per size: wall seconds and microseconds per run; CPU time of
the whole job (parent and workers), which measures the work done and barely moves when
other processes compete for the cores; and peak resident memory of the parent, of the
largest worker, and of the whole process tree sampled every 50 ms (needs psutil). Each
size is run ``--repeat`` times and the fastest kept (memory: the largest seen). Linear
growth is judged by the marginal cost per run between consecutive sizes (which excludes
the fixed start-up cost): their ratio should be within 20% of 1. Not a pass/fail test.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

CHILD = r"""
import json, resource, sys, threading, time
from pathlib import Path
from sim.experiments.jobs import run_job

scenario, runs, out, jobs, chunk = sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4]), int(sys.argv[5])
tree = [0]
stop = threading.Event()

def sample():
    try:
        import psutil
    except ImportError:
        tree[0] = -1
        return
    me = psutil.Process()
    while not stop.is_set():
        try:
            procs = [me, *me.children(recursive=True)]
            tree[0] = max(tree[0], sum(p.memory_info().rss for p in procs if p.is_running()))
        except psutil.Error:
            pass
        time.sleep(0.05)

if __name__ == "__main__":
    threading.Thread(target=sample, daemon=True).start()
    t = time.perf_counter()
    res = run_job(scenario, runs, 0, out, jobs=jobs, chunk_size=chunk, events=False)
    sec = time.perf_counter() - t
    stop.set()
    kb = 1024
    me, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime  # workers are reaped at pool shutdown
    print(json.dumps({"seconds": sec, "cpu": cpu, "workers": res.workers,
                      "parent_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / kb,
                      "worker_mb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / kb,
                      "tree_mb": tree[0] / 2**20 if tree[0] > 0 else None,
                      "rows": len(res.read_runs(["run"]))}))
"""


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--scenario", type=Path, default=ROOT / "scenarios" / "senkaku.yaml")
    ap.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--chunk-size", type=int, default=5_000)
    ap.add_argument("--repeat", type=int, default=2)
    a = ap.parse_args()
    print(f"load average before: {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs")
    print(f"scenario {a.scenario.stem}, {a.jobs} workers, chunks of {a.chunk_size:,}, no event log, "
          f"best of {a.repeat}")
    rows = []
    with tempfile.TemporaryDirectory(prefix="bench_scaling_") as tmp:
        script = Path(tmp) / "child.py"
        script.write_text(CHILD)
        for n in a.sizes:
            best: dict | None = None
            for i in range(a.repeat):
                r = subprocess.run([sys.executable, str(script), str(a.scenario), str(n),
                                    str(Path(tmp) / f"o{n}-{i}"), str(a.jobs), str(a.chunk_size)],
                                   cwd=ROOT, capture_output=True, text=True)
                if r.returncode:
                    raise SystemExit(r.stderr)
                m = json.loads(r.stdout.strip().splitlines()[-1])
                assert m["rows"] == n, m
                if best is None:
                    best = m
                else:
                    mem = {k: max(best[k] or 0, m[k] or 0) or None for k in ("parent_mb", "worker_mb", "tree_mb")}
                    best = {**(m if m["seconds"] < best["seconds"] else best), **mem,
                            "cpu": min(best["cpu"], m["cpu"])}
            rows.append((n, best))
    print(f"{'runs':>10}{'seconds':>10}{'us/run':>9}{'CPU s':>9}{'CPU us/run':>11}{'parent MiB':>12}"
          f"{'worker MiB':>12}{'tree MiB':>10}")
    for n, m in rows:
        tree = f"{m['tree_mb']:>10.0f}" if m["tree_mb"] else f"{'n/a':>10}"
        print(f"{n:>10,}{m['seconds']:>10.2f}{1e6 * m['seconds'] / n:>9.1f}{m['cpu']:>9.2f}"
              f"{1e6 * m['cpu'] / n:>11.1f}{m['parent_mb']:>12.0f}{m['worker_mb']:>12.0f}{tree}")
    for (n0, m0), (n1, m1) in itertools.pairwise(rows):
        print(f"time ratio {n1:,} / {n0:,} runs: {m1['seconds'] / m0['seconds']:.2f}x for {n1 / n0:.0f}x the runs")
    for key, label in (("seconds", "wall"), ("cpu", "CPU")):
        marg = [(n1, (m1[key] - m0[key]) / (n1 - n0)) for (n0, m0), (n1, m1) in itertools.pairwise(rows)]
        for (n0, c0), (n1, c1) in itertools.pairwise(marg):
            print(f"marginal {label} time per run: {1e6 * c0:.1f} us (up to {n0:,}) vs {1e6 * c1:.1f} us "
                  f"(up to {n1:,}): ratio {c1 / c0:.2f} (linear if within 0.8-1.2)")
    peak = max((m["tree_mb"] or m["parent_mb"] + a.jobs * m["worker_mb"]) for _, m in rows)
    print(f"peak memory of the whole job at any size: {peak:,.0f} MiB ({peak / 1024:.2f} GiB)")


if __name__ == "__main__":
    main()
