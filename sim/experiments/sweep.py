"""Sweeps: a factorial grid or a Latin-hypercube sample over scenario settings, N runs per point.

A sweep file names a scenario, the factors (dotted override paths such as
``parameters.fog`` or ``postures.PRC.weights.threat.value``, plus ``levers`` and
``overlays``), a design and the runs per point::

    scenario: scenarios/senkaku.yaml
    runs_per_point: 2000
    seed: 1
    design:
      type: factorial
      factors:
        parameters.us_china_climate: [-0.5, 0, 0.5]
        levers: [[], [hotline_restored]]

Results (``sim.experiments.store`` layout) carry a ``point`` column; ``design.parquet`` maps each
point to its factor values and seed. By default every point uses the same seed
(common random numbers): run *i* meets the same random draws at every point, so a
difference between points is the factors' effect, not sampling noise, and comparisons
need far fewer runs. ``common_random_numbers: false`` gives each point its own seed,
spawned from the sweep seed (``SeedSequence(seed).spawn``), for independent estimates.

This module is the file model and its design (the points, their conditions and seeds); running
a sweep is ``sim.experiments.jobs.run_sweep``, and ``sim.experiments.store.summarise`` gives the
per-point probabilities.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from sim.errors import InputError
from sim.experiments.samplers import factorial, lhs_unit
from sim.experiments.seeds import MAX_SEED
from sim.inputs.condition import Condition

if TYPE_CHECKING:
    import pandas as pd

LIST_FACTORS = ("levers", "overlays")
KEY = re.compile(r"^[A-Za-z_]\w*(\.\w+)+$")
MAX_POINTS = 100_000
MAX_PROBES = 200


class _Strict(BaseModel):
    """Unknown keys are errors and values are not coerced (``"no"`` is not false, ``"1"`` not 1)."""

    model_config = ConfigDict(extra="forbid", strict=True)


def _check_factor_keys(factors: dict[str, Any]) -> dict[str, Any]:
    for key in factors:
        if key not in LIST_FACTORS and not KEY.match(key):
            raise ValueError(f"factor {key!r}: expected a dotted path such as parameters.fog, or levers/overlays")
    return factors


class Choice(_Strict):
    """A discrete factor in a Latin hypercube: its strata are spread evenly over these values."""

    values: list[Any] = Field(min_length=1)


class Factorial(_Strict):
    """Every combination of the factors' values (the first factor varies slowest)."""

    type: Literal["factorial"]
    factors: dict[str, list[Any]] = Field(min_length=1)

    @field_validator("factors")
    @classmethod
    def _factors(cls, v: dict[str, list[Any]]) -> dict[str, list[Any]]:
        for key, values in v.items():
            if not values:
                raise ValueError(f"factor {key!r} has no values")
        return _check_factor_keys(v)


class LatinHypercube(_Strict):
    """``samples`` points; each numeric factor ``[low, high]`` is cut into ``samples`` equal strata,
    each used once (McKay et al. 1979); ``{values: [...]}`` factors are discrete."""

    type: Literal["latin_hypercube"]
    samples: int = Field(ge=1, le=MAX_POINTS)
    seed: int = Field(0, ge=0, le=MAX_SEED)
    factors: dict[str, Annotated[list[float], Field(min_length=2, max_length=2)] | Choice] = Field(
        min_length=1, description="[low, high] for a numeric factor, or {values: [...]}.")

    @field_validator("factors")
    @classmethod
    def _factors(cls, v: dict[str, Any]) -> dict[str, Any]:
        for key, rng in v.items():
            if isinstance(rng, list) and not (math.isfinite(rng[0]) and math.isfinite(rng[1]) and rng[0] < rng[1]):
                raise ValueError(f"factor {key!r}: expected [low, high], finite numbers with low < high")
            if key in LIST_FACTORS and not isinstance(rng, Choice):
                raise ValueError(f"factor {key!r}: use {{values: [[...], ...]}}")
        return _check_factor_keys(v)


class SweepFile(_Strict):
    """A sweep: one scenario, fixed settings, a design over factors, runs per design point."""

    scenario: str = Field(description="Scenario file: relative to the sweep file, the working directory "
                                      "or the project root.")
    title: str = ""
    runs_per_point: int = Field(ge=1, le=100_000_000, description="Runs per point (the cap with until_ci).")
    seed: int = Field(0, ge=0, le=MAX_SEED, description="Root seed, 0 .. 2**63 - 1.")
    common_random_numbers: bool = Field(True, description="Same seed at every point (see module docs).")
    events: bool = Field(False, description="Write the per-actor-turn event log (large).")
    until_ci: float | None = Field(None, gt=0, lt=0.5, description="Per point: stop once every headline "
                                   "probability's 95% half-width is below this.")
    chunk_size: int | None = Field(None, ge=1)
    set: dict[str, Any] = Field(default_factory=dict, description="Overrides applied at every point.")
    levers: list[str] = Field(default_factory=list)
    overlays: list[str] = Field(default_factory=list)
    design: Annotated[Factorial | LatinHypercube, Field(discriminator="type")]

    @field_validator("set")
    @classmethod
    def _set(cls, v: dict[str, Any]) -> dict[str, Any]:
        for key in v:
            if not KEY.match(key):
                raise ValueError(f"{key!r}: expected a dotted path such as parameters.fog")
        return v

    @model_validator(mode="after")
    def _no_clash(self) -> SweepFile:
        both = sorted(set(self.set) & set(self.design.factors))
        if both:
            raise ValueError(f"{', '.join(both)} is both fixed (set) and a factor")
        n = self.n_points
        if n > MAX_POINTS:
            raise ValueError(f"the design has {n:,} points (at most {MAX_POINTS:,})")
        return self

    @property
    def n_points(self) -> int:
        d = self.design
        if isinstance(d, Factorial):
            n = 1
            for v in d.factors.values():
                n *= len(v)
            return n
        return d.samples


@dataclass(frozen=True)
class DesignPoint:
    """One point of the design: its factor values, the condition they make, and its seed."""

    index: int
    values: dict[str, Any]  # factor -> value at this point
    condition: Condition
    seed: int


def load_sweep(path: str | Path) -> SweepFile:
    """Read and validate a sweep file (safe YAML; bad input is one InputError line)."""
    from sim.inputs.loader import read_yaml, validate

    data, node = read_yaml(path)
    return validate(SweepFile, data, path, node)


def as_sweep(sweep: str | Path | SweepFile | dict) -> tuple[SweepFile, Path | None, bytes]:
    """A sweep given as a file, a dict in its format or a ``SweepFile``; with its file (or None)
    and the bytes that identify it (the file as written), which the manifest hashes."""
    if isinstance(sweep, str | Path):
        return load_sweep(sweep), Path(sweep), Path(sweep).read_bytes()
    if isinstance(sweep, dict):
        from sim.inputs.loader import validate

        return validate(SweepFile, sweep, "sweep", None), None, json.dumps(sweep, sort_keys=True, default=str).encode()
    return sweep, None, sweep.model_dump_json().encode()


def _as_list(key: str, v: Any, where: str) -> tuple[str, ...]:
    if v is None:
        return ()
    if isinstance(v, str):
        return (v,)
    if isinstance(v, list) and all(isinstance(x, str) for x in v):
        return tuple(v)
    raise InputError(where, f"design.factors.{key}", f"expected a list of ids, got {v!r}")


def point_seed(seed: int, index: int, common: bool) -> int:
    """The seed of a design point: the sweep seed (common random numbers) or a spawned child."""
    import numpy as np

    if common:
        return int(seed)
    state = np.random.SeedSequence(int(seed), spawn_key=(index,)).generate_state(1, np.uint64)[0]
    return int(state >> np.uint64(1))  # fits int64 (Parquet)


def design_values(sweep: SweepFile) -> list[dict[str, Any]]:
    """Factor values of every point, in point order."""
    d = sweep.design
    if isinstance(d, Factorial):
        return factorial(d.factors)
    keys = list(d.factors)
    u = lhs_unit(d.samples, len(keys), d.seed)
    rows = []
    for i in range(d.samples):
        row = {}
        for j, key in enumerate(keys):
            f = d.factors[key]
            if isinstance(f, Choice):
                row[key] = f.values[min(int(u[i, j] * len(f.values)), len(f.values) - 1)]
            else:
                row[key] = float(f[0] + u[i, j] * (f[1] - f[0]))
        rows.append(row)
    return rows


def design_points(sweep: SweepFile, where: str = "sweep", scenario: str | Path | None = None) -> list[DesignPoint]:
    """The design: condition and seed of every point (fixed settings first, factors after).

    ``scenario``: the scenario file as resolved (``resolve_scenario``); default as the sweep names it.
    """
    base = Condition(str(scenario or sweep.scenario), tuple(sweep.levers), tuple(sweep.overlays),
                     tuple(sweep.set.items()))
    out = []
    for i, values in enumerate(design_values(sweep)):
        levers = _as_list("levers", values["levers"], where) if "levers" in values else ()
        overlays = _as_list("overlays", values["overlays"], where) if "overlays" in values else ()
        overrides = [(k, v) for k, v in values.items() if k not in LIST_FACTORS]
        out.append(DesignPoint(i, values, base.plus(levers=levers, overlays=overlays, overrides=overrides),
                               point_seed(sweep.seed, i, sweep.common_random_numbers)))
    return out


def design_frame(sweep: SweepFile, points: list[DesignPoint]) -> pd.DataFrame:
    """One row per point: ``point``, ``seed`` and a column per factor (lists of ids joined by '+')."""
    import pandas as pd

    cols: dict[str, Any] = {"point": [p.index for p in points], "seed": [p.seed for p in points]}
    for key in sweep.design.factors:
        vals = [p.values[key] for p in points]
        if key in LIST_FACTORS:
            vals = ["+".join(_as_list(key, v, "")) for v in vals]
        elif not (all(isinstance(v, bool) for v in vals) or all(isinstance(v, str) for v in vals)
                  or all(isinstance(v, int | float) and not isinstance(v, bool) for v in vals)):
            vals = [json.dumps(v) for v in vals]
        cols[key] = vals
    df = pd.DataFrame(cols)
    df["point"] = df["point"].astype("int32")
    df["seed"] = df["seed"].astype("int64")
    return df


def resolve_scenario(name: str, sweep_path: Path | None) -> Path:
    """Scenario path: absolute, or relative to the sweep file, the working directory, the project root."""
    from sim.inputs.library import ROOT

    p = Path(name)
    if p.is_absolute():
        return p
    for base in ([sweep_path.parent] if sweep_path else []) + [Path.cwd(), ROOT]:
        if (base / p).exists():
            return (base / p).resolve()
    raise InputError(sweep_path or "sweep", "scenario", f"file not found: {name}")


def probes(sweep: SweepFile, points: list[DesignPoint]) -> list[DesignPoint]:
    """Points that between them use every factor value (discrete) or both extremes (ranges),
    compiled up front so bad values fail before any compute."""
    picked: dict[int, None] = {0: None}
    for key in sweep.design.factors:
        seen: dict[str, int] = {}
        for p in points:
            seen.setdefault(json.dumps(p.values[key], sort_keys=True, default=str), p.index)
        idx = list(seen.values())
        if isinstance(sweep.design, LatinHypercube) and not isinstance(sweep.design.factors[key], Choice):
            idx = [min(idx, key=lambda i: points[i].values[key]), max(idx, key=lambda i: points[i].values[key])]
        for i in idx:
            picked.setdefault(i, None)
    return [points[i] for i in list(picked)[:MAX_PROBES]]
