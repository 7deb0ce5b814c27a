"""Per-run outcomes and the per-actor-turn event log, shared by both execution paths.

The Mesa model and the ensemble kernel hand their finished runs and resolved turns
to the same functions here, so a run's row in ``runs.parquet`` and its rows in
``events.parquet`` cannot differ between the two paths.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from sim.engine.columns import EVENT_COLUMNS, ROUNDED, round_bits
from sim.engine.decisions import LONG_ODDS, REASON_NAMES
from sim.engine.state import Decision, State, TurnRecord
from sim.inputs.compile import Spec
from sim.names import END_REASONS, ICB_OUTCOMES, INCIDENTS, OUTCOMES, Cause, EndForm, EndReason, MidLevel, Threshold


def classify(spec: Spec, st: State) -> dict[str, np.ndarray]:
    """Outcome class, end form, coercive winner and ICB-style outcome per actor for finished runs.

    Severity and settlement are separate facts, as in ICB (VIOL and OUTCOM): a crisis with a clash can
    still end by agreement. Only a principal's concession to a principal adversary is a coercive gain.
    """
    cat = spec.catalogue
    R, A = len(st.keys), spec.n_actors
    adv = spec.dyads.adversary & spec.behaviour.principal[:, None] & spec.behaviour.principal[None, :]
    conceded = st.conceded & spec.behaviour.principal[None, :]
    won = np.zeros((R, A), bool)  # an adversary principal conceded and this one did not
    for a in range(A):
        for b in np.flatnonzero(adv[a]):
            won[:, a] |= conceded[:, b] & ~conceded[:, a]
    lost = conceded & ~np.stack([np.any(conceded[:, adv[a]], axis=1) for a in range(A)], axis=1)
    agreement = st.end == EndReason.AGREEMENT
    war = st.crisis >= cat.threshold(Threshold.WAR)
    out = np.full(R, OUTCOMES.index("frozen_stalemate"), np.int8)
    out[st.peak_mid >= MidLevel.USE_OF_FORCE] = OUTCOMES.index("contained_clash")
    out[won.any(axis=1)] = OUTCOMES.index("coercive_gain")  # settled on one side's terms
    out[agreement] = OUTCOMES.index("deescalated_agreement")
    out[war] = OUTCOMES.index("major_war")
    out[st.crisis >= cat.threshold(Threshold.NUCLEAR)] = OUTCOMES.index("nuclear_use")
    icb = np.full((R, A), ICB_OUTCOMES.index("stalemate"), np.int8)
    icb[agreement[:, None] & np.ones((1, A), bool)] = ICB_OUTCOMES.index("compromise")
    icb[won] = ICB_OUTCOMES.index("victory")
    icb[lost] = ICB_OUTCOMES.index("defeat")
    winner = np.where(won.any(axis=1), np.argmax(won, axis=1), -1)
    return {"outcome": out, "icb": icb, "winner": winner, "end_form": _end_form(spec, st, won, war)}


def _end_form(spec: Spec, st: State, won: np.ndarray, war: np.ndarray) -> np.ndarray:
    """How the crisis ended, in ICB's FOROUT terms."""
    form = np.full(len(st.keys), EndForm.ONGOING, np.int8)
    displayed = spec.ladder.unit[st.crisis] >= spec.ladder.unit[spec.catalogue.threshold(Threshold.GREY)]
    calm = st.end == EndReason.FADED
    form[calm & displayed] = EndForm.TACIT
    form[calm & ~displayed] = EndForm.FADED
    form[won.any(axis=1) & (st.end != EndReason.TIME_LIMIT)] = EndForm.UNILATERAL
    form[st.end == EndReason.AGREEMENT] = EndForm.AGREEMENT
    form[war] = EndForm.IMPOSED
    return form


def _category(codes: np.ndarray, labels: list[str] | tuple[str, ...], ordered: bool = False) -> pd.Categorical:
    """Codes as a categorical; code -1 is a real null (not a sentinel string). ``ordered`` for
    ordinal scales (rungs, units), so pandas compares them in ladder order and the Parquet
    dictionary says so."""
    return pd.Categorical.from_codes(np.asarray(codes, int), list(labels), ordered=ordered)


def _nullable(values: np.ndarray, present: np.ndarray, dtype: str) -> pd.arrays.IntegerArray:
    """An integer column with real nulls where ``present`` is false (never a -1 sentinel)."""
    return pd.arrays.IntegerArray(np.where(present, values, 0).astype(dtype.lower()), ~np.asarray(present, bool))


CAUSES = tuple(c.label for c in Cause if c != Cause.NONE)


def _causes(spec: Spec, st: State) -> dict[str, pd.Categorical | np.ndarray]:
    """How the crisis first reached the use of force and war, and who did it (null where it never did)."""
    actors = list(spec.actor_ids)
    nuclear = spec.behaviour.nuclear
    war_pair = (st.war_actor >= 0) & (st.war_target >= 0)
    return {
        "first_force_day": np.where(st.first_force >= 0, st.first_force * spec.dt, np.nan),
        "first_force_cause": _category(st.first_force_cause.astype(int) - 1, CAUSES),
        "first_force_actor": _category(st.first_force_actor, actors),
        "war_cause": _category(st.war_cause.astype(int) - 1, CAUSES),
        "war_actor": _category(st.war_actor, actors),
        "war_target": _category(st.war_target, actors),
        "nuclear_dyad_war": war_pair & nuclear[np.maximum(st.war_actor, 0)] & nuclear[np.maximum(st.war_target, 0)],
    }


def escalation_path(spec: Spec, hist: np.ndarray, end_turn: np.ndarray, start: np.ndarray) -> list[str]:
    """The sequence of new crisis peaks (record rungs), e.g. 'grey_zone>show_of_force>harass'."""
    names = [r.id for r in spec.catalogue.rungs]
    h = hist.astype(np.int16).copy()
    h[:, 0] = start
    cols = np.arange(h.shape[1])[None, :]
    h = np.where(cols <= end_turn[:, None], h, -1)
    peak = np.maximum.accumulate(h, axis=1)
    new = np.zeros_like(peak, bool)
    new[:, 0] = True
    new[:, 1:] = peak[:, 1:] > peak[:, :-1]
    cache: dict[tuple, str] = {}
    out = []
    for row, m in zip(peak, new, strict=True):
        key = tuple(row[m].tolist())
        s = cache.get(key)
        if s is None:
            s = cache[key] = ">".join(names[i] for i in key)
        out.append(s)
    return out


def summarise(spec: Spec, st: State, seed: int) -> dict[str, np.ndarray | list]:
    """Column arrays for the runs table, one row per finished run in ``st``."""
    cls = classify(spec, st)
    cat = spec.catalogue
    rung_names = [r.id for r in cat.rungs]
    unit_names = [u.id for u in cat.ladder.units]
    peak_unit = spec.ladder.unit[st.crisis]
    cols: dict[str, np.ndarray | list] = {
        "run": st.run.astype(np.int64),
        "seed": np.full(len(st.run), seed, np.int64),
        "outcome": pd.Categorical.from_codes(cls["outcome"], OUTCOMES),
        "end_reason": pd.Categorical.from_codes(st.end.astype(int), END_REASONS),
        "end_form": _category(cls["end_form"], [f.label for f in EndForm]),
        "turns": np.ceil(st.end_turn / spec.constants.steps_per_turn).astype(np.int16),
        "duration_hours": st.end_turn.astype(np.float64) * spec.dt * 24.0,
        "duration_days": st.end_turn.astype(np.float64) * spec.dt,
        "peak_rung": _category(st.crisis, rung_names, ordered=True),
        "peak_rung_index": st.crisis.astype(np.int8),
        "peak_rung_label": _category(st.crisis, [r.label for r in cat.rungs]),
        "peak_unit": _category(peak_unit, unit_names, ordered=True),
        "peak_unit_index": peak_unit.astype(np.int8),
        "peak_mid_hostility": st.peak_mid.astype(np.int8),
        "peak_icb_viol": st.peak_viol.astype(np.int8),
        "use_of_force": st.peak_mid >= MidLevel.USE_OF_FORCE,
        "first_force_turn": _nullable(np.ceil(st.first_force / spec.constants.steps_per_turn).astype(np.int16),
                                      st.first_force >= 0, "Int16"),
        **_causes(spec, st),
        "incidents": st.incidents.astype(np.int16),
        "casualty_incidents": st.casualties.astype(np.int16),
        "mediation_requested": st.mediation.copy(),
        "mediation_occurred": st.mediated.copy(),
        "coercive_winner": _category(cls["winner"], spec.actor_ids),
        "path": escalation_path(spec, st.hist, st.end_turn, spec.world.level.max() * np.ones(len(st.run), int)),
    }
    for a, actor in enumerate(spec.actor_ids):
        cols[f"icb_outcome_{actor}"] = pd.Categorical.from_codes(cls["icb"][:, a], ICB_OUTCOMES)
        cols[f"conceded_{actor}"] = st.conceded[:, a].copy()
    for c, cid in enumerate(spec.channel_ids):
        cols[f"tried_{cid}"] = st.tried[:, c].astype(np.int16)
        cols[f"answered_{cid}"] = st.answered[:, c].astype(np.int16)
    return cols


class EventLog:
    """Accumulates the per-actor-turn record of every resolved turn."""

    def __init__(self, spec: Spec, enabled: bool = True):
        self.spec = spec
        self.enabled = enabled
        self.parts: list[dict[str, np.ndarray]] = []
        self.injects: list[tuple[np.ndarray, int, int]] = []

    def record(self, st: State, dec: Decision, out: TurnRecord) -> None:
        if not self.enabled:
            return
        R, A = out.action.shape
        self.parts.append({
            "run": np.repeat(st.run, A),
            "turn": np.full(R * A, st.turn, np.int16),
            "day": np.full(R * A, st.day(self.spec), np.float32),
            "actor": np.tile(np.arange(A, dtype=np.int8), R),
            "action": out.action.ravel().astype(np.int16),
            "target": out.target.ravel().astype(np.int8),
            "rung_intended": out.intended.ravel().astype(np.int8),
            "rung_realised": out.realised.ravel().astype(np.int8),
            "rung_perceived": out.perceived.ravel().astype(np.int8),
            "mid_hostility": out.mid.ravel().astype(np.int8),
            "incident": out.incident.ravel(),
            "channel_answered": out.answered.ravel(),
            "slipped": out.slip.ravel(),
            "scripted": dec.forced.ravel(),
            "p_choice": dec.prob.ravel().astype(np.float32),
            "cause_actor": dec.cause_actor.ravel().astype(np.int8),
            "cause_action": dec.cause_action.ravel().astype(np.int16),
            "cause_turn": dec.cause_turn.ravel().astype(np.int16),
            **{f"reason{i + 1}": dec.reasons[..., i].ravel().astype(np.int8) for i in range(3)},
            **{f"weight{i + 1}": dec.contrib[..., i].ravel().astype(np.float32) for i in range(3)},
        })

    def record_injects(self, fired: list[tuple[np.ndarray, int]], turn: int) -> None:
        for runs, i in fired:
            self.injects.append((runs, i, turn))

    def frame(self) -> pd.DataFrame:
        """Events as a DataFrame with readable categorical labels, sorted by run, turn, actor."""
        spec = self.spec
        cat = spec.catalogue
        if not self.parts:
            return pd.DataFrame()
        cols = {k: np.concatenate([p[k] for p in self.parts]) for k in self.parts[0]}
        order = np.lexsort((cols["actor"], cols["turn"], cols["run"]))
        cols = {k: v[order] for k, v in cols.items()}
        actors = list(spec.actor_ids)
        rungs = [r.id for r in cat.rungs]
        df = pd.DataFrame({"run": cols["run"], "turn": cols["turn"], "day": cols["day"]})
        df["actor"] = pd.Categorical.from_codes(cols["actor"], actors)
        df["action"] = pd.Categorical.from_codes(cols["action"], [a.id for a in cat.actions])
        df["action_label"] = pd.Categorical.from_codes(cols["action"], [a.label for a in cat.actions])
        df["target"] = _category(cols["target"], actors)  # null: the move has no target
        for k in ("rung_intended", "rung_realised", "rung_perceived"):  # perceived is null: nobody saw it
            df[k] = _category(cols[k], rungs, ordered=True)
            df[f"{k}_index"] = _nullable(cols[k], cols[k] >= 0, "Int8")
        df["mid_hostility"] = cols["mid_hostility"]
        df["incident"] = cols["incident"]
        df["channel_answered"] = _category(cols["channel_answered"], ["no", "yes"])  # null: no call made
        df["slipped"] = cols["slipped"]
        df["scripted"] = cols["scripted"]
        df["p_choice"] = cols["p_choice"]
        df["long_odds"] = ~cols["scripted"] & (cols["p_choice"] < LONG_ODDS)
        df["cause_actor"] = pd.Categorical.from_codes(cols["cause_actor"].astype(int), actors)
        df["cause_action"] = pd.Categorical.from_codes(cols["cause_action"].astype(int),  # moves, then incidents
                                                       [*(a.id for a in cat.actions), *INCIDENTS])
        df["cause_turn"] = pd.Series(cols["cause_turn"], dtype="Int16").where(cols["cause_actor"] >= 0, pd.NA).array
        names = list(REASON_NAMES)
        chosen = ~cols["scripted"]  # a scripted move has no reasons: nobody chose it
        for i, label in ((1, "driver1"), (2, "driver2"), (3, "restraint")):
            df[label] = pd.Categorical.from_codes(np.where(chosen, cols[f"reason{i}"], -1), names)
            df[f"{label}_weight"] = np.where(chosen, cols[f"weight{i}"], np.nan).astype(np.float32)
        for k in ROUNDED:  # the precision each column is stored at (sim.engine.columns)
            df[k] = round_bits(df[k].to_numpy(), EVENT_COLUMNS[k].bits)
        assert list(df.columns) == list(EVENT_COLUMNS), "sim.engine.columns.EVENT_COLUMNS lists the event columns"
        return df

    def inject_frame(self) -> pd.DataFrame:
        ids = [i.source.id for i in self.spec.injects]
        if not self.injects:
            return pd.DataFrame({"run": np.zeros(0, np.int64), "turn": np.zeros(0, np.int16),
                                 "inject": pd.Categorical.from_codes(np.zeros(0, int), ids or [""])})
        run = np.concatenate([r for r, _, _ in self.injects])
        inj = np.concatenate([np.full(len(r), i) for r, i, _ in self.injects])
        turn = np.concatenate([np.full(len(r), t, np.int16) for r, _, t in self.injects])
        order = np.lexsort((inj, turn, run))
        return pd.DataFrame({"run": run[order].astype(np.int64), "turn": turn[order],
                             "inject": pd.Categorical.from_codes(inj[order], ids)})
