"""Re-run a results folder from its manifest alone, and check the new files against the old, byte by byte.

The manifest records what the user asked for (``condition``: scenario, levers, overlays, their
own ``--set`` values; for a sweep the whole sweep file), the seed and the run count, and the
content hash of every input. A re-run compiles the same condition, refuses if an input changed
since (its hash differs), runs the job into a new folder and compares each Parquet file.
Byte identity also needs the same pandas and pyarrow versions (their versions are written into
the files); a difference there is named rather than reported as a changed result.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from sim.errors import InputError
from sim.experiments.store import MANIFEST_FILE, read_json


@dataclass(frozen=True)
class Rerun:
    """The folder re-run, the new folder, and each file's verdict (True: byte-identical)."""

    source: Path
    out: Path
    identical: dict[str, bool]
    version_notes: list[str]

    @property
    def ok(self) -> bool:
        return all(self.identical.values())


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _version_notes(man: dict) -> list[str]:
    from sim.experiments.manifest import _version

    notes = []
    for pkg, was in man.get("versions", {}).items():
        now = _version(pkg)
        if pkg in ("pandas", "pyarrow") and now != was:
            notes.append(f"{pkg} {now} here, {was} in the manifest: Parquet bytes may differ, content should not")
    return notes


def rerun(source: str | Path, out: str | Path | None = None, *, jobs: int | None = None,
          progress: bool | str = False) -> Rerun:
    """Re-run the job that wrote ``source`` into ``out`` (default ``<source>-rerun``) and compare."""
    source = Path(source)
    man = read_json(source / MANIFEST_FILE)
    if man is None:
        raise InputError(source, "", "no manifest.json: not a completed results folder")
    out = Path(out) if out else source.with_name(source.name + "-rerun")
    if out.resolve() == source.resolve():
        raise InputError(out, "--out", "must differ from the folder being re-run")
    res = _rerun_sweep(man, out, jobs, progress) if man.get("kind") == "sweep" else _rerun_job(man, out, jobs, progress)
    identical = {f: (source / f).exists() and (res.out / f).exists() and _sha(source / f) == _sha(res.out / f)
                 for f in man.get("files", []) if f.endswith(".parquet")}
    return Rerun(source, res.out, identical, _version_notes(man))


def _rerun_job(man: dict, out: Path, jobs: int | None, progress: bool | str):
    from sim.experiments.jobs import run_job
    from sim.inputs.compile import compile_scenario
    from sim.inputs.condition import Condition

    asked = man.get("condition") or {"scenario": man.get("scenario_file"), "levers": man.get("levers", []),
                                     "overlays": man.get("overlays", []), "overrides": man.get("overrides", [])}
    cond = Condition(asked["scenario"], tuple(asked["levers"]), tuple(asked["overlays"]),
                     tuple((k, v) for k, v in asked["overrides"]))
    spec = compile_scenario(cond)
    if man.get("content_hash") and spec.content_hash != man["content_hash"]:
        changed = sorted(k for k, v in spec.file_hashes.items() if man.get("file_hashes", {}).get(k) != v)
        raise InputError(asked["scenario"], "", "the inputs changed since these results were made "
                         f"({', '.join(changed) or 'content hash'} differ); the re-run would not reproduce them")
    job = man.get("job", {})
    return run_job(cond, int(job.get("runs", man["runs"])), int(man["seed"]), out, events=bool(man.get("events", True)),
                   until_ci=job.get("until_ci"), ci_step=job.get("ci_step") or 1_000, jobs=jobs, progress=progress,
                   force=False)


def _rerun_sweep(man: dict, out: Path, jobs: int | None, progress: bool | str):
    from sim.experiments.jobs import run_sweep

    sweep = dict(man["sweep"])
    sweep["scenario"] = man["scenario_file"]  # resolved when it ran
    return run_sweep(sweep, out, jobs=jobs, progress=progress, force=False)
