"""Writing results: Parquet tables and a manifest, atomically.

Every file is written to a temporary name in the target directory and renamed into
place, so a crash or a full disk never leaves a truncated file, and files from an
earlier run stay intact until their replacement is complete.
"""

from __future__ import annotations

import json
import os
import platform
import sys
import tempfile
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from sim.engine.ensemble import Results
from sim.errors import InputError
from sim.inputs.compile import Spec


def _version(pkg: str) -> str:
    try:
        return metadata.version(pkg)
    except metadata.PackageNotFoundError:
        return "unknown"


def atomic_write(path: Path, write) -> None:
    """Call ``write(tmp_path)`` then rename the temporary file onto ``path``."""
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    try:
        write(Path(tmp))
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # mkstemp makes files owner-only; results are for sharing
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_parquet(df: pd.DataFrame, path: Path) -> None:
    """Deterministic Parquet: same frame, same bytes."""
    table = pa.Table.from_pandas(df, preserve_index=False)
    atomic_write(path, lambda p: pq.write_table(table, p, compression="zstd"))


def write_json(obj: Any, path: Path) -> None:
    def w(p: Path) -> None:
        p.write_text(json.dumps(obj, indent=2, sort_keys=True, default=str) + "\n")
    atomic_write(path, w)


def prepare_outdir(out: Path) -> Path:
    """Create the output directory or fail with a clear message."""
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InputError(out, "--out", f"cannot create output directory: {exc.strerror}") from None
    if not os.access(out, os.W_OK):
        raise InputError(out, "--out", "output directory is not writable")
    return out


def manifest(spec: Spec, seed: int, runs: int, argv: list[str] | None = None) -> dict:
    """What produced these results: inputs (with content hashes), seed, versions, command."""
    return {
        "scenario": spec.scenario.id,
        "scenario_file": spec.path,
        "content_hash": spec.content_hash,
        "file_hashes": spec.file_hashes,
        "seed": seed,
        "runs": runs,
        "overlays": list(spec.applied.overlays),
        "levers": list(spec.applied.levers),
        "overrides": [[k, v] for k, v in spec.applied.overrides],
        "actors": list(spec.actor_ids),
        "variants": {a.id: a.variant for a in spec.scenario.actors if a.variant},
        "turns": spec.turns,
        "hours_per_turn": spec.hours,
        "package_version": _version("crisis-sim"),
        "versions": {p: _version(p) for p in ("mesa", "numpy", "pandas", "pyarrow", "pydantic")},
        "python": platform.python_version(),
        "command": argv if argv is not None else sys.argv,
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "files": ["runs.parquet", "events.parquet", "injects.parquet"],
    }


def write_results(res: Results, out: Path, man: dict) -> None:
    """Write runs, events, injects and the manifest (last, so its presence means complete)."""
    write_parquet(res.runs, out / "runs.parquet")
    if len(res.events):
        write_parquet(res.events, out / "events.parquet")
    else:
        man = {**man, "files": [f for f in man["files"] if f != "events.parquet"]}
    write_parquet(res.injects, out / "injects.parquet")
    write_json(man, out / "manifest.json")
