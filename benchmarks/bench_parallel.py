"""1 worker vs N workers on the same job: identical results, and the speed-up.

    python benchmarks/bench_parallel.py [--scenario FILE] [--runs 100000] [--jobs 2] [--events]

Runs the same job (same seed, same chunk size) in this process (``--jobs 1``) and on a
local pool of N worker processes, end to end: pool start-up, compute, writing the
parts and consolidating them. Checks that the consolidated files are byte-identical,
then prints runs/s of each and their ratio. The two are run alternately ``--repeat``
times and the fastest of each kept, so a burst of load from another program does not
decide the ratio. Measured side by side in one run; not a pass/fail test.
"""

from __future__ import annotations

import argparse
import os
import shutil
import tempfile
import time
from pathlib import Path

from sim.experiments.jobs import run_job

ROOT = Path(__file__).resolve().parent.parent


def timed(scenario: Path, runs: int, out: Path, jobs: int, chunk: int, events: bool) -> tuple[float, object]:
    t = time.perf_counter()
    res = run_job(scenario, runs, 0, out, jobs=jobs, chunk_size=chunk, events=events)
    return time.perf_counter() - t, res


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--scenario", type=Path, default=ROOT / "scenarios" / "korean_peninsula.yaml")
    ap.add_argument("--runs", type=int, default=100_000)
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--chunk-size", type=int, default=10_000)
    ap.add_argument("--events", action="store_true", help="also write the event log")
    ap.add_argument("--repeat", type=int, default=2)
    a = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="bench_parallel_"))
    try:
        print(f"load average before: {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs")
        files = ["runs.parquet", "injects.parquet"] + (["events.parquet"] if a.events else [])
        t1 = tn = float("inf")
        same = True
        for i in range(a.repeat):
            t, _ = timed(a.scenario, a.runs, tmp / f"one{i}", 1, a.chunk_size, a.events)
            t1 = min(t1, t)
            t, rn = timed(a.scenario, a.runs, tmp / f"many{i}", a.jobs, a.chunk_size, a.events)
            tn = min(tn, t)
            same &= all((tmp / "one0" / f).read_bytes() == (tmp / d / f).read_bytes()
                        for d in (f"one{i}", f"many{i}") for f in files)
        print(f"scenario {a.scenario.stem}, {a.runs:,} runs, chunks of {a.chunk_size:,}, "
              f"event log {'on' if a.events else 'off'}, best of {a.repeat}")
        print(f"identical files ({', '.join(files)}): {'yes' if same else 'NO'}")
        print(f"{'workers':<28}{'seconds':>10}{'runs/s':>12}")
        print(f"{'1 (in this process)':<28}{t1:>10.2f}{a.runs / t1:>12,.0f}")
        print(f"{f'{rn.workers} (local process pool)':<28}{tn:>10.2f}{a.runs / tn:>12,.0f}")
        print(f"ratio {rn.workers} workers / 1: {t1 / tn:.2f}x")
        if not same:
            raise SystemExit("results differ")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
