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
"""

from __future__ import annotations

import hashlib
import itertools
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from sim.errors import InputError

LIST_FACTORS = ("levers", "overlays")
KEY = re.compile(r"^[A-Za-z_]\w*(\.\w+)+$")
MAX_POINTS = 100_000
MAX_PROBES = 200


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


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
    seed: int = Field(0, ge=0)
    factors: dict[str, tuple[float, float] | Choice] = Field(min_length=1)

    @field_validator("factors")
    @classmethod
    def _factors(cls, v: dict[str, Any]) -> dict[str, Any]:
        for key, rng in v.items():
            if isinstance(rng, tuple) and not rng[0] < rng[1]:
                raise ValueError(f"factor {key!r}: expected [low, high] with low < high")
            if key in LIST_FACTORS and not isinstance(rng, Choice):
                raise ValueError(f"factor {key!r}: use {{values: [[...], ...]}}")
        return _check_factor_keys(v)


class SweepFile(_Strict):
    """A sweep: one scenario, fixed settings, a design over factors, runs per design point."""

    scenario: str = Field(description="Scenario file: relative to the sweep file, the working directory "
                                      "or the project root.")
    title: str = ""
    runs_per_point: int = Field(ge=1, le=100_000_000, description="Runs per point (the cap with until_ci).")
    seed: int = Field(0, ge=0)
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
    index: int
    values: dict[str, Any]  # factor -> value at this point
    overrides: tuple[tuple[str, Any], ...]
    levers: tuple[str, ...]
    overlays: tuple[str, ...]
    seed: int


def load_sweep(path: str | Path) -> SweepFile:
    """Read and validate a sweep file (safe YAML; bad input is one InputError line)."""
    from sim.inputs.loader import read_yaml, validate

    data, node = read_yaml(path)
    return validate(SweepFile, data, path, node)


def _as_list(key: str, v: Any, where: str) -> tuple[str, ...]:
    if v is None:
        return ()
    if isinstance(v, str):
        return (v,)
    if isinstance(v, list) and all(isinstance(x, str) for x in v):
        return tuple(v)
    raise InputError(where, f"design.factors.{key}", f"expected a list of ids, got {v!r}")


def lhs_unit(samples: int, n_factors: int, seed: int):
    """A Latin-hypercube sample on [0, 1)^k: per factor, one point in each of ``samples`` strata."""
    import numpy as np

    rng = np.random.default_rng(np.random.SeedSequence(seed))
    u = np.empty((samples, n_factors))
    for j in range(n_factors):
        u[:, j] = (rng.permutation(samples) + rng.random(samples)) / samples
    return u


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
    keys = list(d.factors)
    if isinstance(d, Factorial):
        return [dict(zip(keys, combo, strict=True)) for combo in itertools.product(*d.factors.values())]
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


def design_points(sweep: SweepFile, where: str = "sweep") -> list[DesignPoint]:
    """The design: settings and seed of every point (fixed settings first, factors after)."""
    fixed = tuple(sweep.set.items())
    out = []
    for i, values in enumerate(design_values(sweep)):
        overrides = list(fixed)
        levers, overlays = list(sweep.levers), list(sweep.overlays)
        for key, v in values.items():
            if key == "levers":
                levers += [x for x in _as_list(key, v, where) if x not in levers]
            elif key == "overlays":
                overlays += [x for x in _as_list(key, v, where) if x not in overlays]
            else:
                overrides.append((key, v))
        out.append(DesignPoint(i, values, tuple(overrides), tuple(levers), tuple(overlays),
                               point_seed(sweep.seed, i, sweep.common_random_numbers)))
    return out


def design_frame(sweep: SweepFile, points: list[DesignPoint]):
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


def _probes(sweep: SweepFile, points: list[DesignPoint]) -> list[DesignPoint]:
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


def run_sweep(sweep: str | Path | SweepFile | dict, out: str | Path | None = None, *, jobs: int | None = None,
              backend: str = "local", scheduler: str | None = None, evaluator=None, chunk_size: int | None = None,
              resume: bool = False, batch_size: int = 5_000, progress=False, consolidate: bool = True,
              argv: list[str] | None = None):
    """Run every design point of a sweep into ``out`` (chunked, parallel, resumable).

    ``sweep``: a sweep file, a ``SweepFile`` or a dict in its format. Returns a
    ``sim.experiments.jobs.JobResult``; read the results with ``sim.experiments.store.read_runs(out)`` and
    ``sim.experiments.store.read_design(out)``, or per-point probabilities with ``summarise(out)``.
    """
    from sim.experiments.jobs import Job, Point, execute, fingerprint
    from sim.experiments.manifest import manifest
    from sim.experiments.store import parquet_bytes
    from sim.inputs.compile import compile_scenario, remember
    from sim.inputs.condition import Condition

    sweep_path = None
    if isinstance(sweep, str | Path):
        sweep_path = Path(sweep)
        sf = load_sweep(sweep_path)
        raw = sweep_path.read_bytes()
    elif isinstance(sweep, dict):
        from sim.inputs.loader import validate

        sf = validate(SweepFile, sweep, "sweep", None)
        raw = json.dumps(sweep, sort_keys=True, default=str).encode()
    else:
        sf = sweep
        raw = sf.model_dump_json().encode()
    where = str(sweep_path or "sweep")
    scen = resolve_scenario(sf.scenario, sweep_path)
    points = design_points(sf, where)
    specs = {}
    for p in _probes(sf, points):
        try:
            spec = compile_scenario(Condition(str(scen), p.levers, p.overlays, p.overrides))
        except InputError as exc:
            fld = next((k for k in sf.design.factors if k in (exc.field or "")), None)
            what = f"value {p.values[fld]!r} rejected" if fld else "rejected"
            raise InputError(where, f"design.factors.{fld}" if fld else f"design point {p.index}",
                             f"{what}: {exc}") from None
        remember(Condition(str(scen), p.levers, p.overlays, p.overrides), spec)
        specs[p.index] = spec
    base = specs[0]
    out = Path(out) if out else Path("results") / f"sweep-{sweep_path.stem if sweep_path else base.scenario.id}"
    design = design_frame(sf, points)
    design_hash = hashlib.sha256(json.dumps([[p.overrides, p.levers, p.overlays, p.seed] for p in points],
                                            sort_keys=True, default=str).encode()).hexdigest()
    inputs = fingerprint(base)
    identity = {"kind": "sweep", "inputs": hashlib.sha256(json.dumps(inputs, sort_keys=True).encode()).hexdigest(),
                "design": design_hash, "points": len(points), "runs_per_point": sf.runs_per_point,
                "seed": sf.seed, "common_random_numbers": sf.common_random_numbers, "events": sf.events,
                "until_ci": sf.until_ci, "ci_step": 1_000 if sf.until_ci else None}

    def write_design(d: Path) -> None:
        import pyarrow as pa

        from sim.experiments.store import atomic_bytes

        atomic_bytes(d / "design.parquet", parquet_bytes(pa.Table.from_pandas(design, preserve_index=False)))

    def build_manifest(final: list[int], info: dict) -> dict:
        m = manifest(base, sf.seed, sum(final), argv)
        for k in ("overrides", "levers", "overlays"):
            m.pop(k, None)
        m.update({"kind": "sweep", "sweep_file": where, "sweep_hash": hashlib.sha256(raw).hexdigest(),
                  "sweep": sf.model_dump(mode="json"), "scenario_file": str(scen), "points": len(points),
                  "runs_per_point": sf.runs_per_point, "point_runs": final,
                  "common_random_numbers": sf.common_random_numbers})
        return m

    def error_field(c, fld: str) -> tuple[str, str]:
        return where, f"design point {c.point}: {fld}"

    job = Job(kind="sweep", scenario=scen,
              points=[Point(p.index, Condition(str(scen), p.levers, p.overlays, p.overrides), p.seed, sf.runs_per_point)
                      for p in points],
              events=sf.events, identity=identity, inputs=inputs, title=sf.title or f"sweep {base.scenario.id}",
              until_ci=sf.until_ci, manifest=build_manifest, write_extra=write_design, error_field=error_field)
    return execute(job, out, jobs=jobs, backend=backend, scheduler=scheduler, evaluator=evaluator,
                   chunk_size=chunk_size or sf.chunk_size, resume=resume, batch_size=batch_size, progress=progress,
                   consolidate=consolidate)


def summarise(out: str | Path):
    """Per design point: factor values, runs, and each headline probability (outcome classes and
    use of force) as ``p_<name>`` with its 95% Wilson interval ``lo_<name>``..``hi_<name>``."""
    import numpy as np
    import pandas as pd

    from sim.analysis.tables import wilson
    from sim.experiments.measures import HEADLINE
    from sim.experiments.store import read_design, read_runs

    table = read_design(out).set_index("point")
    runs = read_runs(out, ["point", "outcome", "use_of_force"])
    counts = pd.crosstab(runs["point"], runs["outcome"].astype(str))
    counts["use_of_force"] = runs.groupby("point")["use_of_force"].sum()
    counts = counts.reindex(index=table.index, columns=list(HEADLINE), fill_value=0)
    n = runs.groupby("point").size().reindex(table.index, fill_value=0).to_numpy()
    table["runs"] = n
    for name in HEADLINE:
        k = counts[name].to_numpy()
        lo, hi = wilson(k, n)
        table[f"p_{name}"] = k / np.maximum(n, 1)
        table[f"lo_{name}"], table[f"hi_{name}"] = lo, hi
    return table.reset_index()
