"""Ensemble and per-run Mesa path, today's code against the pre-issue kernel, side by side in one run.

    python benchmarks/bench_engine.py [--scenario NAME ...] [--runs 10000] [--mesa-runs 20] [--rounds 5]

Four contenders per scenario, each a long-lived subprocess (``benchmarks/harness.py``): the
ensemble and the per-run Mesa path of today's tree, and the same two of commit 86ef001 (the
array kernel before issue 17, extracted with ``git archive``). Blocks are interleaved over
``--rounds`` rounds after a discarded warm-up; every figure is CPU time per run (the block's own
process), median (min-max) over the rounds, with the load average recorded around every block.
The script checks that all four give identical runs (table digests), and that the command line
writes identical ``runs.parquet``/``injects.parquet`` files in both trees. Results go to stdout
and to ``benchmarks/results/engine.json`` (``benchmarks/make_doc.py`` builds BENCHMARKS.md).
Not a pass/fail test.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from harness import BASELINE, ROOT, Contender, extract, fmt_range, interleave, load, machine, ratios

RESULTS = ROOT / "benchmarks" / "results"


def cli_files(tree: Path, scenario: Path, runs: int, out: Path) -> dict[str, str]:
    """Run the command line of ``tree``; return the sha256 of each table it wrote."""
    subprocess.run([sys.executable, "run_sim.py", str(scenario), "--runs", str(runs), "--seed", "7", "--out", str(out),
                    "--quiet", "--jobs", "1"], cwd=tree, check=True, env={**os.environ, "PYTHONPATH": str(tree)})
    return {t: hashlib.sha256((out / f"{t}.parquet").read_bytes()).hexdigest()[:16]
            for t in ("runs", "injects", "events") if (out / f"{t}.parquet").exists()}


def events_agree(old: Path, new: Path) -> str:
    """Compare two event logs column by column: identical, or within the new column's stated precision."""
    import pandas as pd

    a, b = pd.read_parquet(old / "events.parquet"), pd.read_parquet(new / "events.parquet")
    if a.shape != b.shape or list(a.columns) != list(b.columns):
        return f"shape/columns differ: {a.shape} vs {b.shape}"
    worst = []
    for c in a.columns:
        x, y = a[c], b[c]
        if x.dtype.kind == "f" or y.dtype.kind == "f":
            d = np.nanmax(np.abs(x.to_numpy(float) - y.to_numpy(float)), initial=0.0)
            same_nan = (x.isna() == y.isna()).all()
            worst.append(f"{c} max|diff| {d:.1e}" + ("" if same_nan else " (nulls differ!)"))
        elif not x.astype(str).equals(y.astype(str)):
            return f"column {c} differs"
    return "values identical except quantised columns: " + ", ".join(worst)


def scenario_blocks(name: str, base: Contender, new: Contender, runs: int, mesa_runs: int) -> dict:
    path = str(ROOT / "scenarios" / f"{name}.yaml")
    idx = [int(i) for i in np.unique(np.linspace(0, runs - 1, mesa_runs).astype(int))]
    ens = {"op": "ensemble", "scenario": path, "seed": 0, "runs": runs, "events": False, "rows": idx}
    mesa = {"op": "mesa", "scenario": path, "seed": 0, "runs": idx}
    return {
        "ensemble 86ef001": (base, ens, runs, "run"),
        "ensemble today": (new, ens, runs, "run"),
        "ensemble today, events": (new, {**ens, "events": True}, runs, "run"),
        "Mesa 86ef001": (base, mesa, len(idx), "run"),
        "Mesa today": (new, mesa, len(idx), "run"),
    }


def bench_scenario(name: str, base: Contender, new: Contender, a: argparse.Namespace) -> dict:
    blocks = scenario_blocks(name, base, new, a.runs, a.mesa_runs)
    load0 = load()
    s = interleave(blocks, a.rounds)
    load1 = load()
    ens_digests = s["ensemble 86ef001"].digests | s["ensemble today"].digests | s["ensemble today, events"].digests
    mesa_digests = s["Mesa 86ef001"].digests | s["Mesa today"].digests
    rows = s["ensemble 86ef001"].rows_digests | s["ensemble today"].rows_digests
    identical = len(ens_digests) == 1 and len(mesa_digests) == 1 and mesa_digests == rows
    r = {
        "ensemble today / ensemble 86ef001": ratios(s["ensemble 86ef001"], s["ensemble today"]),
        "ensemble today / Mesa 86ef001": ratios(s["Mesa 86ef001"], s["ensemble today"]),
        "Mesa today / Mesa 86ef001": ratios(s["Mesa 86ef001"], s["Mesa today"]),
        "ensemble today / Mesa today": ratios(s["Mesa today"], s["ensemble today"]),
        "events cost (today)": ratios(s["ensemble today, events"], s["ensemble today"]),
    }
    return {"scenario": name, "runs": a.runs, "mesa_runs": len(blocks["Mesa today"][1]["runs"]),
            "rounds": a.rounds, "load": [round(load0, 2), round(load1, 2)], "identical_runs": identical,
            "series": {k: {"cpu_us": [x * 1e6 for x in v.cpu], "wall_us": [x * 1e6 for x in v.wall],
                           "loads": [round(x, 2) for x in v.loads]} for k, v in s.items()},
            "ratios": r}


def report(res: dict) -> list[str]:
    out = [f"scenario {res['scenario']}: {res['runs']:,} ensemble runs, {res['mesa_runs']} Mesa runs per block, "
           f"{res['rounds']} interleaved rounds, load {res['load'][0]} -> {res['load'][1]}",
           f"identical runs (all four contenders, same rows): {'yes' if res['identical_runs'] else 'NO'}",
           f"{'contender':<26}{'CPU us/run, median (min-max)':>36}{'load min-max':>16}"]
    for k, v in res["series"].items():
        out.append(f"{k:<26}{fmt_range(v['cpu_us'], digits=1):>36}{min(v['loads']):>8.2f}-{max(v['loads']):.2f}")
    for k, v in res["ratios"].items():
        out.append(f"ratio {k:<38}{fmt_range(v):>24}")
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--scenario", nargs="+", default=["korean_peninsula", "taiwan_strait"])
    ap.add_argument("--runs", type=int, default=10_000)
    ap.add_argument("--mesa-runs", type=int, default=20)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--file-runs", type=int, default=2_000, help="runs of the command-line file comparison")
    a = ap.parse_args()
    tree = extract(BASELINE)
    info = machine()
    print(f"machine: {info}; baseline {BASELINE} extracted to {tree}")
    base, new = Contender(BASELINE, tree), Contender("today", ROOT)
    results, lines = [], []
    try:
        for name in a.scenario:
            res = bench_scenario(name, base, new, a)
            results.append(res)
            lines += report(res)
            print("\n".join(report(res)), flush=True)
    finally:
        base.close()
        new.close()
    files = {}
    with tempfile.TemporaryDirectory() as tmp:
        for name in a.scenario:
            scen = ROOT / "scenarios" / f"{name}.yaml"
            old, cur = Path(tmp) / f"{name}-old", Path(tmp) / f"{name}-new"
            fo, fn = cli_files(tree, scen, a.file_runs, old), cli_files(ROOT, scen, a.file_runs, cur)
            same = {t: fo[t] == fn[t] for t in ("runs", "injects")}
            files[name] = {"runs_identical": same["runs"], "injects_identical": same["injects"],
                           "events": events_agree(old, cur)}
            line = (f"run_sim.py {name} --runs {a.file_runs} (both trees): runs.parquet identical: {same['runs']}, "
                    f"injects.parquet identical: {same['injects']}; events: {files[name]['events']}")
            lines.append(line)
            print(line, flush=True)
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "engine.json").write_text(json.dumps({"machine": info, "baseline": BASELINE, "scenarios": results,
                                                     "files": files, "text": lines}, indent=1) + "\n")


if __name__ == "__main__":
    main()
