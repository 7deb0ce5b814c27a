"""Event log on disk: bytes per event, and the peak disk of a job while it consolidates its parts.

    python benchmarks/bench_events.py [--scenario korean_peninsula taiwan_strait] [--runs 20000] [--chunk 5000]

Runs a job with the event log (``run_job``, in a subprocess) while a thread sums the sizes of
every file in the output folder every 10 ms. Reports per scenario: events, ``events.parquet``
bytes per event, the final size of all results, and the largest the folder ever was, overall and
during consolidation (the parts are on disk until then; the streamed event table deletes each
part once its rows are written, so the folder should never hold the log twice). Targets:
<= 8 bytes per event; peak during consolidation <= 1.2x the final size. Results go to
``benchmarks/results/events.json``. Not a pass/fail test.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

CHILD = r"""
import json, os, sys, threading, time
from pathlib import Path
import pyarrow.parquet as pq
from sim.experiments import store
from sim.experiments.jobs import run_job

scenario, runs, out, chunk = sys.argv[1], int(sys.argv[2]), Path(sys.argv[3]), int(sys.argv[4])
peak = {"all": 0, "consolidating": 0, "before": 0}
phase = ["compute"]
stop = threading.Event()

def size():
    total = 0
    for root, _, files in os.walk(out):
        for f in files:
            try:
                total += os.stat(os.path.join(root, f)).st_size
            except FileNotFoundError:
                pass
    return total

def sample():
    while not stop.is_set():
        s = size()
        peak["all"] = max(peak["all"], s)
        if phase[0] == "consolidating":
            peak["consolidating"] = max(peak["consolidating"], s)
        time.sleep(0.01)

real = store.Store.consolidate
def consolidate(self, *a, **k):
    if phase[0] != "consolidating":
        phase[0] = "consolidating"
        peak["before"] = size()
    peak["consolidating"] = max(peak["consolidating"], size())
    return real(self, *a, **k)
store.Store.consolidate = consolidate

threading.Thread(target=sample, daemon=True).start()
t = time.perf_counter()
run_job(scenario, runs, 0, out, jobs=1, chunk_size=chunk, events=True)
sec = time.perf_counter() - t
stop.set()
final = size()
ev = out / "events.parquet"
print(json.dumps({"events": pq.read_metadata(ev).num_rows, "events_bytes": ev.stat().st_size, "final": final,
                  "peak_all": peak["all"], "peak_consolidating": peak["consolidating"],
                  "parts": peak["before"], "seconds": sec}))
"""


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--scenario", nargs="+", default=["korean_peninsula", "taiwan_strait"])
    ap.add_argument("--runs", type=int, default=20_000)
    ap.add_argument("--chunk", type=int, default=5_000)
    a = ap.parse_args()
    lines = [f"load {os.getloadavg()[0]:.2f}; {a.runs:,} runs per job, chunks of {a.chunk:,}, 1 process, event log on",
             f"{'scenario':<18}{'events':>12}{'B/event':>9}{'final MB':>10}{'peak MB':>9}{'peak/final':>12}"
             f"{'consolidating/final':>21}{'parts/final':>13}"]
    res = {}
    for name in a.scenario:
        with tempfile.TemporaryDirectory() as tmp:
            out = subprocess.run([sys.executable, "-c", CHILD, str(ROOT / "scenarios" / f"{name}.yaml"), str(a.runs),
                                  str(Path(tmp) / "out"), str(a.chunk)], cwd=ROOT, check=True, capture_output=True,
                                 text=True, env={**os.environ, "PYTHONPATH": str(ROOT)}).stdout
        r = res[name] = json.loads(out.strip().splitlines()[-1])
        lines.append(f"{name:<18}{r['events']:>12,}{r['events_bytes'] / r['events']:>9.2f}{r['final'] / 1e6:>10.1f}"
                     f"{r['peak_all'] / 1e6:>9.1f}{r['peak_all'] / r['final']:>12.2f}"
                     f"{r['peak_consolidating'] / r['final']:>21.2f}{r['parts'] / r['final']:>13.2f}")
        print(lines[-1] if len(lines) > 3 else "\n".join(lines), flush=True)
    dest = ROOT / "benchmarks" / "results"
    dest.mkdir(exist_ok=True)
    (dest / "events.json").write_text(json.dumps({"results": res, "text": lines}, indent=1) + "\n")


if __name__ == "__main__":
    main()
