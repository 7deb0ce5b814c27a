"""Results to analyse: a results directory on disk, an ensemble held in memory, or conditions to run.

``load_results`` reads a results directory (consolidated ``runs.parquet`` or a directory of
parts) into a :class:`ResultSet`; ``ResultSet.from_results`` wraps tables held in memory.
:func:`runs_of` runs a set of conditions through ``perform`` (the one in-memory runner) for
the lever studies, claims, back-test, calibration and sensitivity designs.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import pandas as pd

from sim.experiments.store import read_table
from sim.inputs.condition import Condition


@dataclass
class ResultSet:
    """The tables of one ensemble (from a results directory or from memory) and its manifest.

    ``events`` and ``injects`` are read on first use; an ensemble run without the event
    log gives an empty ``events`` frame.
    """

    runs: pd.DataFrame
    manifest: dict = field(default_factory=dict)
    path: Path | None = None
    _events: pd.DataFrame | None = None
    _injects: pd.DataFrame | None = None

    @classmethod
    def from_results(cls, res: Any, manifest: dict | None = None) -> ResultSet:
        """Wrap ``sim.engine.ensemble.Results`` (or anything with runs/events/injects frames)."""
        return cls(runs=res.runs, manifest=dict(manifest or {}), _events=res.events, _injects=res.injects)

    def _table(self, given: pd.DataFrame | None, name: str) -> pd.DataFrame:
        """A table held in memory, else read from the results directory (empty when absent)."""
        if given is not None:
            return given
        if self.path is None:
            return pd.DataFrame()
        try:
            return read_table(self.path, name)
        except FileNotFoundError:
            return pd.DataFrame()

    @cached_property
    def events(self) -> pd.DataFrame:
        return self._table(self._events, "events")

    @cached_property
    def injects(self) -> pd.DataFrame:
        return self._table(self._injects, "injects")

    @property
    def title(self) -> str:
        m = self.manifest
        return str(m.get("title") or m.get("scenario") or (self.path.name if self.path else "results"))

    @property
    def label(self) -> str:
        """A short name for this condition: its levers and overlays."""
        m = self.manifest
        bits = [*m.get("levers", []), *(f"+{o}" for o in m.get("overlays", []))]
        return ", ".join(bits) if bits else "default settings"

    @property
    def hours_per_turn(self) -> float | None:
        return self.manifest.get("hours_per_turn")


def load_results(out: str | Path) -> ResultSet:
    """Read a results directory written by ``run_sim.py`` (any layout) into a ``ResultSet``."""
    from sim.errors import InputError

    out = Path(out)
    if not out.is_dir():
        raise InputError(out, "", "not a results directory")
    try:
        runs = read_table(out, "runs")
    except FileNotFoundError:
        raise InputError(out, "", "no runs table (runs.parquet or runs/part-*.parquet)") from None
    manifest: dict = {}
    for name in ("manifest.json", "job.json"):
        p = out / name
        if p.exists():
            try:
                manifest = json.loads(p.read_text())
            except json.JSONDecodeError as exc:
                raise InputError(p, "", f"not valid JSON ({exc.msg})") from None
            break
    return ResultSet(runs=runs, manifest=manifest, path=out)


def runs_of(conditions: Iterable[Condition], runs: int, seed: int = 0, *, evaluator: object | None = None,
            progress: bool | str = False) -> dict[Condition, pd.DataFrame]:
    """The runs table of each distinct condition, ``runs`` runs with one ``seed`` (common random numbers).

    One ``perform`` call for all of them, so an ``evaluator`` (a process pool, Dask) spreads
    every condition's chunks at once; a condition listed twice is run once.
    """
    from sim.experiments.perform import perform

    distinct = list(dict.fromkeys(conditions))
    named = {str(i): c for i, c in enumerate(distinct)}
    done = perform(named, runs, seed, evaluator=evaluator, progress=progress)
    return {c: done[name].runs for name, c in named.items()}
