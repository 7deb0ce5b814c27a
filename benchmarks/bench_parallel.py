"""1 worker vs N workers on the same job, as a user runs it: identical results, and the speed-up.

    python benchmarks/bench_parallel.py [--scenario ID] [--sizes 100000,300000] [--jobs 2] [--rounds 1]

Each job is a fresh ``run_sim.py run`` process (what an analyst types), so both sides pay their
own start-up: imports, compiling the scenario, loading the compiled kernels; the N-worker side
also spawns its pool. The same job (same seed, same chunk size) is run with ``--jobs 1`` and
``--jobs N`` in ABBA order within each round (1, N, N, 1), so a drift in the machine's speed
falls on both sides; each adjacent pair gives one ratio, reported as median (min-max) with the
wall and CPU seconds (the whole machine's busy time, so pool workers are counted) and the load average
before and after. The consolidated files of every job must be byte-identical.

Why more than one size: a job pays a fixed start-up (about 1.5-3 s for a pool worker: spawn,
imports, the Numba cache load) once, and its compute in proportion to the runs, so the ratio
approaches N as the job grows. Measured side by side in one run; not a pass/fail test.
Saves what it prints to ``benchmarks/results/parallel.json`` (``make_doc.py`` lays it out).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results" / "parallel.json"
FILES = ("runs.parquet", "injects.parquet")


def machine_cpu() -> float:
    """CPU seconds the whole machine has spent busy (``/proc/stat``: user, nice, system, irq, softirq).

    Not the children's rusage: pool workers are forked by the fork server, which nobody waits for,
    so their time never reaches this process's RUSAGE_CHILDREN. With free cores it is the job's."""
    fields = Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]
    user, nice, system, _idle, _iowait, irq, softirq = (int(x) for x in fields[:7])
    return (user + nice + system + irq + softirq) / os.sysconf("SC_CLK_TCK")


def run_cli(scenario: str, runs: int, jobs: int, chunk: int, out: Path) -> dict:
    """One whole job in a fresh process: its wall and CPU seconds and the load around it."""
    cmd = [sys.executable, str(ROOT / "run_sim.py"), "run", scenario, "--runs", str(runs), "--seed", "0",
           "--no-events", "--jobs", str(jobs), "--chunk-size", str(chunk), "--quiet", "--force", "--out", str(out)]
    before, cpu = os.getloadavg()[0], machine_cpu()
    t = time.perf_counter()
    subprocess.run(cmd, check=True, cwd=ROOT)
    return {"wall": time.perf_counter() - t, "cpu": machine_cpu() - cpu, "load": (before, os.getloadavg()[0])}


#: The machine's own ceiling: the same chunks computed by warm processes with no job around them (no
#: start-up, no writing), one process doing all of them against N each doing 1/N, started together.
CEILING = """
import sys, time
import sim.experiments.worker as w
from sim.experiments.store import Chunk
from sim.inputs.condition import Condition
scen, first, n, size = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
cond = Condition(scen)
w.run_chunk(w.Task(cond, 0, Chunk(None, 0, 0, 100), False, 5000))  # imports, compile, Numba cache: not timed
print("ready", flush=True)
sys.stdin.readline()
t = time.perf_counter()
for i in range(first, first + n):
    w.run_chunk(w.Task(cond, 0, Chunk(None, i, i * size, (i + 1) * size), False, 5000))
print(time.perf_counter() - t, flush=True)
"""


def ceiling(scenario: str, runs: int, jobs: int, chunk: int) -> float:
    """Wall seconds of the chunks of ``runs`` computed by ``jobs`` warm processes started together."""
    from sim.inputs.library import find_scenario

    path = str(find_scenario(scenario))
    n = runs // chunk // jobs
    procs = [subprocess.Popen([sys.executable, "-c", CEILING, path, str(k * n), str(n), str(chunk)], cwd=ROOT,
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True) for k in range(jobs)]
    for p in procs:
        assert p.stdout.readline().strip() == "ready"
    for p in procs:
        p.stdin.write("go\n")
        p.stdin.flush()
    secs = [float(p.stdout.readline()) for p in procs]
    for p in procs:
        p.wait()
    return max(secs)


def same_files(a: Path, b: Path) -> bool:
    return all((a / f).read_bytes() == (b / f).read_bytes() for f in FILES)


def measure(scenario: str, runs: int, jobs: int, chunk: int, rounds: int, tmp: Path) -> dict:
    """ABBA blocks: a ratio from each adjacent (1, N) pair."""
    ref = tmp / f"ref{runs}"
    times: dict[int, list[dict]] = {1: [], jobs: []}
    ratios, ceil, same = [], [], True
    for r in range(rounds):
        block = []
        for j in (1, jobs, jobs, 1):
            out = tmp / f"r{runs}-{r}-{len(block)}"
            block.append(run_cli(scenario, runs, j, chunk, out))
            times[j].append(block[-1])
            if not ref.exists():
                out.rename(ref)
            else:
                same &= same_files(ref, out)
                shutil.rmtree(out)
        ratios += [block[0]["wall"] / block[1]["wall"], block[3]["wall"] / block[2]["wall"]]
        c = [ceiling(scenario, runs, j, chunk) for j in (1, jobs, jobs, 1)]
        ceil += [c[0] / c[1], c[3] / c[2]]
    return {"runs": runs, "ratios": ratios, "ceiling": ceil, "same": same,
            "wall": {j: [t["wall"] for t in ts] for j, ts in times.items()},
            "cpu": {j: [t["cpu"] for t in ts] for j, ts in times.items()},
            "load": [min(t["load"][0] for ts in times.values() for t in ts),
                     max(t["load"][1] for ts in times.values() for t in ts)]}


def mmr(xs: list[float], fmt: str = "{:.2f}") -> str:
    return f"{fmt.format(statistics.median(xs))} ({fmt.format(min(xs))}-{fmt.format(max(xs))})"


def report(res: list[dict], a: argparse.Namespace) -> list[str]:
    lines = [f"$ python benchmarks/bench_parallel.py --scenario {a.scenario} --sizes {a.sizes} --jobs {a.jobs} "
             f"--rounds {a.rounds}",
             f"load average before: {a.load0:.2f} on {os.cpu_count()} CPUs",
             f"scenario {a.scenario}, chunks of {a.chunk_size:,}, no event log; each job a fresh `run_sim.py run` "
             f"process, ABBA order, {a.rounds} round(s): {2 * a.rounds} ratios per size",
             f"{'runs':>9}  {'wall 1 worker s':>18}  {f'wall {a.jobs} workers s':>19}  {'CPU 1 s':>8}  "
             f"{f'CPU {a.jobs} s':>8}  {f'ratio {a.jobs}/1 (median, min-max)':>30}  {'identical':>9}  load"]
    for r in res:
        lines.append(f"{r['runs']:>9,}  {mmr(r['wall'][1], '{:.1f}'):>18}  {mmr(r['wall'][a.jobs], '{:.1f}'):>19}  "
                     f"{statistics.median(r['cpu'][1]):>8.1f}  {statistics.median(r['cpu'][a.jobs]):>8.1f}  "
                     f"{mmr(r['ratios']) + 'x':>30}  {'yes' if r['same'] else 'NO':>9}  "
                     f"{r['load'][0]:.2f}-{r['load'][1]:.2f}")
        lines.append(f"{'':>9}  the machine's ceiling (same chunks, warm processes, no job around them): "
                     f"{mmr(r['ceiling'])}x")
    lines.append(f"load average after: {os.getloadavg()[0]:.2f}")
    return lines


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--scenario", default="korean_peninsula", help="shipped scenario id or file")
    ap.add_argument("--sizes", default="100000,300000", help="runs per job, comma-separated")
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--chunk-size", type=int, default=10_000)
    ap.add_argument("--rounds", type=int, default=1, help="ABBA rounds per size (two ratios each)")
    ap.add_argument("--no-save", action="store_true", help="print only; leave benchmarks/results alone")
    ap.add_argument("--append", action="store_true",
                    help="add this run to the saved ones (the summary pools every saved ratio of a size)")
    a = ap.parse_args()
    a.load0 = os.getloadavg()[0]
    tmp = Path(tempfile.mkdtemp(prefix="bench_parallel_"))
    try:
        res = [measure(a.scenario, int(n), a.jobs, a.chunk_size, a.rounds, tmp) for n in a.sizes.split(",")]
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    lines = report(res, a)
    print("\n".join(lines))
    if not a.no_save:
        old = json.loads(RESULTS.read_text()) if a.append and RESULTS.exists() else {"text": [], "results": []}
        saved = {"text": old["text"] + ([""] if old["text"] else []) + lines, "results": old["results"] + res}
        tmp_file = RESULTS.with_suffix(".json.tmp")
        tmp_file.write_text(json.dumps(saved, indent=1))
        os.replace(tmp_file, RESULTS)
    if not all(r["same"] for r in res):
        raise SystemExit("results differ between 1 and N workers")


if __name__ == "__main__":
    main()
