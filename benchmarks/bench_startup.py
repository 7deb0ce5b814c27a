"""Start-up: how long ``run_sim.py --help`` takes (heavy modules are imported lazily).

    python benchmarks/bench_startup.py [--repeat 10]

Runs ``run_sim.py --help``, ``run_sim.py run --help`` and ``run_sim.py sweep --help`` in
fresh interpreters and prints the median and worst wall time, and which heavy modules
(numpy, pandas, pyarrow, mesa, dask) the ``--help`` path imported: none should be.
Not a pass/fail test.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
HEAVY = ("numpy", "numba", "pandas", "pyarrow", "mesa", "dask", "distributed", "pydantic", "yaml")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--repeat", type=int, default=10)
    a = ap.parse_args()
    print(f"{'command':<32}{'median s':>10}{'worst s':>10}")
    for args in (["--help"], ["run", "--help"], ["sweep", "--help"]):
        times = []
        for _ in range(a.repeat):
            t = time.perf_counter()
            subprocess.run([sys.executable, str(ROOT / "run_sim.py"), *args], cwd=ROOT, check=True,
                           capture_output=True)
            times.append(time.perf_counter() - t)
        print(f"{'run_sim.py ' + ' '.join(args):<32}{statistics.median(times):>10.3f}{max(times):>10.3f}")
    probe = ("import sys, runpy; sys.argv = ['run_sim.py', '--help']\n"
             "try:\n    runpy.run_path('run_sim.py', run_name='__main__')\nexcept SystemExit:\n    pass\n"
             f"print(sorted(m for m in {HEAVY!r} if m in sys.modules))")
    r = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, check=True)
    print(f"heavy modules imported by --help: {r.stdout.strip().splitlines()[-1]}")


if __name__ == "__main__":
    main()
