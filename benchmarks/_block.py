"""One contender of ``benchmarks/harness.py``: reads JSON commands on stdin, runs and times each block.

Run with ``PYTHONPATH`` set to the tree under test (today's worktree or the extracted baseline
commit); uses only APIs both have (``simulate``, ``CrisisModel``, ``compile_scenario``), so the
same work is timed on both sides. Each reply gives the block's CPU time (``time.process_time``,
this process only), wall time, and a digest of the results so the caller can check identity.
"""

from __future__ import annotations

import hashlib
import json
import sys
import time
from functools import cache

import numpy as np
import pandas as pd


def digest(df: pd.DataFrame) -> str:
    """Content digest of a table (dtypes and values), to compare results across trees."""
    head = ",".join(f"{c}:{df[c].dtype}" for c in df.columns).encode()
    return hashlib.sha256(head + pd.util.hash_pandas_object(df, index=False).to_numpy().tobytes()).hexdigest()[:16]


@cache
def spec_of(path: str):
    from sim.inputs.compile import compile_scenario

    return compile_scenario(path)


def ensemble(cmd: dict) -> dict:
    from sim.engine.ensemble import simulate

    spec = spec_of(cmd["scenario"])
    kw = {"batch_size": cmd["batch"]} if cmd.get("batch") else {}
    t, c = time.perf_counter(), time.process_time()
    res = simulate(spec, cmd["seed"], cmd["runs"], events=cmd["events"], **kw)
    cpu, wall = time.process_time() - c, time.perf_counter() - t
    out = {"cpu": cpu, "wall": wall, "digest": digest(res.runs), "turns": float(res.runs["turns"].mean())}
    if cmd.get("rows"):
        out["rows_digest"] = digest(res.runs.iloc[cmd["rows"]].reset_index(drop=True))
    return out


def mesa(cmd: dict) -> dict:
    from sim.engine.mesa_adapter import CrisisModel, CrisisScenario

    spec = spec_of(cmd["scenario"])
    t, c = time.perf_counter(), time.process_time()
    rows = []
    for i in cmd["runs"]:
        m = CrisisModel(CrisisScenario(scenario_file=cmd["scenario"], seed=cmd["seed"], run_index=int(i)), spec=spec)
        m.run_model()
        rows.append(m.runs_row())
    cpu, wall = time.process_time() - c, time.perf_counter() - t
    return {"cpu": cpu, "wall": wall, "digest": digest(pd.concat(rows, ignore_index=True))}


OPS = {"ensemble": ensemble, "mesa": mesa}


def main() -> None:
    np.seterr(all="ignore")
    for line in sys.stdin:
        cmd = json.loads(line)
        if cmd.pop("warmup", False):  # imports, compile, caches: a small block, discarded by the caller
            cmd["runs"] = cmd["runs"][:2] if cmd["op"] == "mesa" else min(cmd["runs"], 2000)
            cmd.pop("rows", None)
        print(json.dumps(OPS[cmd["op"]](cmd)), flush=True)


if __name__ == "__main__":
    main()
