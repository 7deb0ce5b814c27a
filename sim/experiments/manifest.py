"""The manifest: what produced a results folder (inputs with content hashes, seed, versions, command).

Written last by a job (``sim.experiments.jobs``), so its presence means the results are complete;
the files themselves are written by ``sim.experiments.store``.
"""

from __future__ import annotations

import os
import platform
import shlex
import subprocess
import sys
from datetime import UTC, datetime
from importlib import metadata
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sim.inputs.compile import Spec


def _version(pkg: str) -> str:
    try:
        return metadata.version(pkg)
    except metadata.PackageNotFoundError:
        return "unknown"


def git_commit() -> dict[str, str | bool]:
    """The checkout's commit and whether files differ from it (nothing when installed from a wheel)."""
    from sim.inputs.library import CHECKOUT

    if CHECKOUT is None or not (CHECKOUT / ".git").exists():
        return {}
    try:
        head = subprocess.run(["git", "-C", str(CHECKOUT), "rev-parse", "HEAD"], capture_output=True, text=True,
                              timeout=10)
        dirty = subprocess.run(["git", "-C", str(CHECKOUT), "status", "--porcelain", "-uno", "--", "sim"],
                               capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        return {}
    if head.returncode != 0:
        return {}
    return {"git_commit": head.stdout.strip(), "git_dirty": bool(dirty.stdout.strip())}


def command_line(argv: list[str] | None) -> str:
    """The command as typed (``crisis-sim run ...``), for the reader; ``command`` keeps the list."""
    args = argv if argv is not None else sys.argv
    return shlex.join([os.path.basename(args[0]), *args[1:]]) if args else ""


def _parameter_set(spec: Spec) -> dict:
    """Which parameter set the inputs used, its hash and its provenance (data, command, commit)."""
    from sim.inputs.parameters import entry

    return entry(getattr(spec.applied, "parameter_set", ""))


def manifest(spec: Spec, seed: int, runs: int, argv: list[str] | None = None) -> dict:
    """What produced these results: inputs (with content hashes), the parameter set, seed, code
    version (package, model-code hash, git commit in a checkout), library versions and the exact
    command. Byte-identical Parquet needs the same pandas and pyarrow versions too (their
    versions are in the file footers)."""
    from sim.experiments.store import FORMAT
    from sim.experiments.worker import code_hash

    return {
        "scenario": spec.scenario.id,
        "scenario_file": spec.path,
        "content_hash": spec.content_hash,
        "file_hashes": spec.file_hashes,
        "seed": seed,
        "runs": runs,
        "notes": list(spec.notes),
        "days_per_turn": spec.dt,
        "overlays": list(spec.applied.overlays),
        "levers": list(spec.applied.levers),
        "overrides": [[k, v] for k, v in spec.applied.overrides],
        "parameter_set": _parameter_set(spec),
        "actors": list(spec.actor_ids),
        "variants": {a.id: a.variant for a in spec.scenario.actors if a.variant},
        "turns": spec.turns,
        "hours_per_turn": spec.hours,
        "parameters": spec.scenario.parameters.model_dump(mode="json"),
        "package_version": _version("crisis-sim"),
        "code_hash": code_hash(),
        **git_commit(),
        "format": FORMAT,
        "cwd": os.getcwd(),
        "command_line": command_line(argv),
        "versions": {p: _version(p) for p in ("mesa", "numpy", "pandas", "pyarrow", "pydantic")},
        "python": platform.python_version(),
        "command": argv if argv is not None else sys.argv,
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "files": ["runs.parquet", "events.parquet", "injects.parquet"],
    }
