"""Regenerate BENCHMARKS.md (and README's speed paragraph) from the scripts' saved output.

    python benchmarks/make_doc.py

Why: the figures in the docs must be the ones the scripts printed, not numbers copied by hand
(BENCHMARKS.md and README once disagreed, 361x against 250x). Every benchmark saves what it
printed to ``benchmarks/results/<name>.json`` (key ``text``) or ``<name>.txt``; this script lays
them out, with a summary table computed from ``engine.json``, and writes the same headline
paragraph into README between the ``speed`` markers (``tests/test_benchmarks_doc.py`` checks it).
"""

from __future__ import annotations

import json
import re
import statistics
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results"
BEGIN, END = "<!-- speed:begin (benchmarks/make_doc.py) -->", "<!-- speed:end -->"
SECTIONS = (("engine", "Ensemble and Mesa path, today against 86ef001", "bench_engine.py"),
            ("events", "Event log on disk", "bench_events.py"),
            ("batch", "Batch size", "bench_batch.py"),
            ("workshop", "Workshop console: a move and a forecast", "bench_workshop.py --engine"),
            ("scaling", "10 million runs without the event log: memory", "bench_scaling.py"),
            ("parallel", "2 workers vs 1", "bench_parallel.py"),
            ("startup", "Start-up", "bench_startup.py"))


def _text(name: str) -> list[str] | None:
    j, t = RESULTS / f"{name}.json", RESULTS / f"{name}.txt"
    if j.exists():
        return json.loads(j.read_text())["text"]
    if t.exists():
        return t.read_text().rstrip("\n").splitlines()
    return None


def _ratio(res: dict, key: str) -> str:
    xs = res["ratios"][key]
    return f"{statistics.median(xs):,.2f}x ({min(xs):,.2f}-{max(xs):,.2f})"


def headline() -> str:
    """The speed paragraph shared by BENCHMARKS.md and README."""
    eng = json.loads((RESULTS / "engine.json").read_text())
    parts = []
    for res in eng["scenarios"]:
        parts.append(f"{res['scenario']}: the ensemble is {_ratio(res, 'ensemble today / ensemble 86ef001')} the "
                     f"array kernel of commit {eng['baseline']} and {_ratio(res, 'ensemble today / Mesa 86ef001')} its "
                     f"per-run Mesa path; the Mesa path is {_ratio(res, 'Mesa today / Mesa 86ef001')} faster than "
                     f"it was (load {res['load'][0]}-{res['load'][1]})")
    files = eng.get("files", {}).values()
    same = all(all(f[k].values()) for f in files for k in ("same_as", "uncompiled")) and bool(files)
    return ("CPU time per run, interleaved, median (min-max) over rounds, measured side by side in one run of "
            "`python benchmarks/bench_engine.py`. " + "; ".join(parts) + ". The model's behaviour has changed since "
            f"{eng['baseline']}, so those are speed ratios of the same command (scenario, seed, runs), not of "
            f"identical runs; today's output files {'are' if same else 'are NOT'} byte-identical to commit "
            f"{eng.get('same_as', '?')}'s ({_same_as_reason(eng)}) and to today's code run uncompiled.")


def _same_as_reason(eng: dict) -> str:
    """Why the identity baseline is the one it is (``bench_engine.py --same-as``)."""
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from harness import SAME_AS

    return ("the same rules in NumPy" if eng.get("same_as") == SAME_AS else
            "the commit before a change meant to alter speed only")


def _identity(eng: dict, res: dict) -> str:
    """The identity column: today's ensemble against its Mesa path, its files against the identity baseline's
    and against today's uncompiled."""
    files = eng.get("files", {}).get(res["scenario"], {})

    def yn(key: str) -> str:
        got = files.get(key)
        return "yes" if got and all(got.values()) else "NO"

    return (f"ensemble = Mesa: {'yes' if res['identical_runs'] else 'NO'}; files = {eng.get('same_as', '?')}: "
            f"{yn('same_as')}; = uncompiled: {yn('uncompiled')}")


def summary() -> list[str]:
    eng = json.loads((RESULTS / "engine.json").read_text())
    rows = ["| what | target | measured (median, min-max) | met | identical |", "|---|---|---|---|---|"]
    for res in eng["scenarios"]:
        same = _identity(eng, res)
        for key, target in (("ensemble today / ensemble 86ef001", 5),
                            ("ensemble today / Mesa 86ef001", 1000),
                            ("Mesa today / Mesa 86ef001", 3)):
            met = "yes" if statistics.median(res["ratios"][key]) >= target else "**no**"
            rows.append(f"| {res['scenario']}: {key} | >= {target:,}x | {_ratio(res, key)} | {met} | {same} |")
    ev = RESULTS / "events.json"
    if ev.exists():
        for name, r in json.loads(ev.read_text())["results"].items():
            per = r["events_bytes"] / r["events"]
            peak = r["peak_consolidating"] / r["final"]
            rows.append(f"| {name}: events on disk | <= 8 B/event | {per:.2f} B/event | "
                        f"{'yes' if per <= 8 else '**no**'} | - |")
            rows.append(f"| {name}: peak disk while consolidating | <= 1.2x final | {peak:.2f}x | "
                        f"{'yes' if peak <= 1.2 else '**no**'} | - |")
    return rows + _text_rows()


def _ceiling(xs: list[float]) -> str:
    """Two warm processes of pure compute against one, measured beside the job (bench_parallel.py)."""
    return f"{statistics.median(xs):.2f}x ({min(xs):.2f}-{max(xs):.2f})" if xs else "not measured"


def _text_rows() -> list[str]:
    """Summary rows from the text outputs: peak memory of the largest job without events, 2 workers vs 1."""
    rows = []
    scaling = _text("scaling") or []
    sizes = [line.split()[0] for line in scaling if line.strip()[:1].isdigit()]
    peak = [line for line in scaling if line.startswith("peak memory")]
    if sizes and peak:
        gib = float(re.search(r"\(([\d.]+) GiB\)", peak[0]).group(1))
        rows.append(f"| {sizes[-1]} runs without events: peak memory | < 2 GiB | {gib:.2f} GiB | "
                    f"{'yes' if gib < 2 else '**no**'} | - |")
    par = RESULTS / "parallel.json"
    pooled: dict[int, dict] = {}  # every saved run of a size (bench_parallel.py --append), in one row
    for r in json.loads(par.read_text())["results"] if par.exists() else []:
        p = pooled.setdefault(r["runs"], {"runs": r["runs"], "ratios": [], "same": True, "load": [9e9, 0.0]})
        p["ratios"] += r["ratios"]
        p.setdefault("ceiling", []).extend(r.get("ceiling", []))
        p["same"] &= r["same"]
        p["load"] = [min(p["load"][0], r["load"][0]), max(p["load"][1], r["load"][1])]
    for r in pooled.values():
        xs, (lo, hi) = r["ratios"], r["load"]
        x = statistics.median(xs)
        ok = x >= 1.8 and r["same"]
        ceil = statistics.median(r["ceiling"]) if r["ceiling"] else float("nan")
        # the load is the benchmark's own jobs (a lagging 1-minute average): the ceiling says what the cores gave
        why = "" if ok else (" (the machine's ceiling: two warm processes gave no more)" if x >= 0.95 * ceil
                             else " (below the machine's ceiling: the job's own overhead)")
        rows.append(f"| 2 workers / 1, {r['runs']:,} runs, fresh `run_sim.py run` each (free cores) | >= 1.8x | "
                    f"{x:.2f}x ({min(xs):.2f}-{max(xs):.2f}; load {lo:.2f}-{hi:.2f}; the machine's ceiling beside it: "
                    f"{_ceiling(r['ceiling'])}) | "
                    f"{"yes" if ok else "**no**"}{why} | "
                    f"files 1 = 2 workers: {'yes' if r['same'] else 'NO'} |")
    return rows


def main() -> None:
    out = ["# Benchmarks", "",
           "Generated by `python benchmarks/make_doc.py` from the output the scripts in `benchmarks/` saved in",
           "`benchmarks/results/`; do not edit by hand. The machine is a 2-vCPU VM shared with other developers:",
           "every figure says the load average it ran under. Ratios come from blocks interleaved in one run",
           "(`benchmarks/harness.py`), in CPU time, as median (min-max) over rounds. Commit 86ef001 (before",
           "issue 17) is the speed baseline; its model behaves differently, so identity is checked against",
           "the last commit before the turn was compiled and against today's code run uncompiled.", "",
           "## Summary", "", *summary(), "", "## Headline", "", headline(), ""]
    for name, title, script in SECTIONS:
        text = _text(name)
        out += [f"## {title}", "", f"`python benchmarks/{script}`", ""]
        out += ["```", *text, "```", ""] if text else ["Not measured in this round (see the issue's report).", ""]
    (ROOT / "BENCHMARKS.md").write_text("\n".join(out))
    readme = (ROOT / "README.md").read_text()
    head, rest = readme.split(BEGIN)
    _, tail = rest.split(END)
    (ROOT / "README.md").write_text(f"{head}{BEGIN}\n{headline()}\n{END}{tail}")


if __name__ == "__main__":
    main()
