"""Ensemble path vs per-run Mesa path: same scenario, same seeds, same results, runs/s.

    python benchmarks/bench_engine.py [--scenario FILE] [--runs 10000] [--mesa-runs 300] [--full]

The Mesa path runs ``--mesa-runs`` of the run indices (spread over 0..runs-1), or all of
them with ``--full``; the ensemble path runs all ``--runs``. The script checks that every
run computed by both paths is identical, then prints runs/s of each and their ratio.
Measured side by side in one process; not a pass/fail test.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import pandas as pd

from sim.engine.ensemble import simulate
from sim.engine.mesa_adapter import CrisisModel, CrisisScenario
from sim.inputs.compile import compile_scenario

ROOT = Path(__file__).resolve().parent.parent


def mesa_runs(path: Path, spec, seed: int, idx: np.ndarray) -> tuple[pd.DataFrame, float]:
    t = time.perf_counter()
    rows = []
    for i in idx:
        m = CrisisModel(CrisisScenario(scenario_file=str(path), seed=seed, run_index=int(i)), spec=spec)
        m.run_model()
        rows.append(m.runs_row())
    return pd.concat(rows, ignore_index=True), time.perf_counter() - t


def ensemble_runs(spec, seed: int, runs: int, events: bool, repeat: int = 3) -> tuple[pd.DataFrame, float]:
    best, res = float("inf"), None
    for _ in range(repeat):
        t = time.perf_counter()
        res = simulate(spec, seed, runs, events=events)
        best = min(best, time.perf_counter() - t)
    return res.runs, best


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--scenario", type=Path, default=ROOT / "scenarios" / "korean_peninsula.yaml")
    ap.add_argument("--runs", type=int, default=10_000)
    ap.add_argument("--mesa-runs", type=int, default=300)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--full", action="store_true", help="run every run through the Mesa path too")
    a = ap.parse_args()
    spec = compile_scenario(a.scenario)
    n_mesa = a.runs if a.full else min(a.mesa_runs, a.runs)
    idx = np.unique(np.linspace(0, a.runs - 1, n_mesa).astype(int))
    m_rows, m_sec = mesa_runs(a.scenario, spec, a.seed, idx)
    e_rows, e_sec = ensemble_runs(spec, a.seed, a.runs, events=False)
    _, ev_sec = ensemble_runs(spec, a.seed, a.runs, events=True, repeat=1)
    pd.testing.assert_frame_equal(m_rows, e_rows.iloc[idx].reset_index(drop=True))
    m_rate, e_rate, ev_rate = len(idx) / m_sec, a.runs / e_sec, a.runs / ev_sec
    print(f"scenario {spec.scenario.id}: {len(spec.actor_ids)} actors, up to {spec.turns} turns, seed {a.seed}")
    print(f"identical results on the {len(idx)} runs computed by both paths: yes")
    print(f"{'path':<34}{'runs':>8}{'seconds':>10}{'runs/s':>12}")
    print(f"{'per-run Mesa model':<34}{len(idx):>8}{m_sec:>10.2f}{m_rate:>12.1f}")
    print(f"{'ensemble (no event log)':<34}{a.runs:>8}{e_sec:>10.2f}{e_rate:>12.1f}")
    print(f"{'ensemble (with event log)':<34}{a.runs:>8}{ev_sec:>10.2f}{ev_rate:>12.1f}")
    print(f"ratio ensemble / Mesa: {e_rate / m_rate:.0f}x (with event log: {ev_rate / m_rate:.0f}x)")


if __name__ == "__main__":
    main()
