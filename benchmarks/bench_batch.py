"""Batch size of the ensemble: CPU time per run at several batch sizes, interleaved, with identical runs.

    python benchmarks/bench_batch.py [--scenario korean_peninsula] [--runs 25000] [--sizes 1000,2500,5000,25000]

Why: the array kernel's (runs, actors, options) temporaries must fit the cache; a batch too small
pays the interpreter per turn. The chosen ``DEFAULT_BATCH`` (``sim.engine.ensemble``) comes from
this script's figures. Results go to ``benchmarks/results/batch.json``. Not a pass/fail test.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from harness import ROOT, Contender, fmt_range, interleave, load, machine, ratios


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--scenario", default="korean_peninsula")
    ap.add_argument("--runs", type=int, default=25_000)
    ap.add_argument("--sizes", default="1000,2500,5000,25000")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--events", action="store_true")
    a = ap.parse_args()
    sizes = [int(x) for x in a.sizes.split(",")]
    info, load0 = machine(), load()
    c = Contender("today", ROOT)
    path = str(ROOT / "scenarios" / f"{a.scenario}.yaml")
    blocks = {f"batch {b:,}": (c, {"op": "ensemble", "scenario": path, "seed": 0, "runs": a.runs,
                                   "events": a.events, "batch": b}, a.runs, "run") for b in sizes}
    try:
        s = interleave(blocks, a.rounds)
    finally:
        c.close()
    ref = s[f"batch {max(sizes):,}"]
    same = len(set().union(*(v.digests for v in s.values()))) == 1
    lines = [f"scenario {a.scenario}, {a.runs:,} runs, events {'on' if a.events else 'off'}, {a.rounds} interleaved "
             f"rounds, load {load0:.2f} -> {load():.2f}; identical runs at every size: {'yes' if same else 'NO'}",
             f"{'batch':<14}{'CPU us/run':>28}{'speed-up vs ' + f'{max(sizes):,}':>26}"]
    for k, v in s.items():
        lines.append(f"{k:<14}{fmt_range([x * 1e6 for x in v.cpu], digits=1):>28}{fmt_range(ratios(ref, v)):>26}")
    print("\n".join(lines))
    out = ROOT / "benchmarks" / "results"
    out.mkdir(exist_ok=True)
    (out / "batch.json").write_text(json.dumps({"machine": info, "text": lines, "identical": same,
                                                "cpu_us": {k: [x * 1e6 for x in v.cpu] for k, v in s.items()}},
                                               indent=1) + "\n")


if __name__ == "__main__":
    main()
