"""Pattern-oriented calibration (Grimm et al. 2005) of the model's free constants by ABC-SMC (pyabc).

What is fitted, the priors, the scenarios and the target patterns are one data file,
``validation/calibration.yaml`` (``sim.inputs.schema.CalibrationFile``). Each pattern's observed
share is recomputed from the shipped ICB/MID extracts (:data:`OBSERVED`); its model counterpart
is a share of runs pooled over the scenarios of its trigger class (:data:`SIMULATED`). A particle
(one parameter vector) is simulated through ``perform`` on the project's evaluators with one
seed for every particle (common random numbers, so particles differ by their parameters, not
their draws). The distance is the sum over patterns of squared z-scores against the observed
share's binomial standard error (the observed samples are small: 71 to 236).

Outputs (``calibrate``), each written atomically in the output folder: ``abc.db`` (pyabc's
history, the checkpoint a resumed run continues), ``posterior.csv`` (last population, weights),
``diagnostics.json`` (epsilon, acceptance, effective sample size per generation; per pattern the
observed share, the baseline's and the 90% posterior-predictive interval), ``patterns.png`` and
``marginals.png``. ``parameter_set`` turns the result into a parameter-set file
(``sim.inputs.parameters``) with its provenance.
"""

from __future__ import annotations

import hashlib
import json
import math
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from sim.errors import InputError
from sim.inputs.condition import Condition
from sim.inputs.library import ROOT, VALIDATION_DIR
from sim.inputs.loader import load, load_shared
from sim.inputs.schema import CalibrationFile, ScenarioFile

if TYPE_CHECKING:
    from matplotlib.figure import Figure

CALIBRATION_FILE = VALIDATION_DIR / "calibration.yaml"
DATA_DIR = VALIDATION_DIR / "data"
CASE_SCENARIOS = VALIDATION_DIR / "scenarios"


@dataclass(frozen=True)
class Budget:
    """How much simulation a calibration spends (the results depend on it; the seed fixes them)."""

    population: int
    generations: int
    runs: int  # runs per scenario per particle
    max_evaluations: int
    ppc_draws: int  # posterior draws for the posterior-predictive intervals
    ppc_runs: int


#: ``tiny``: seconds, for tests and CI. ``real``: the documented calibration, about 25 minutes on two
#: cores (2-4 s per particle: six scenarios compiled and run 120 times each for 180 days):
#: population 40, 4 generations, at most 600 particles simulated (24 particles and 3 generations left
#: an effective sample of 4.6 of 24 with five parameters); 16 posterior draws of 240 runs per scenario
#: for the predictive intervals.
BUDGETS = {
    "tiny": Budget(population=4, generations=2, runs=8, max_evaluations=16, ppc_draws=3, ppc_runs=8),
    "real": Budget(population=40, generations=4, runs=120, max_evaluations=600, ppc_draws=16, ppc_runs=240),
}


# =============================================================================== observed patterns


def asian_actor_rows() -> pd.DataFrame:
    """ICB actor rows (icb2v15) of crises triggered after Aug 1945 in East or South-East Asia (geog 11, 12),
    with the system file's form of outcome (forout) joined on crisno."""
    a = pd.read_csv(DATA_DIR / "icb" / "icb2v15.csv", encoding="utf-8-sig")
    s = pd.read_csv(DATA_DIR / "icb" / "icb1v15.csv", encoding="utf-8-sig")[["crisno", "forout"]]
    post = (a.yrtrig > 1945) | ((a.yrtrig == 1945) & (a.motrig >= 9))
    return a[post & a.geog.isin([11, 12])].merge(s, on="crisno", how="left")


def _by_trigger(rows: pd.DataFrame, trigger: str) -> pd.DataFrame:
    if trigger == "non_violent":
        return rows[rows.triggr <= 7]
    if trigger == "violent":
        return rows[rows.triggr >= 8]
    return rows


def _icb(test: Callable[[pd.DataFrame], pd.Series]) -> Callable[[str], tuple[int, int]]:
    def count(trigger: str) -> tuple[int, int]:
        rows = _by_trigger(asian_actor_rows(), trigger)
        return int(test(rows).sum()), len(rows)
    return count


def _mid(level: int) -> Callable[[str], tuple[int, int]]:
    def count(trigger: str) -> tuple[int, int]:
        from sim.analysis.validation import mid_disputes

        d = mid_disputes("NEA50")
        return int((d.hostlev == level).sum()), len(d)
    return count


def _nuclear_war(trigger: str) -> tuple[int, int]:
    from sim.analysis.validation import nuclear_dyad_crises

    return 0, len(nuclear_dyad_crises())  # base_rates.md section 3: none of them a war between the two


#: Observed recipes: (count, denominator) for a trigger class.
OBSERVED: dict[str, Callable[[str], tuple[int, int]]] = {
    "icb_violent_response": _icb(lambda r: r.majres >= 8),
    "icb_serious_violence": _icb(lambda r: r.viol >= 3),
    "icb_short": _icb(lambda r: r.trgterra <= 20),
    "icb_within_120": _icb(lambda r: r.trgterra <= 120),
    "icb_agreement": _icb(lambda r: r.forout.isin([1, 2])),
    "mid_display": _mid(3),
    "mid_force": _mid(4),
    "mid_war": _mid(5),
    "icb_nuclear_dyad_war": _nuclear_war,
}


def observed(spec: CalibrationFile) -> pd.DataFrame:
    """Each pattern's observed count, denominator, share and its binomial standard error (Wilson-based,
    so a zero count still has one)."""
    from statsmodels.stats.proportion import proportion_confint

    rows = []
    for p in spec.patterns:
        k, n = OBSERVED[p.observed](p.trigger)
        lo, hi = proportion_confint(k, n, alpha=0.05, method="wilson")
        rows.append({"id": p.id, "label": p.label, "k": k, "n": n, "observed": k / n, "se": (hi - lo) / (2 * 1.96),
                     "obs_low90": proportion_confint(k, n, alpha=0.10, method="wilson")[0],
                     "obs_high90": proportion_confint(k, n, alpha=0.10, method="wilson")[1]})
    return pd.DataFrame(rows).set_index("id")


# =============================================================================== simulated patterns


def _militarised(r: pd.DataFrame, level: int) -> tuple[float, int]:
    m = r.peak_mid_hostility >= 2
    return float((r.peak_mid_hostility[m] == level).sum()), int(m.sum())


def _ended(r: pd.DataFrame) -> pd.Series:
    return r.end_form.astype(str) != "ongoing"


#: Model statistics over the pooled runs of a trigger class: (count, denominator).
SIMULATED: dict[str, Callable[[pd.DataFrame], tuple[float, int]]] = {
    "use_of_force": lambda r: (float(r.use_of_force.sum()), len(r)),
    "serious_clash": lambda r: (float(_measure(r, "serious_clash").sum()), len(r)),
    "ended_within_20_days": lambda r: (float((_ended(r) & (r.duration_days <= 20)).sum()), len(r)),
    "ended_within_120_days": lambda r: (float((_ended(r) & (r.duration_days <= 120)).sum()), len(r)),
    "agreement_if_ended": lambda r: (float((r.end_form.astype(str)[_ended(r)] == "agreement").sum()),
                                     int(_ended(r).sum())),
    "peak3_if_militarised": lambda r: _militarised(r, 3),
    "peak4_if_militarised": lambda r: _militarised(r, 4),
    "peak5_if_militarised": lambda r: _militarised(r, 5),
    "nuclear_dyad_war": lambda r: (float(r.nuclear_dyad_war.sum()), len(r)),
}


def _measure(r: pd.DataFrame, name: str) -> np.ndarray:
    from sim.experiments.measures import measure

    return measure(r, name)


def horizon_turns(spec: CalibrationFile, scenario: Path) -> int | None:
    """The scenario's ``turns.max`` for the file's ``horizon_days`` at the scenario's own turn length."""
    if spec.horizon_days is None:
        return None
    hours = float(load_shared(ScenarioFile, scenario).turns.hours)  # once per file, not per particle
    return max(1, math.ceil(spec.horizon_days * 24 / hours))


def conditions(spec: CalibrationFile, values: Mapping[str, float]) -> dict[str, Condition]:
    """One condition per calibration scenario with the parameter values as overrides (and the file's
    horizon, so crises can run as long as ICB's do)."""
    paths = {p.id: p.path for p in spec.parameters}
    overrides = [(paths[k], float(v)) for k, v in values.items()]
    out = {}
    for s in spec.scenarios:
        turns = horizon_turns(spec, ROOT / s.file)
        extra = [] if turns is None else [("turns.max", turns)]
        out[s.file] = Condition.of(ROOT / s.file, overrides=[*extra, *overrides], label=s.file)
    return out


def simulate(spec: CalibrationFile, values: Mapping[str, float], runs: int, seed: int, *,
             evaluator: object | None = None) -> dict[str, float]:
    """Each pattern's simulated share for one parameter vector (NaN when its denominator is empty)."""
    from sim.experiments.perform import perform

    done = perform(conditions(spec, values), runs, seed, evaluator=evaluator)
    by_class = {s.file: s.trigger for s in spec.scenarios}
    out = {}
    for p in spec.patterns:
        frames = [done[f].runs for f, t in by_class.items() if p.trigger in ("any", t)]
        k, n = SIMULATED[p.simulated](pd.concat(frames, ignore_index=True))
        out[p.id] = k / n if n else math.nan
    return out


def distance(sim: Mapping[str, float], obs: pd.DataFrame) -> float:
    """Sum over patterns of ((simulated - observed) / observed standard error)^2; a pattern the runs
    cannot measure (no denominator) counts as 3 standard errors off."""
    z2 = [9.0 if math.isnan(sim[i]) else ((sim[i] - r.observed) / r.se) ** 2 for i, r in obs.iterrows()]
    return float(sum(z2))


# =============================================================================== the fit


def check_independent(spec: CalibrationFile, where: Path) -> None:
    """Calibrate to patterns on shipped scenarios, never to the back-test cases (issue 13, item 8)."""
    for i, s in enumerate(spec.scenarios):
        path = (ROOT / s.file).resolve()
        if CASE_SCENARIOS.resolve() in path.parents:
            raise InputError(where, f"scenarios.{i}.file", "a back-test case's scenario cannot be calibrated to "
                                                           "(the back-test would no longer be out-of-sample)")
        if not path.exists():
            raise InputError(where, f"scenarios.{i}.file", f"scenario file not found: {s.file}")


def default_values(spec: CalibrationFile) -> dict[str, float]:
    """The current value of every free parameter (the baseline the calibration is compared with)."""
    from sim.inputs.library import ACTORS_DIR
    from sim.inputs.loader import read_yaml
    from sim.inputs.schema import Parameters

    base, _ = read_yaml(ACTORS_DIR / "baseline.yaml")
    out = {}
    for p in spec.parameters:
        head, _, rest = p.path.partition(".")
        if head == "parameters":
            out[p.id] = float(Parameters.model_fields[rest].default)
        else:
            node: Any = base
            for part in rest.split("."):
                node = node[part]
            out[p.id] = float(node)
    return out


def _prior(spec: CalibrationFile):
    import pyabc

    return pyabc.Distribution(**{p.id: pyabc.RV("uniform", p.prior.low, p.prior.high - p.prior.low)
                                 for p in spec.parameters})


@dataclass
class Calibration:
    """A finished calibration: the posterior, its diagnostics and where they were written."""

    out: Path
    posterior: pd.DataFrame  # one row per particle: parameter values and weight
    diagnostics: dict
    credible: bool


def _bar(progress: bool, total: int):
    from tqdm.auto import tqdm

    return tqdm(total=total, desc="calibrate", unit="particle", disable=not progress, file=sys.stderr)


def run_abc(spec: CalibrationFile, out: Path, budget: Budget, seed: int, *, resume: bool = False,
            evaluator: object | None = None, progress: bool = True):
    """ABC-SMC with pyabc; its history database ``out/abc.db`` is the checkpoint (``resume``
    continues the last run in it with the generations it still lacks)."""
    import logging

    import pyabc

    for name in ("ABC", "ABC.History", "ABC.Sampler", "ABC.Distance", "ABC.Epsilon"):
        logging.getLogger(name).setLevel(logging.WARNING)  # the progress bar says how far it is
    obs = observed(spec)
    db = out / "abc.db"
    bar = _bar(progress, budget.max_evaluations)

    def model(par: Mapping[str, float]) -> dict[str, float]:
        bar.update(1)
        return simulate(spec, {p.id: float(par[p.id]) for p in spec.parameters}, budget.runs, seed,
                        evaluator=evaluator)

    np.random.seed(seed % 2**32)
    abc = pyabc.ABCSMC(model, _prior(spec), lambda x, x0: distance(x, obs), population_size=budget.population,
                       sampler=pyabc.sampler.SingleCoreSampler())
    done_t = -1
    if resume and db.exists():
        h = pyabc.History(f"sqlite:///{db}")
        abc.load(f"sqlite:///{db}", h.id)
        done_t = h.max_t
    else:
        db.unlink(missing_ok=True)
        abc.new(f"sqlite:///{db}", {i: float(v) for i, v in obs.observed.items()})
    left = budget.generations - (done_t + 1)
    try:
        history = abc.run(max_nr_populations=max(left, 0), max_total_nr_simulations=budget.max_evaluations) \
            if left > 0 else abc.history
    finally:
        bar.close()
    return history, obs


def _weighted_median(x: np.ndarray, w: np.ndarray) -> float:
    order = np.argsort(x)
    cw = np.cumsum(w[order]) / w.sum()
    return float(x[order][np.searchsorted(cw, 0.5)])


def posterior_frame(history) -> pd.DataFrame:
    df, w = history.get_distribution(m=0, t=history.max_t)
    post = df.reset_index(drop=True).copy()
    post["weight"] = np.asarray(w, float)
    return post


def posterior_draws(post: pd.DataFrame, n: int, seed: int) -> list[dict[str, float]]:
    """``n`` parameter vectors drawn from the weighted posterior (seeded)."""
    rng = np.random.default_rng(seed)
    params = [c for c in post.columns if c != "weight"]
    idx = rng.choice(len(post), size=n, replace=True, p=post.weight / post.weight.sum())
    return [{c: float(post.iloc[i][c]) for c in params} for i in idx]


def point_estimate(post: pd.DataFrame) -> dict[str, float]:
    """The weighted posterior median of each parameter."""
    w = post.weight.to_numpy(float)
    return {c: _weighted_median(post[c].to_numpy(float), w) for c in post.columns if c != "weight"}


def predictive(spec: CalibrationFile, draws: list[dict[str, float]], runs: int, seed: int, *,
               evaluator: object | None = None, progress: bool = True) -> pd.DataFrame:
    """Each pattern simulated at each posterior draw (one row per draw)."""
    bar = _bar(progress, len(draws))
    rows = []
    try:
        for d in draws:
            rows.append(simulate(spec, d, runs, seed, evaluator=evaluator))
            bar.update(1)
    finally:
        bar.close()
    return pd.DataFrame(rows)


def fit_table(obs: pd.DataFrame, ppc: pd.DataFrame, base: Mapping[str, float],
              point: Mapping[str, float]) -> pd.DataFrame:
    """Per pattern: observed share [90%], baseline, calibrated point, 90% posterior-predictive interval, inside."""
    t = obs[["label", "k", "n", "observed", "obs_low90", "obs_high90"]].copy()
    t["baseline"] = [base[i] for i in t.index]
    t["calibrated"] = [point[i] for i in t.index]
    t["ppc_low"] = [float(np.nanquantile(ppc[i], 0.05)) for i in t.index]
    t["ppc_high"] = [float(np.nanquantile(ppc[i], 0.95)) for i in t.index]
    t["inside"] = (t.ppc_low <= t.observed) & (t.observed <= t.ppc_high)
    return t


def generations(history) -> list[dict[str, float]]:
    import pyabc

    pops = history.get_all_populations()
    rows = []
    for r in pops.itertuples():
        if r.t < 0:
            continue
        _, w = history.get_distribution(m=0, t=int(r.t))
        rows.append({"t": int(r.t), "epsilon": float(r.epsilon), "simulations": int(r.samples),
                     "particles": int(r.particles), "acceptance": float(r.particles / max(r.samples, 1)),
                     "ess": float(pyabc.weighted_statistics.effective_sample_size(np.asarray(w)))})
    return rows


def calibrate(file: str | Path = CALIBRATION_FILE, out: str | Path = "results/calibration", *,
              budget: Budget | str = "real", seed: int | None = None, resume: bool = False,
              evaluator: object | None = None, progress: bool = True,
              argv: list[str] | None = None) -> Calibration:
    """Fit the file's parameters to its patterns; write posterior, diagnostics and figures to ``out``."""
    from sim.experiments.store import atomic_write, write_json_atomic

    file = Path(file)
    spec = load(CalibrationFile, file)
    check_independent(spec, file)
    b = BUDGETS[budget] if isinstance(budget, str) else budget
    seed = spec.seed if seed is None else seed
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    commit = git_commit()  # the code the fit runs on (taken now: later commits would mislabel it)
    history, obs = run_abc(spec, out, b, seed, resume=resume, evaluator=evaluator, progress=progress)
    post = posterior_frame(history)
    point = point_estimate(post)
    draws = posterior_draws(post, b.ppc_draws, seed)
    ppc = predictive(spec, draws, b.ppc_runs, seed + 1, evaluator=evaluator, progress=progress)
    defaults = default_values(spec)
    base_sim = simulate(spec, defaults, b.ppc_runs, seed + 1, evaluator=evaluator)
    point_sim = simulate(spec, point, b.ppc_runs, seed + 1, evaluator=evaluator)
    fit = fit_table(obs, ppc, base_sim, point_sim)
    d_base, d_point = distance(base_sim, obs), distance(point_sim, obs)
    credible = bool(d_point < d_base and fit.inside.sum() >= (~fit.inside).sum())
    diag = {"calibration_file": _rel(file), "calibration_sha256": _sha(file), "seed": seed, "budget": b.__dict__,
            "generations": generations(history), "defaults": defaults, "point": point,
            "distance": {"baseline": d_base, "calibrated": d_point},
            "patterns_inside_90": int(fit.inside.sum()), "patterns": len(fit), "credible": credible,
            "fit": json.loads(fit.to_json(orient="index")), "data": data_provenance(spec),
            "command": argv if argv is not None else sys.argv, "commit": commit,
            "created": datetime.now(UTC).isoformat(timespec="seconds")}
    atomic_write(out / "posterior.csv", lambda p: post.to_csv(p, index=False))
    atomic_write(out / "fit.csv", lambda p: fit.to_csv(p))
    write_json_atomic(diag, out / "diagnostics.json")
    _save(patterns_figure(fit), out / "patterns.png")
    _save(marginals_figure(spec, post, defaults), out / "marginals.png")
    return Calibration(out, post, diag, credible)


def _save(fig: Figure, path: Path) -> None:
    from sim.experiments.store import atomic_write

    atomic_write(path, lambda p: fig.savefig(p, dpi=110, format="png"))


def _rel(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(ROOT))
    except ValueError:
        return str(path)


def _sha(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def data_provenance(spec: CalibrationFile) -> dict[str, str]:
    """Every data file a pattern reads, with its content hash."""
    files = {p.source.data for p in spec.patterns} | {"icb/icb1v15.csv", "mid/mid5_neasia_dispute_dyads_1950_2014.csv"}
    return {f"validation/data/{f}": _sha(DATA_DIR / f) for f in sorted(files) if (DATA_DIR / f).exists()}


def git_commit() -> str:
    """The checkout's commit (with '+dirty' when tracked files differ from it), or 'unknown'."""
    import subprocess

    try:
        head = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "HEAD"], capture_output=True, text=True,
                              timeout=10, check=True).stdout.strip()
        dirty = subprocess.run(["git", "-C", str(ROOT), "status", "--porcelain", "--untracked-files=no"],
                               capture_output=True, text=True, timeout=10, check=True).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return head + ("+dirty" if dirty else "")


# =============================================================================== figures


def patterns_figure(fit: pd.DataFrame) -> Figure:
    """Each pattern: observed share [90%], baseline, calibrated and the 90% posterior-predictive interval."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(10, 0.55 * len(fit) + 1.8), layout="constrained")
    ax = fig.subplots()
    y = np.arange(len(fit))
    ax.hlines(y + 0.15, fit.ppc_low, fit.ppc_high, color="#2e86de", lw=5, label="90% posterior predictive")
    ax.hlines(y - 0.15, fit.obs_low90, fit.obs_high90, color="#444", lw=2, label="observed, 90% interval")
    ax.plot(fit.observed, y - 0.15, "k|", ms=14)
    ax.plot(fit.baseline, y, "o", color="#c0392b", mfc="white", label="baseline constants")
    ax.plot(fit.calibrated, y + 0.15, "D", color="#2e86de", label="calibrated (posterior median)")
    ax.set_yticks(y, fit.label)
    ax.invert_yaxis()
    ax.set(xlabel="share", xlim=(-0.02, 1.02), title="Target patterns: simulated vs observed")
    ax.legend(loc="lower right", fontsize=8)
    return fig


def marginals_figure(spec: CalibrationFile, post: pd.DataFrame, defaults: Mapping[str, float]) -> Figure:
    """Weighted posterior marginal of each parameter over its prior range, with the baseline value."""
    from matplotlib.figure import Figure

    n = len(spec.parameters)
    fig = Figure(figsize=(3.2 * n, 3), layout="constrained")
    axes = np.atleast_1d(fig.subplots(1, n))
    for ax, p in zip(axes, spec.parameters, strict=True):
        ax.hist(post[p.id], bins=12, range=(p.prior.low, p.prior.high), weights=post.weight, density=True,
                color="#2e86de", alpha=0.7, label="posterior")
        ax.axhline(1 / (p.prior.high - p.prior.low), color="grey", ls="--", lw=1, label="prior")
        ax.axvline(defaults[p.id], color="#c0392b", lw=1.5, label="baseline")
        ax.set(title=p.id, xlim=(p.prior.low, p.prior.high))
    axes[0].legend(fontsize=7)
    return fig


def fit_markdown(fit: pd.DataFrame) -> str:
    """The per-pattern fit as Markdown (MODEL.md §6)."""
    lines = ["| pattern | observed [90%] | n | baseline | calibrated | 90% posterior predictive | inside |",
             "|---|---|---|---|---|---|---|"]
    for i, r in fit.iterrows():
        lines.append(f"| {r.label} (`{i}`) | {r.observed:.1%} [{r.obs_low90:.1%}, {r.obs_high90:.1%}] | {int(r.n)} | "
                     f"{r.baseline:.1%} | {r.calibrated:.1%} | [{r.ppc_low:.1%}, {r.ppc_high:.1%}] | "
                     f"{'yes' if r.inside else 'no'} |")
    return "\n".join(lines) + "\n"
