"""Ensemble and per-run Mesa path, today's code against the pre-issue kernel, side by side in one run.

    python benchmarks/bench_engine.py [--scenario NAME ...] [--runs 10000] [--mesa-runs 20] [--rounds 5]

Speed. Four contenders per scenario, each a long-lived subprocess (``benchmarks/harness.py``):
the ensemble and the per-run Mesa path of today's tree, and the same two of commit 86ef001 (the
array kernel before issue 17, extracted with ``git archive``). Blocks are interleaved over
``--rounds`` rounds after a discarded warm-up; every figure is CPU time per run (the block's own
process), median (min-max) over the rounds, with the load average recorded around every block.

Identity. The model's behaviour has changed since 86ef001 (the actors decide differently), so
86ef001 is a speed baseline only: its runs are not expected to equal today's. What must hold:
today's ensemble and Mesa path give the same runs (table digests of the same rows); the command
line writes byte-identical ``runs.parquet``, ``injects.parquet`` and ``events.parquet`` with the
compiled kernels, uncompiled (``NUMBA_DISABLE_JIT=1``, the same code as plain Python), and with
the code of ``--same-as`` (default ``harness.SAME_AS``, the last commit before the turn was
compiled: the same rules in NumPy; meaningful while the data are those of that commit).
Results go to stdout and to ``benchmarks/results/engine.json`` (``benchmarks/make_doc.py``
builds BENCHMARKS.md). Not a pass/fail test.
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
from harness import BASELINE, ROOT, SAME_AS, Contender, extract, fmt_range, interleave, load, machine, ratios

RESULTS = ROOT / "benchmarks" / "results"


TABLES = ("runs", "injects", "events")


def cli_files(tree: Path, scenario: Path, runs: int, out: Path, env: dict[str, str] | None = None) -> dict[str, str]:
    """Run the command line of ``tree`` (in one process); return the sha256 of each table it wrote."""
    subprocess.run([sys.executable, "run_sim.py", str(scenario), "--runs", str(runs), "--seed", "7", "--out", str(out),
                    "--quiet", "--jobs", "1"], cwd=tree, check=True,
                   env={**os.environ, "PYTHONPATH": str(tree), **(env or {})})
    return {t: hashlib.sha256((out / f"{t}.parquet").read_bytes()).hexdigest()[:16] for t in TABLES}


def same_files(name: str, same_as: Path, a: argparse.Namespace, tmp: Path) -> dict:
    """Today's command-line tables against the ``--same-as`` commit's and against today's uncompiled."""
    scen = ROOT / "scenarios" / f"{name}.yaml"
    today = cli_files(ROOT, scen, a.file_runs, tmp / f"{name}-today")
    base = cli_files(same_as, scen, a.file_runs, tmp / f"{name}-base")
    small = cli_files(ROOT, scen, a.uncompiled_runs, tmp / f"{name}-small")
    plain = cli_files(ROOT, scen, a.uncompiled_runs, tmp / f"{name}-plain", {"NUMBA_DISABLE_JIT": "1"})
    return {"same_as": {t: today[t] == base[t] for t in TABLES},
            "uncompiled": {t: small[t] == plain[t] for t in TABLES}}


def scenario_blocks(name: str, base: Contender, new: Contender, runs: int, mesa_runs: int) -> dict:
    """Each tree runs its own copy of the scenario (the same command): the baseline cannot read today's
    files (their format has grown since), and its model differs anyway."""
    path = str(ROOT / "scenarios" / f"{name}.yaml")
    idx = [int(i) for i in np.unique(np.linspace(0, runs - 1, mesa_runs).astype(int))]
    ens = {"op": "ensemble", "scenario": path, "seed": 0, "runs": runs, "events": False, "rows": idx}
    mesa = {"op": "mesa", "scenario": path, "seed": 0, "runs": idx}
    own = str(base.tree / "scenarios" / f"{name}.yaml")
    return {
        "ensemble 86ef001": (base, {**ens, "scenario": own}, runs, "run"),
        "ensemble today": (new, ens, runs, "run"),
        "ensemble today, events": (new, {**ens, "events": True}, runs, "run"),
        "Mesa 86ef001": (base, {**mesa, "scenario": own}, len(idx), "run"),
        "Mesa today": (new, mesa, len(idx), "run"),
    }


def bench_scenario(name: str, base: Contender, new: Contender, a: argparse.Namespace) -> dict:
    blocks = scenario_blocks(name, base, new, a.runs, a.mesa_runs)
    load0 = load()
    s = interleave(blocks, a.rounds)
    load1 = load()
    # today: the ensemble with and without events, and the Mesa path on the same rows, give the same runs
    ens_digests = s["ensemble today"].digests | s["ensemble today, events"].digests
    mesa_digests, rows = s["Mesa today"].digests, s["ensemble today"].rows_digests
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
            # the models differ, so a run lasts a different number of turns in each: CPU per run-turn beside it
            "turns": {k: round(v.turns[0], 2) for k, v in s.items() if v.turns},
            "ratios": r}


def report(res: dict) -> list[str]:
    out = [f"scenario {res['scenario']}: {res['runs']:,} ensemble runs, {res['mesa_runs']} Mesa runs per block, "
           f"{res['rounds']} interleaved rounds, load {res['load'][0]} -> {res['load'][1]}",
           f"today's ensemble and Mesa path give identical runs (same rows): {'yes' if res['identical_runs'] else 'NO'}"
           f" (86ef001 is a different model: speed only)",
           f"{'contender':<26}{'CPU us/run, median (min-max)':>36}{'load min-max':>16}"]
    for k, v in res["series"].items():
        out.append(f"{k:<26}{fmt_range(v['cpu_us'], digits=1):>36}{min(v['loads']):>8.2f}-{max(v['loads']):.2f}")
    for k, v in res["ratios"].items():
        out.append(f"ratio {k:<38}{fmt_range(v):>24}")
    t = res.get("turns", {})
    if "ensemble 86ef001" in t and "ensemble today" in t:
        longer = t["ensemble today"] / t["ensemble 86ef001"]
        per_turn = [x * longer for x in res["ratios"]["ensemble today / ensemble 86ef001"]]
        out.append(f"mean turns per run: 86ef001 {t['ensemble 86ef001']:.2f}, today {t['ensemble today']:.2f}; "
                   f"ratio per run-turn, ensemble today / ensemble 86ef001: {fmt_range(per_turn)}")
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--scenario", nargs="+", default=["korean_peninsula", "taiwan_strait"])
    ap.add_argument("--runs", type=int, default=10_000)
    ap.add_argument("--mesa-runs", type=int, default=20)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--file-runs", type=int, default=2_000, help="runs of the command-line file comparison")
    ap.add_argument("--uncompiled-runs", type=int, default=200, help="runs of the compiled/uncompiled comparison")
    ap.add_argument("--same-as", default=SAME_AS, help="commit whose rules today's must reproduce byte for byte")
    a = ap.parse_args()
    tree, same_as = extract(BASELINE), extract(a.same_as)
    info = machine()
    print(f"machine: {info}; baseline {BASELINE} extracted to {tree}, identity baseline {a.same_as} to {same_as}")
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
            files[name] = same_files(name, same_as, a, Path(tmp))
            yn = {k: ", ".join(f"{t} {'yes' if v[t] else 'NO'}" for t in TABLES) for k, v in files[name].items()}
            line = (f"run_sim.py {name}: byte-identical files vs {a.same_as} ({a.file_runs} runs): {yn['same_as']}; "
                    f"compiled vs NUMBA_DISABLE_JIT=1 ({a.uncompiled_runs} runs): {yn['uncompiled']}")
            lines.append(line)
            print(line, flush=True)
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "engine.json").write_text(json.dumps({"machine": info, "baseline": BASELINE, "same_as": a.same_as,
                                                     "scenarios": results,
                                                     "files": files, "text": lines}, indent=1) + "\n")


if __name__ == "__main__":
    main()
