"""The manifest: what produced a results folder (inputs with content hashes, seed, versions, command).

Written last by a job (``sim.experiments.jobs``), so its presence means the results are complete;
the files themselves are written by ``sim.experiments.store``.
"""

from __future__ import annotations

import platform
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


def _parameter_set(spec: Spec) -> dict:
    """Which parameter set the inputs used, its hash and its provenance (data, command, commit)."""
    from sim.inputs.parameters import entry

    return entry(getattr(spec.applied, "parameter_set", ""))


def manifest(spec: Spec, seed: int, runs: int, argv: list[str] | None = None) -> dict:
    """What produced these results: inputs (with content hashes), seed, versions, command."""
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
        "package_version": _version("crisis-sim"),
        "versions": {p: _version(p) for p in ("mesa", "numpy", "pandas", "pyarrow", "pydantic")},
        "python": platform.python_version(),
        "command": argv if argv is not None else sys.argv,
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "files": ["runs.parquet", "events.parquet", "injects.parquet"],
    }
