"""Validation: the papers' claims as statistical tests, historical back-testing and base-rate calibration.

- ``check_claims``: each claim in ``validation/claims.yaml`` is a condition (levers, overlays,
  overrides) against a baseline on one scenario, with common seeds; the difference in
  P(measure) and its paired Newcombe 95% interval (``sim.analysis.compare``) give the verdict
  *no practical effect* (interval inside +-min_effect), *supported* (wholly on the expected
  side), *contradicted* (wholly on the other side) or *inconclusive*. Each claim says whether
  its direction is fixed by construction; only the emergent ones count as evidence.
  ``power_runs`` turns a pilot into the run count the file records.
- ``backtest``: each case in a cases file (format of ``historical_examples.yaml`` plus a
  ``scenario`` entry) is run; the simulated distribution of the peak MID hostility level
  (1..5) is scored against what happened with the ranked probability score, and against a
  base-rate forecast (the NEA50 MID peak distribution, recomputed from MID 5.0). Scores are
  split by whether the scripted trigger already sets the peak (``backtest_by_class``), and
  re-scored under each case's alternative codings (``coding_sensitivity``). Nothing is fitted
  to the cases (:data:`FITTED_TO_CASES`), so the scores are out-of-sample.
- ``calibration``: P(peak MID level) per scenario at default settings and pooled, next to the
  ICB/MID base rates recomputed from the CSVs with the recipes of ``base_rates.md``.
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from sim.analysis.levers import compare
from sim.analysis.results import runs_of
from sim.analysis.stats import CLAIM_VERDICTS, practical_verdict, runs_for_power
from sim.errors import InputError
from sim.inputs.condition import Condition
from sim.inputs.library import CHECKOUT, ROOT, VALIDATION_DIR
from sim.inputs.loader import load
from sim.inputs.schema import Case, CasesFile, ChangeSet, Claim, ClaimsFile
from sim.names import IcbViolence, MidLevel

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

CLAIMS_FILE = VALIDATION_DIR / "claims.yaml"
CASES_FILE = VALIDATION_DIR / "cases.yaml"
DATA_DIR = VALIDATION_DIR / "data"
#: The June 2020 papers (not shipped): CRISIS_SIM_PAPERS, or shared/seeds beside the checkout.
SEED_TEXT = Path(os.environ.get("CRISIS_SIM_PAPERS",
                               (CHECKOUT or ROOT).parent / "shared" / "seeds" / "000_78ff8fc81756eca7.txt"))
#: MID hostility levels 1..5, the ordered categories the back-test scores.
LEVELS = tuple(int(level) for level in MidLevel)


# =============================================================================== files


def _resolve(base: Path, rel: str) -> Path:
    for p in (base.parent / rel, ROOT / rel):
        if p.exists():
            return p
    raise InputError(base, "scenario", f"scenario file not found: {rel}")


def condition_of(scenario: Path, changes: ChangeSet) -> Condition:
    """A claim arm's or a case setup's changes applied to its scenario file."""
    return Condition.of(scenario, levers=changes.levers, overlays=changes.overlays, overrides=changes.pairs())


# =============================================================================== claims


def _norm(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def check_locators(file: str | Path = CLAIMS_FILE, source_text: str | Path = SEED_TEXT) -> list[str]:
    """Claim ids whose locator is not verbatim in the source (after whitespace normalisation)."""
    spec = load(ClaimsFile, Path(file))
    src = _norm(Path(source_text).read_text(encoding="utf-8"))
    return [c.id for c in spec.claims if _norm(c.source.locator) not in src]


CONSTRUCTION_LABELS = {"definition": "by definition", "one_term": "one term", "emergent": "emergent"}


def threshold(spec: ClaimsFile, p_base: float) -> float:
    """The smallest effect that counts for a claim whose baseline probability is ``p_base``: ``min_effect``
    points, or for a rare outcome ``min_relative`` of its base rate if that is smaller (a halving of a 1%
    risk is an effect a briefer reports; two points of it would be a tripling)."""
    if spec.min_relative is None or p_base <= 0.0:  # an outcome that never occurs has no relative scale
        return spec.min_effect
    return float(min(spec.min_effect, spec.min_relative * p_base))


def _claim_row(c: Claim, scenario: Path, base: pd.DataFrame, cond: pd.DataFrame, spec: ClaimsFile) -> dict[str, Any]:
    """One claim's test: the effect, its paired interval, the verdict and whether the file's record matches."""
    res = compare(base, cond, c.measure)
    min_effect = threshold(spec, res["p_base"])
    v = practical_verdict(res["diff_low"], res["diff_high"], c.expect, min_effect, CLAIM_VERDICTS)
    supported = CLAIM_VERDICTS.agrees
    recorded = "disagrees" if c.model_disagrees else supported
    changes = ", ".join([*c.condition.levers, *(f"+{o}" for o in c.condition.overlays),
                         *(f"{s.path}={s.value}" for s in c.condition.overrides)])
    return {"id": c.id, "claim": c.claim, "title": c.title,
            "source": f"{c.source.paper.split(',')[0]}: «{c.source.locator}»",
            "scenario": scenario.stem, "condition": changes, "measure": c.measure, "expect": c.expect,
            "construction": c.construction, "evidence": c.evidence,
            "p_base": res["p_base"], "p_cond": res["p_alt"], "effect": res["diff"],
            "ci_low": res["diff_low"], "ci_high": res["diff_high"], "paired": res["paired"],
            "unpaired_low": res["unpaired_low"], "unpaired_high": res["unpaired_high"], "sd_diff": res["sd_diff"],
            "threshold": min_effect, "verdict": v, "recorded": recorded,
            "matches": (v == supported) == (recorded == supported)}


def _claim_arms(file: Path, spec: ClaimsFile) -> list[tuple[Claim, Path, Condition, Condition]]:
    arms = []
    for c in spec.claims:
        scen = _resolve(file, c.scenario)
        arms.append((c, scen, condition_of(scen, c.baseline), condition_of(scen, c.condition)))
    return arms


def check_claims(file: str | Path = CLAIMS_FILE, runs: int | None = None, seed: int | None = None, *,
                 evaluator: object | None = None, only: list[str] | None = None) -> pd.DataFrame:
    """Run every claim in the file (baseline vs condition, common seeds) and give its verdict.

    Columns: id, claim, source, scenario, condition, measure, expect, construction, evidence (the
    direction is not fixed by construction), p_base, p_cond, effect, ci_low, ci_high (Newcombe's
    paired 95% interval), unpaired_low/high, sd_diff, verdict (:func:`practical_verdict` with the
    file's ``min_effect``), recorded ('supported' or 'disagrees' as the file says) and matches (the
    verdict agrees with the record). Every arm runs in one ``perform`` call (``evaluator``: how);
    an arm shared by several claims runs once. ``only``: these claim ids."""
    file = Path(file)
    spec = load(ClaimsFile, file)
    runs = runs or spec.runs
    seed = spec.seed if seed is None else seed
    if abs(spec.alpha - 0.05) > 1e-9:
        raise InputError(file, "alpha", "only alpha 0.05 is supported (95% Newcombe intervals)")
    arms = [a for a in _claim_arms(file, spec) if only is None or a[0].id in only]
    done = runs_of([x for *_, b, a in arms for x in (b, a)], runs, seed, evaluator=evaluator)
    rows = [{**_claim_row(c, scen, done[b], done[a], spec), "runs": runs, "seed": seed}
            for c, scen, b, a in arms]
    table = pd.DataFrame(rows)
    need = power_runs(table, table["threshold"], spec.power, spec.alpha)
    table["runs_needed"] = need.runs_needed.to_numpy()
    table["borderline"] = need.borderline.to_numpy()
    table["stable"] = table.runs_needed <= table.runs
    return table


MAX_CLAIM_RUNS = 20_000  # the largest run count the verdicts are checked at (issue 13)


def boundary_distance(effect: float, min_effect: float) -> float:
    """How far an effect lies from the boundary its verdict converges on as runs grow: +-min_effect
    (below it, :func:`practical_verdict` tends to 'no practical effect'; above it, to a direction)."""
    return float(abs(abs(effect) - min_effect))


def power_runs(table: pd.DataFrame, min_effect: float | pd.Series, power: float = 0.9,
               alpha: float = 0.05) -> pd.DataFrame:
    """Runs per arm each claim needs for a verdict that holds to :data:`MAX_CLAIM_RUNS` runs (a
    ``check_claims`` pilot table): the pilot effect's distance from +-min_effect detected with
    ``power`` in the paired per-run differences (:func:`sim.analysis.stats.runs_for_power`); at that
    count the interval's half-width is about 0.6 of the distance, so the interval stays on one side.
    ``borderline``: more than MAX_CLAIM_RUNS needed (the effect sits on the boundary), so the
    verdict may still change at 20,000 runs."""
    bounds = np.broadcast_to(np.asarray(min_effect, float), len(table))  # one per claim (see threshold)
    shift = [boundary_distance(e, m) for e, m in zip(table["effect"], bounds, strict=True)]
    need = [runs_for_power(sd, sh, power, alpha) if sh > 0 else 10**9
            for sd, sh in zip(table["sd_diff"], shift, strict=True)]
    out = pd.DataFrame({"effect": table["effect"].to_numpy(), "shift": shift, "runs_needed": need},
                       index=pd.Index(table["id"], name="id"))
    out["borderline"] = out.runs_needed > MAX_CLAIM_RUNS
    return out


def recorded_runs(power_table: pd.DataFrame) -> int:
    """The run count to record in the claims file: the largest need among the claims that are not
    borderline, rounded up to a thousand (a borderline claim is reported as such at any count)."""
    ok = power_table.runs_needed[~power_table.borderline]
    need = int(ok.max()) if len(ok) else 2000
    return int(max(2000, math.ceil(need / 1000) * 1000))


def claims_summary(table: pd.DataFrame) -> dict[str, int]:
    """Counts of verdicts over all claims and over the evidence (emergent) claims only."""
    ev = table[table.evidence]
    return {"claims": len(table), "supported": int((table.verdict == CLAIM_VERDICTS.agrees).sum()),
            "evidence": len(ev), "evidence_supported": int((ev.verdict == CLAIM_VERDICTS.agrees).sum()),
            "evidence_contradicted": int((ev.verdict == CLAIM_VERDICTS.disagrees).sum()),
            "by_construction": int((~table.evidence).sum())}


def claims_markdown(table: pd.DataFrame) -> str:
    """The claims table (``check_claims``) as Markdown, for MODEL.md: emergent claims first."""
    lines = ["| id | claim | scenario | measure | direction fixed by | P base | P cond | effect [paired 95%] | "
             "unpaired 95% | verdict | recorded |", "|---|---|---|---|---|---|---|---|---|---|---|"]
    order = table.assign(_k=~table.evidence).sort_values("_k", kind="stable")
    for r in order.itertuples():
        lines.append(f"| {r.id} | {r.claim}. {r.title} | {r.scenario} | {r.measure} ({r.expect}) | "
                     f"{CONSTRUCTION_LABELS[r.construction]} | {r.p_base:.3f} | {r.p_cond:.3f} | "
                     f"{r.effect:+.3f} [{r.ci_low:+.3f}, {r.ci_high:+.3f}] | "
                     f"[{r.unpaired_low:+.3f}, {r.unpaired_high:+.3f}] | {r.verdict}"
                     f"{' (borderline)' if getattr(r, 'borderline', False) else ''} | {r.recorded} |")
    return "\n".join(lines) + "\n"


# =============================================================================== base rates


def _icb1() -> pd.DataFrame:
    return pd.read_csv(DATA_DIR / "icb" / "icb1v15.csv", encoding="utf-8-sig")


def icb_filter(name: str, icb1: pd.DataFrame | None = None) -> pd.DataFrame:
    """ICB system-level rows for ALL, POST45 or EA54 (base_rates.md, ICB filters)."""
    d = _icb1() if icb1 is None else icb1
    if name == "ALL":
        return d
    if name == "POST45":
        return d[(d.yrtrig > 1945) | ((d.yrtrig == 1945) & (d.motrig >= 9))]
    if name == "EA54":
        return d[(d.geog == 11) & (d.yrtrig >= 1954)]
    raise ValueError(name)


def icb_viol_shares(rows: pd.DataFrame) -> pd.Series:
    """Share of crises by extent of violence (viol 1..4), denominator all rows."""
    return pd.Series({int(v): float((rows.viol == v).mean()) for v in IcbViolence}, name="share")


def force_and_war(shares: Mapping[int, float], force: int, war: int) -> dict[str, float]:
    """P(use of force or worse) and P(war) from shares by level: MID 4+ and 5, or ICB VIOL 2+ and 4."""
    return {"P(force+)": sum(p for level, p in shares.items() if level >= force), "P(war)": shares[war]}


def _mid_row(shares: Mapping[int, float]) -> dict[str, float]:
    """A calibration row: P(peak MID = k) for k = 1..5, then P(force+) and P(war)."""
    return {**{f"P(peak={k})": shares[k] for k in LEVELS}, **force_and_war(shares, MidLevel.USE_OF_FORCE,
                                                                          MidLevel.WAR)}


NUCLEAR_FIRST_TEST = {2: (1945, 7), 365: (1949, 8), 200: (1952, 10), 220: (1960, 2), 710: (1964, 10),
                      666: (1967, 1), 750: (1974, 5), 770: (1998, 5), 731: (2006, 10)}


def _nuclear_at(code: int, year: int, month: int) -> bool:
    if code == 560:  # South Africa: capability 1979-1991
        return 1979 <= year <= 1991
    t = NUCLEAR_FIRST_TEST.get(int(code))
    return t is not None and (year, month) >= t  # month precision: a test in the trigger month counts


def nuclear_dyad_crises() -> pd.DataFrame:
    """ICB crises with two nuclear-armed states on opposite sides (base_rates.md section 3 recipe)."""
    dy = pd.read_csv(DATA_DIR / "icb" / "icbdy_v15.csv", encoding="utf-8-sig")
    keep = [(_nuclear_at(a, y, m) and _nuclear_at(b, y, m))
            for a, b, y, m in zip(dy.statea, dy.stateb, dy.trgyrdy, dy.trgmody, strict=True)]
    nos = set(dy.loc[keep, "crisno"])
    icb1 = _icb1()
    return icb1[icb1.crisno.isin(nos)]


def nuclear_actor_crises() -> pd.DataFrame:
    """ICB crises with at least one nuclear-armed crisis actor (icb2 nuclear in 3, 4)."""
    icb2 = pd.read_csv(DATA_DIR / "icb" / "icb2v15.csv", encoding="utf-8-sig")
    nos = set(icb2.loc[icb2.nuclear.isin([3, 4]), "crisno"])
    icb1 = _icb1()
    return icb1[icb1.crisno.isin(nos)]


def mid_disputes(name: str = "NEA50") -> pd.DataFrame:
    """MID 5.0 disputes for ALL, POST46 or NEA50 (base_rates.md section 4)."""
    d = pd.read_csv(DATA_DIR / "mid" / "cow_mid5_disputes_abridged.csv")
    if name == "ALL":
        return d
    if name == "POST46":
        return d[d.styear >= 1946]
    if name == "NEA50":
        dy = pd.read_csv(DATA_DIR / "mid" / "mid5_neasia_dispute_dyads_1950_2014.csv")
        return d[d.dispnum.isin(set(dy.dispnum))]
    raise ValueError(name)


def mid_hostlev_shares(rows: pd.DataFrame) -> pd.Series:
    """Share of disputes by highest hostility level (1..5), denominator all rows."""
    return pd.Series({v: float((rows.hostlev == v).mean()) for v in LEVELS}, name="share")


def base_rate_table() -> pd.DataFrame:
    """The reference rows for the calibration table: MID peak shares (levels 1..5) and ICB
    violence mapped to 'use of force or worse' (viol >= 2) and 'war' (viol == 4)."""
    rows = {}
    for name in ("NEA50", "POST46"):
        disputes = mid_disputes(name)
        rows[f"MID {name} (n={len(disputes)})"] = _mid_row(mid_hostlev_shares(disputes).to_dict())
    for label, rows_ in (("ICB EA54", icb_filter("EA54")), ("ICB nuclear dyad", nuclear_dyad_crises()),
                         ("ICB nuclear actor", nuclear_actor_crises())):
        rows[f"{label} (n={len(rows_)})"] = force_and_war(icb_viol_shares(rows_).to_dict(),
                                                          IcbViolence.MINOR_CLASHES, IcbViolence.WAR)
    return pd.DataFrame.from_dict(rows, orient="index")


def nea50_forecast() -> np.ndarray:
    """The base-rate forecast used for back-test skill: NEA50 MID peak shares over levels 1..5."""
    s = mid_hostlev_shares(mid_disputes("NEA50"))
    p = s.to_numpy(float)
    return p / p.sum()


# =============================================================================== back-test


def rps(forecast: np.ndarray, actual: int) -> float:
    """Ranked probability score over the ordered MID levels 1..5, normalised to [0, 1]
    (sum of squared differences of cumulative distributions divided by K-1)."""
    f = np.cumsum(np.asarray(forecast, float))
    o = np.cumsum(np.array([1.0 if k == actual else 0.0 for k in LEVELS]))
    return float(np.sum((f[:-1] - o[:-1]) ** 2) / (len(LEVELS) - 1))


def _level_shares(peaks: np.ndarray) -> np.ndarray:
    peaks = np.asarray(peaks, int)
    return np.array([(peaks == k).mean() for k in LEVELS])


def _case_row(c: Case, scenario: Path, r: pd.DataFrame, base: np.ndarray) -> dict[str, Any]:
    """One case scored: the simulated peak distribution, its RPS and skill, the 80% interval, the outcome."""
    peaks = r["peak_mid_hostility"].to_numpy(int)
    dist = _level_shares(peaks)
    actual = c.peak.mid_hostility
    lo, hi = (int(np.quantile(peaks, q, method="inverted_cdf")) for q in (0.1, 0.9))
    r_model, r_base = rps(dist, actual), rps(base, actual)
    cls = c.outcome.model_class
    outcomes = r["outcome"].astype(str)
    return {"case": c.id, "scenario": scenario.stem, "actual_peak": actual,
            "trigger_class": TRIGGER_SETS if int(peaks.min()) >= actual else ENGINE_MUST,
            "out_of_sample": not c.informed_by,
            **{f"p{k}": dist[i] for i, k in enumerate(LEVELS)},
            "rps": r_model, "rps_base": r_base, "skill": 1 - r_model / r_base if r_base > 0 else np.nan,
            "p80_low": lo, "p80_high": hi, "in_80": lo <= actual <= hi, "actual_outcome": cls,
            "p_outcome": float((outcomes == cls).mean()) if cls else np.nan,
            "modal_outcome": str(outcomes.mode().iat[0])}


def backtest(cases_file: str | Path = CASES_FILE, runs: int = 2000, seed: int = 0, *,
             evaluator: object | None = None) -> pd.DataFrame:
    """Each case's scenario run ``runs`` times; RPS of the simulated peak-MID distribution,
    skill against the NEA50 base rate, central 80% interval and outcome-class probability.
    Every case runs in one ``perform`` call (``evaluator``: how)."""
    cases_file = Path(cases_file)
    spec = load(CasesFile, cases_file)
    base = nea50_forecast()
    setups = []
    for c in spec.crises:
        scen = _resolve(cases_file, c.scenario)
        setups.append((c, scen, condition_of(scen, c.setup)))
    done = runs_of([cond for *_, cond in setups], runs, seed, evaluator=evaluator)
    return pd.DataFrame([_case_row(c, scen, done[cond], base) for c, scen, cond in setups])


def backtest_summary(table: pd.DataFrame) -> dict:
    """Mean RPS, mean base RPS, aggregate skill and coverage of the 80% intervals."""
    m, b = float(table.rps.mean()), float(table.rps_base.mean())
    return {"cases": len(table), "mean_rps": m, "mean_rps_base": b, "skill": 1 - m / b if b > 0 else np.nan,
            "in_80": int(table.in_80.sum())}


#: Back-test classes: in every run the scripted trigger already reaches the actual peak (only
#: overshoot is tested), or the engine's actors must produce the peak themselves.
TRIGGER_SETS = "trigger sets the peak"
ENGINE_MUST = "engine must produce it"
#: What the back-test scores were fitted to. The calibration (``sim.analysis.calibrate``) fits
#: patterns on the shipped scenarios (``scenarios/``), never the cases' scenarios, so no score is
#: fitted and leave-one-case-out equals the plain score; ``calibrate`` refuses case scenarios. Inputs
#: changed after a case's back-test missed, in answer to the miss, are listed in its ``informed_by`` and its
#: score is reported apart (``backtest_by_class``).
FITTED_TO_CASES: tuple[str, ...] = ()


def backtest_by_class(table: pd.DataFrame) -> pd.DataFrame:
    """The summary (skill vs NEA50, 80% coverage) over all cases and for each trigger class, then the same
    over the out-of-sample cases only (no model input cites them: ``Case.informed_by`` is empty)."""
    rows = {}
    for label, part in (("", table), (OUT_OF_SAMPLE, table[table.out_of_sample])):
        for cls in ("all", TRIGGER_SETS, ENGINE_MUST):
            sub = part if cls == "all" else part[part.trigger_class == cls]
            if len(sub):
                rows[f"{cls}{label}"] = backtest_summary(sub)
    return pd.DataFrame.from_dict(rows, orient="index")


#: Row suffix of the out-of-sample summaries.
OUT_OF_SAMPLE = ", out of sample"


def _rescored(table: pd.DataFrame, actual: dict[str, int]) -> pd.DataFrame:
    """The same simulated distributions scored against other actual peaks (case -> level)."""
    base = nea50_forecast()
    t = table.copy()
    for i, r in t.iterrows():
        if r.case not in actual:
            continue
        a = int(actual[r.case])
        dist = r[[f"p{k}" for k in LEVELS]].to_numpy(float)
        t.loc[i, ["actual_peak", "rps", "rps_base"]] = [a, rps(dist, a), rps(base, a)]
        t.loc[i, "in_80"] = bool(r.p80_low <= a <= r.p80_high)
    return t


def coding_sensitivity(table: pd.DataFrame, cases_file: str | Path = CASES_FILE) -> pd.DataFrame:
    """Skill and coverage as coded, with each alternative coding of a peak (``peak.alternatives``)
    one at a time, and with all of them at once; the simulated distributions are the same."""
    spec = load(CasesFile, Path(cases_file))
    alts = [(c.id, c.peak.mid_hostility, a) for c in spec.crises for a in c.peak.alternatives]
    rows = {"as coded": backtest_summary(table)}
    for cid, coded, a in alts:
        label = f"{cid} coded {a.mid_hostility} (not {coded})"
        rows[label] = backtest_summary(_rescored(table, {cid: a.mid_hostility}))
    if len(alts) > 1:
        rows["all alternatives"] = backtest_summary(_rescored(table, {cid: a.mid_hostility for cid, _, a in alts}))
    return pd.DataFrame.from_dict(rows, orient="index")


def summary_markdown(df: pd.DataFrame) -> str:
    """A ``backtest_by_class`` or ``coding_sensitivity`` table as Markdown."""
    lines = ["| | cases | mean RPS | RPS base (NEA50) | skill | in 80% |", "|---|---|---|---|---|---|"]
    for name, r in df.iterrows():
        lines.append(f"| {name} | {int(r.cases)} | {r.mean_rps:.3f} | {r.mean_rps_base:.3f} | {r.skill:+.2f} | "
                     f"{int(r.in_80)}/{int(r.cases)} |")
    return "\n".join(lines) + "\n"


def exceedance(table: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Every case's forecasts P(peak >= k), k = 2..5, and whether the actual peak reached k."""
    probs = table[[f"p{k}" for k in LEVELS]].to_numpy()
    f, o = [], []
    for row, actual in zip(probs, table.actual_peak, strict=True):
        for k in LEVELS[1:]:
            f.append(row[k - 1:].sum())
            o.append(1.0 if actual >= k else 0.0)
    return np.array(f), np.array(o)


def reliability_bins(f: np.ndarray, o: np.ndarray, bins: int = 5) -> tuple[list[float], list[float], list[int]]:
    """Mean forecast, observed frequency and count in each of ``bins`` equal forecast bins (empty ones left out)."""
    edges = np.linspace(0, 1, bins + 1)
    idx = np.clip(np.digitize(f, edges) - 1, 0, bins - 1)
    xs, ys, ns = [], [], []
    for b in range(bins):
        m = idx == b
        if m.any():
            xs.append(f[m].mean())
            ys.append(o[m].mean())
            ns.append(int(m.sum()))
    return xs, ys, ns


def _reliability_panel(ax: Axes, table: pd.DataFrame) -> None:
    f, o = exceedance(table)
    xs, ys, ns = reliability_bins(f, o)
    ax.plot([0, 1], [0, 1], color="grey", lw=1, ls="--", label="perfect calibration")
    ax.scatter(f, o + np.random.default_rng(0).uniform(-0.03, 0.03, len(o)), s=12, alpha=0.4, color="#888",
               label="forecast, outcome (jittered)")
    ax.plot(xs, ys, marker="o", color="#c0392b", label="binned observed frequency")
    for x, y, n in zip(xs, ys, ns, strict=True):
        ax.annotate(f"n={n}", (x, y), textcoords="offset points", xytext=(4, -10), fontsize=8)
    ax.set(xlabel="forecast P(peak MID >= k), k = 2..5", ylabel="observed frequency", xlim=(-0.02, 1.02),
           ylim=(-0.06, 1.06), title="Back-test reliability (exceedance forecasts)")
    ax.legend(loc="lower right", fontsize=8)


def _peaks_panel(ax: Axes, table: pd.DataFrame) -> None:
    probs = table[[f"p{k}" for k in LEVELS]].to_numpy()
    y = np.arange(len(table))
    left = np.zeros(len(table))
    colors = ["#dfe6e9", "#f6e58d", "#f0932b", "#eb4d4b", "#6d214f"]
    for i, k in enumerate(LEVELS):
        ax.barh(y, probs[:, i], left=left, color=colors[i], label=f"MID {k}")
        left += probs[:, i]
    for yi, (row, actual) in enumerate(zip(probs, table.actual_peak, strict=True)):
        x = row[:actual - 1].sum() + row[actual - 1] / 2
        ax.plot([x], [yi], marker="*", color="black", ms=12)
    ax.set_yticks(y, table.case)
    ax.invert_yaxis()
    ax.set(xlabel="share of runs by peak MID level (star: actual)", xlim=(0, 1), title="Simulated peak vs history")
    ax.legend(ncol=5, fontsize=8, loc="lower center", bbox_to_anchor=(0.5, -0.25))


def calibration_figure(table: pd.DataFrame) -> Figure:
    """Reliability of the exceedance forecasts P(peak >= k), k = 2..5, over all cases (left),
    and each case's simulated peak distribution with the actual peak marked (right)."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(11, 5), layout="constrained")
    ax, ax2 = fig.subplots(1, 2)
    _reliability_panel(ax, table)
    _peaks_panel(ax2, table)
    return fig


# =============================================================================== calibration


def calibration(runs: int = 2000, seed: int = 0, scenarios: list[Path] | None = None, *,
                evaluator: object | None = None) -> pd.DataFrame:
    """P(peak MID = k), P(use of force or worse) and P(war) for each shipped scenario at default
    settings, pooled (equal weight per scenario), and the recomputed base rates below."""
    from sim.inputs.library import SCENARIOS_DIR

    paths = list(scenarios or sorted(SCENARIOS_DIR.glob("*.yaml")))
    conditions = {p: Condition.of(p) for p in paths}
    done = runs_of(conditions.values(), runs, seed, evaluator=evaluator)
    rows = {}
    for p, cond in conditions.items():
        d = _level_shares(done[cond]["peak_mid_hostility"].to_numpy(int))
        rows[f"model: {p.stem}"] = _mid_row(dict(zip(LEVELS, d, strict=True)))
    model = pd.DataFrame.from_dict(rows, orient="index")
    pooled = model.mean().to_frame(f"model: pooled ({len(model)} scenarios)").T
    return pd.concat([model, pooled, base_rate_table()])


def table_markdown(df: pd.DataFrame, fmt: str = "{:.1%}") -> str:
    """A table of shares (``calibration``) as Markdown, floats as percentages."""
    cols = list(df.columns)
    lines = ["| | " + " | ".join(cols) + " |", "|---|" + "---|" * len(cols)]
    for name, row in df.iterrows():
        cells = ["" if pd.isna(v) else (fmt.format(v) if isinstance(v, float) else str(v)) for v in row]
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def backtest_markdown(table: pd.DataFrame) -> str:
    """The back-test table with a summary row, as Markdown."""
    lines = ["| case | class | actual peak | P(1..5) | RPS | RPS base | skill | 80% interval | in 80% | "
             "actual outcome | P(outcome) |", "|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in table.itertuples():
        dist = " / ".join(f"{getattr(r, f'p{k}'):.2f}" for k in LEVELS)
        lines.append(f"| {r.case} | {r.trigger_class} | {r.actual_peak} | {dist} | {r.rps:.3f} | {r.rps_base:.3f} | "
                     f"{r.skill:+.2f} | {r.p80_low}-{r.p80_high} | {'yes' if r.in_80 else 'no'} | "
                     f"{r.actual_outcome} | {r.p_outcome:.2f} |")
    s = backtest_summary(table)
    lines.append(f"| **all** | | | | {s['mean_rps']:.3f} | {s['mean_rps_base']:.3f} | {s['skill']:+.2f} | | "
                 f"{s['in_80']}/{s['cases']} | | |")
    return "\n".join(lines) + "\n"
