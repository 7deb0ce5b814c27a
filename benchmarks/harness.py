"""A benchmark harness that a shared machine cannot fool: interleaved blocks, CPU time, load recorded.

Why: on a VM shared with other people's test suites, one cold pass of A followed by a best-of-3
of B at another moment measures the load, not the code (the same script gave 426x and 212x an
hour apart). Here every contender runs in its own long-lived subprocess (so the code of an old
commit can be imported beside today's), the blocks are interleaved A B C D / D C B A ... over
several rounds, each block reports the CPU time of its own process (``time.process_time``), and
the load average is sampled before and after every block. A ratio is computed per round from
blocks run back to back and reported as median (min-max); so is each per-unit cost.

The pre-issue kernel is a frozen copy of a commit extracted with ``git archive`` into a temporary
directory (no code of it is vendored into the package, no worktree or branch is created).
"""

from __future__ import annotations

import json
import os
import shutil
import statistics
import subprocess
import sys
import tarfile
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BLOCK = Path(__file__).resolve().parent / "_block.py"
#: The commit before issue 17: the array kernel every ratio of that issue is measured against.
BASELINE = "86ef001"
#: The last commit before the turn was compiled (the same rules in NumPy): today's output must equal its
#: byte for byte on the same data (86ef001's behaviour differs: it is a speed baseline only).
SAME_AS = "cba81ca"  # main before the compiled turn: the record-hazard data with the NumPy engine


def load() -> float:
    """One-minute load average: the context every figure must be read in."""
    return os.getloadavg()[0]


def extract(commit: str = BASELINE, dest: Path | None = None) -> Path:
    """A pristine copy of ``commit``'s tree (``git archive``), reused if already extracted."""
    dest = dest or Path(tempfile.gettempdir()) / f"crisis-sim-{commit}"
    if (dest / "sim").is_dir():
        return dest
    tmp = Path(tempfile.mkdtemp(prefix=f".crisis-sim-{commit}-", dir=dest.parent))
    archive = tmp / "tree.tar"
    subprocess.run(["git", "-C", str(ROOT), "archive", "--format=tar", "-o", str(archive), commit], check=True)
    with tarfile.open(archive) as tf:
        tf.extractall(tmp / "tree", filter="data")
    os.replace(tmp / "tree", dest)
    shutil.rmtree(tmp, ignore_errors=True)
    return dest


class Contender:
    """A long-lived subprocess that imports ``sim`` from ``tree`` and runs blocks on request.

    The same ``_block.py`` drives every tree, so both sides do exactly the same work around the
    call being timed; the subprocess times itself, so pipe traffic is not counted.
    """

    def __init__(self, name: str, tree: Path, env: dict[str, str] | None = None):
        self.name = name
        self.tree = tree
        full_env = {**os.environ, "PYTHONPATH": str(tree), "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1",
                    "MKL_NUM_THREADS": "1", **(env or {})}
        self.proc = subprocess.Popen([sys.executable, str(BLOCK)], cwd=tree, env=full_env, text=True,
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE)

    def run(self, **cmd) -> dict:
        """Send one command; return the block's measurements (``cpu``, ``wall``, ``digest`` ...)."""
        assert self.proc.stdin and self.proc.stdout
        self.proc.stdin.write(json.dumps(cmd) + "\n")
        self.proc.stdin.flush()
        line = self.proc.stdout.readline()
        if not line:
            raise RuntimeError(f"{self.name}: block process died on {cmd}")
        return json.loads(line)

    def close(self) -> None:
        if self.proc.poll() is None:
            assert self.proc.stdin
            self.proc.stdin.close()
            self.proc.wait(timeout=60)


@dataclass
class Series:
    """Per-unit CPU (and wall) seconds of one contender's blocks, with the load around each."""

    name: str
    units: str
    cpu: list[float] = field(default_factory=list)
    wall: list[float] = field(default_factory=list)
    loads: list[float] = field(default_factory=list)
    digests: set = field(default_factory=set)
    rows_digests: set = field(default_factory=set)
    turns: list[float] = field(default_factory=list)  # mean turns per run of each block (ensemble blocks)

    def add(self, res: dict, n: int, before: float) -> None:
        if "turns" in res:
            self.turns.append(res["turns"])
        self.cpu.append(res["cpu"] / n)
        self.wall.append(res["wall"] / n)
        self.loads += [before, load()]
        self.digests.add(res.get("digest"))
        if "rows_digest" in res:
            self.rows_digests.add(res["rows_digest"])


def interleave(blocks: dict[str, tuple[Contender, dict, int, str]], rounds: int, warmup: bool = True
               ) -> dict[str, Series]:
    """Run every block once per round, alternating the order (A B C, C B A, ...) so drift in load
    hits all contenders alike. ``blocks`` maps a name to (contender, command, units per block, unit
    name). A warm-up round (imports, compile, caches) is run first and discarded."""
    out = {name: Series(name, unit) for name, (_, _, _, unit) in blocks.items()}
    names = list(blocks)
    if warmup:
        for name in names:
            c, cmd, _, _ = blocks[name]
            c.run(**{**cmd, "warmup": True})
    for r in range(rounds):
        for name in names if r % 2 == 0 else names[::-1]:
            c, cmd, n, _ = blocks[name]
            before = load()
            out[name].add(c.run(**cmd), n, before)
    return out


def median_range(xs: list[float]) -> tuple[float, float, float]:
    return statistics.median(xs), min(xs), max(xs)


def ratios(slow: Series, fast: Series) -> list[float]:
    """Per-round ratios of per-unit CPU time (blocks of the same round ran back to back)."""
    return [s / f for s, f in zip(slow.cpu, fast.cpu, strict=True)]


def fmt_range(xs: list[float], scale: float = 1.0, digits: int = 2) -> str:
    m, lo, hi = median_range([x * scale for x in xs])
    return f"{m:.{digits}f} ({lo:.{digits}f}-{hi:.{digits}f})"


def machine() -> dict:
    """What the figures ran on, printed with them."""
    import numpy as np

    return {"cpus": os.cpu_count(), "python": sys.version.split()[0], "numpy": np.__version__,
            "load_start": round(load(), 2)}
