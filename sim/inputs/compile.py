"""Compile a condition (scenario + changes) and its postures into a :class:`~sim.inputs.spec.Spec`.

Everything that does not change during a run (admissible options per actor, action
features, posture weights, channel parameters, red lines, encounters, injects) is
resolved here once, so the per-turn rules are plain array arithmetic. Static
preconditions (who may act, where, with what capability, against whom) are enforced
here by leaving inadmissible options out; dynamic ones are masks in the rules.
Each table has one builder, in the order the data flows: ladder, actions, dyads,
channels, options, behaviour, world, encounters, injects.
"""

from __future__ import annotations

import math
import threading
from collections import OrderedDict
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from sim.errors import InputError
from sim.inputs import library
from sim.inputs.catalogue import Catalogue, load_catalogue
from sim.inputs.condition import Condition, apply
from sim.inputs.injects import check_cycles, compile_inject, compile_one, need
from sim.inputs.library import CATALOGUE_FILES, DEFAULT_SCENARIO
from sim.inputs.postures import hash_bytes, load_postures
from sim.inputs.schema import Baseline, Channel, Posture, ScenarioFile
from sim.inputs.spec import (
    ActionTable,
    BehaviourTable,
    ChannelTable,
    DyadTable,
    EncounterTable,
    LadderTable,
    OptionTable,
    ResponseTable,
    RuleConstants,
    Spec,
    WorldTable,
)
from sim.names import (
    ACTION_CATEGORIES,
    INCIDENTS,
    RULE_COVERED_UNITS,
    WEIGHTED_TERMS,
    ChannelEffect,
    ChannelStatus,
    EncounterDomain,
    TargetKind,
    Threshold,
)

__all__ = ["Spec", "check_scenario", "compile_condition", "compile_inject", "compile_scenario", "compiled",
           "remember"]

#: Lowest and highest answer probability a channel's logit is built from (keeps the logit finite).
_P_FLOOR = 1e-4


def compile_scenario(
    path: str | Path | Condition = DEFAULT_SCENARIO,
    overrides: list[tuple[str, Any]] | None = None,
    catalogue: Catalogue | None = None,
    levers: tuple[str, ...] | list[str] = (),
    overlays: tuple[str, ...] | list[str] = (),
) -> Spec:
    """Compile a scenario file, or a :class:`~sim.inputs.condition.Condition`, with extra changes.

    ``levers`` (ids defined in the scenario) and ``overlays`` (files in
    ``scenarios/overlays``) are named sets of overrides; ``overrides`` are applied last.
    Keys ``postures.<ACTOR>.<path>`` and ``baseline.<path>`` change posture data.
    """
    return compile_condition(Condition.of(path, levers=levers, overlays=overlays, overrides=overrides), catalogue)


def check_scenario(path: str | Path) -> Spec:
    """Compile a scenario as written, then with each of its levers and each overlay in the library
    switched on, so a bad lever or overlay value fails now, naming the lever, not when it is used."""
    from sim.inputs.library import OVERLAYS_DIR

    spec = compile_scenario(path)
    changes = [(f"levers.{i} ({lv.id})", Condition(str(path), levers=(lv.id,)))
               for i, lv in enumerate(spec.scenario.levers)]
    changes += [(f"overlay {o.stem}", Condition(str(path), overlays=(o.stem,)))
                for o in sorted(OVERLAYS_DIR.glob("*.yaml")) if o.stem not in spec.scenario.overlays]
    for name, cond in changes:
        try:
            compile_condition(cond)
        except InputError as exc:
            raise InputError(path, name, f"{exc.field}: {exc.message}" if exc.field else exc.message) from None
    return spec


_SPECS: OrderedDict[Condition, Spec] = OrderedDict()
_LOCK = threading.Lock()
_CACHED = 8


def remember(condition: Condition, spec: Spec) -> None:
    """Keep a compiled condition (the one spec cache: workers see the same point chunk after chunk)."""
    with _LOCK:
        _SPECS[condition] = spec
        _SPECS.move_to_end(condition)
        while len(_SPECS) > _CACHED:
            _SPECS.popitem(last=False)


def compiled(condition: Condition) -> Spec:
    """Compile a condition once per process."""
    with _LOCK:
        if condition in _SPECS:
            _SPECS.move_to_end(condition)
            return _SPECS[condition]
    spec = compile_condition(condition)
    remember(condition, spec)
    return spec


def compile_condition(condition: Condition, catalogue: Catalogue | None = None) -> Spec:
    """Load a condition's scenario and postures and build every table."""
    path = Path(condition.scenario)
    where = str(path)
    cat = catalogue or load_catalogue()
    app = apply(condition)
    scen = app.scenario
    baseline, postures, hashes = load_postures(scen, path, app.posture_changes)
    actor_ids = tuple(a.id for a in scen.actors)
    idx = {a: i for i, a in enumerate(actor_ids)}
    notes: list[str] = []
    check_postures(postures, scen.year, where, notes)
    ladder, actions = build_ladder(cat), build_actions(cat)
    dyads = build_dyads(scen, postures, idx)
    # a channel or forum exists in the scenario only if all its members are in it
    chans = [c for c in cat.channels if all(p in idx for p in c.parties)]
    channels = build_channels(scen, cat, chans, idx, where)
    options = build_options(cat, scen, postures, actor_ids, dyads, channels, ladder, actions, baseline)
    flags: list[str] = []
    inject_ids = [inj.id for inj in scen.injects]
    injects = tuple(compile_one(i, inj, idx, cat, options.action, chans, flags, where, inject_ids,
                                *steps(scen.turns.days))
                    for i, inj in enumerate(scen.injects))
    check_cycles(injects, where)
    cat_bytes = b"".join((cat.folder / f).read_bytes() for f in CATALOGUE_FILES)
    hashes[path.name] = hash_bytes(app.raw)
    hashes["catalogue"] = hash_bytes(cat_bytes)
    return Spec(
        scenario=scen, path=str(path), catalogue=cat, postures=postures, baseline=baseline,
        actor_ids=actor_ids, turns=scen.turns.max, hours=scen.turns.hours, ladder=ladder, actions=actions,
        options=options, behaviour=build_behaviour(cat, scen, postures, baseline, actor_ids, idx, dyads, where),
        dyads=dyads, channels=channels, encounters=build_encounters(scen, idx, where, notes),
        world=build_world(cat, scen, baseline, dyads, idx, where),
        responses=build_responses(cat, scen, postures, actor_ids, idx, options.action),
        constants=build_constants(scen, baseline, where, notes), injects=injects, flags=tuple(flags),
        content_hash=hash_bytes(*(v.encode() for v in sorted(hashes.values()))), file_hashes=hashes,
        applied=app.applied, notes=tuple(notes),
    )


# --------------------------------------------------------------------------- ladder and actions


def build_ladder(cat: Catalogue) -> LadderTable:
    """Rung values: escalation measured from the baseline rung (0) to the top (1)."""
    n_r = len(cat.rungs)
    status_quo = cat.threshold(Threshold.BASELINE)
    span = float(n_r - 1 - status_quo)
    units = cat.ladder.units
    n_u = len(units)
    fbt = np.zeros((n_u, n_u))
    for c in range(n_u):
        for u in range(n_u):
            fbt[c, u] = sum(units[k].salience for k in range(c + 1, u + 1) if units[k].firebreak)
    return LadderTable(
        esc=np.array([(i - status_quo) / span for i in range(n_r)]),
        cost=np.array([r.cost for r in cat.rungs]),
        friction=np.array([r.friction for r in cat.rungs]),
        unit=np.array([cat.unit_index(r.unit) for r in cat.rungs]),
        min_mid=np.array([units[cat.unit_index(r.unit)].min_mid for r in cat.rungs]),
        firebreaks=fbt,
    )


def build_actions(cat: Catalogue) -> ActionTable:
    acts = cat.actions

    def col(fn, dtype=float) -> np.ndarray:
        return np.array([fn(a) for a in acts], dtype=dtype)

    return ActionTable(
        rung=np.array([cat.rung_index(a.rung) for a in acts]),
        mid=col(lambda a: a.mid_hostility, int),
        viol=col(lambda a: a.icb_viol, int),
        relation=col(lambda a: a.effects.relation),
        relief=col(lambda a: a.effects.relief),
        provocation=col(lambda a: a.effects.provocation),
        channel=col(lambda a: ChannelEffect.parse(a.effects.channel), int),
        concession=col(lambda a: a.effects.concession, bool),
        commitment=col(lambda a: a.effects.commitment, bool),
        agreement=col(lambda a: a.effects.agreement, bool),
        talks=col(lambda a: a.effects.talks, bool),
        encounter=col(lambda a: EncounterDomain.parse(a.effects.encounter), int),
        mediation=col(lambda a: a.effects.mediation, bool),
        target_kind=col(lambda a: TargetKind.parse(a.target), int),
        restraint=col(lambda a: a.effects.restraint),
        broker=col(lambda a: a.effects.broker, bool),
        unit=col(cat.firebreak_unit, int),
        detain=col(lambda a: a.effects.detain, bool),
    )


# --------------------------------------------------------------------------- who is whose adversary and ally


def build_dyads(scen: ScenarioFile, postures: dict[str, Posture], idx: dict[str, int]) -> DyadTable:
    A = len(idx)
    adv = np.zeros((A, A), bool)
    for sa in scen.actors:
        for b in sa.adversaries:
            adv[idx[sa.id], idx[b]] = True
            adv[idx[b], idx[sa.id]] = True
    commit = np.zeros((A, A))
    for a, p in postures.items():
        for al in p.alliances:
            if al.ally in idx and (al.flashpoints is None or scen.flashpoint in al.flashpoints):
                commit[idx[a], idx[al.ally]] = al.commitment.value
    camp = np.zeros(A, int)  # 0 = the US and the actors it is allied to, 1 = the others
    us_allies = {al.ally for al in postures["US"].alliances} if "US" in postures else set()
    for a in idx:
        camp[idx[a]] = 0 if a == "US" or a in us_allies else 1
    return DyadTable(adversary=adv, commitment=commit, camp=camp)


# --------------------------------------------------------------------------- channels


def _logit(p: float) -> float:
    p = min(max(p, _P_FLOOR), 1 - _P_FLOOR)
    return math.log(p / (1 - p))


def _pair_tables(chans: list[Channel], idx: dict[str, int]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every channel and forum between each pair, hotlines first: calls go at run time to the best
    open one (so a reopened dialogue or a second mechanism is actually used)."""
    A = len(idx)
    party = np.zeros((max(len(chans), 1), A), bool)
    pair_ch: dict[tuple[int, int], list[int]] = {}
    pair_fo: dict[tuple[int, int], list[int]] = {}
    for ci, c in enumerate(chans):
        members = [idx[p] for p in c.parties if p in idx]
        party[ci, members] = True
        for x in members:
            for y in members:
                if x != y:
                    (pair_fo if c.kind == "multilateral" else pair_ch).setdefault((x, y), []).append(ci)
    for lst in pair_ch.values():
        lst.sort(key=lambda ci: (chans[ci].kind != "hotline", ci))

    def as_table(pairs: dict) -> np.ndarray:
        width = max([len(v) for v in pairs.values()] + [1])
        t = -np.ones((A, A, width), int)
        for (x, y), lst in pairs.items():
            t[x, y, : len(lst)] = lst
        return t

    return as_table(pair_ch), as_table(pair_fo), party


def build_channels(scen: ScenarioFile, cat: Catalogue, chans: list[Channel], idx: dict[str, int],
                   where: str) -> ChannelTable:
    known = {c.id for c in cat.channels}
    for cid in scen.channels:
        if cid not in known:
            raise InputError(where, f"channels.{cid}", "unknown channel")
    shift = scen.parameters.hotline_answer_shift
    bilateral, forums, party = _pair_tables(chans, idx)
    susp = np.zeros((max(len(chans), 1), len(cat.actions)), bool)
    for ci, c in enumerate(chans):
        for k in c.suspend_on:
            susp[ci, cat.action_index(k)] = True
    return ChannelTable(
        ids=tuple(c.id for c in chans), bilateral=bilateral, forums=forums, party=party,
        status0=np.array([ChannelStatus.parse(scen.channels.get(c.id, c.status)) for c in chans], int),
        logit=np.array([_logit(min(max(c.base_answer + shift, 0.0), 1.0)) for c in chans]),
        climate=np.array([c.climate_sensitivity for c in chans]),
        provocation=np.array([c.provocation_sensitivity for c in chans]),
        clarity=np.array([c.clarity for c in chans]),
        suspend_on=susp,
    )


# --------------------------------------------------------------------------- options


def _admissible(act, actor: str, ai: int, posture: Posture, scen: ScenarioFile, dyads: DyadTable,
                ch: ChannelTable) -> bool:
    """Static preconditions: what the state does (its repertoire), where, with what capability (held in the
    scenario's year), against whom."""
    rq = act.requires
    advs = np.flatnonzero(dyads.adversary[ai])
    if posture.repertoire is not None and act.id != "hold" and act.id not in posture.repertoire:
        return False
    if rq.actors is not None and actor not in rq.actors:
        return False
    if rq.flashpoints is not None and scen.flashpoint not in rq.flashpoints:
        return False
    if rq.capability is not None and rq.capability not in posture.capability_ids(scen.year):
        return False
    if act.target == "adversary" and not len(advs):
        return False
    if act.target == "ally" and not (dyads.commitment[ai] > 0).any():
        return False
    if act.effects.channel == "multilateral" and not any(
            c >= 0 and ch.status0[c] >= 0 for b in advs for c in ch.forums[ai, b]):
        return False
    return rq.channel is None or any((ch.bilateral[ai, b] >= 0).any() for b in advs)


def _option_actions(cat: Catalogue, scen: ScenarioFile, postures: dict[str, Posture], actor_ids: tuple[str, ...],
                    dyads: DyadTable, channels: ChannelTable) -> np.ndarray:
    rows = [[k for k, act in enumerate(cat.actions)
             if _admissible(act, a, ai, postures[a], scen, dyads, channels)]
            for ai, a in enumerate(actor_ids)]
    out = -np.ones((len(actor_ids), max(len(r) for r in rows)), int)
    for ai, row in enumerate(rows):
        out[ai, : len(row)] = row
    return out


def _affinity(cat: Catalogue, postures: dict[str, Posture], actor_ids: tuple[str, ...],
              opt_action: np.ndarray) -> np.ndarray:
    """Preference for each option: its category's affinity plus its own."""
    for file, key_path, key in affinity_keys_unknown(postures, cat):
        raise InputError(file, key_path, f"unknown action or category {key!r}")
    out = np.zeros(opt_action.shape)
    for ai, a in enumerate(actor_ids):
        aff = postures[a].affinity
        for j in np.flatnonzero(opt_action[ai] >= 0):
            act = cat.actions[opt_action[ai, j]]
            out[ai, j] = aff[act.category].value if act.category in aff else 0.0
            if act.id in aff:
                out[ai, j] += aff[act.id].value
    return out


def _repertoire(cat: Catalogue, postures: dict[str, Posture], actor_ids: tuple[str, ...], opt_action: np.ndarray,
                o_rung: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each option's habit prior, and the days it rests after a use (its tempo).

    The prior is the log of the move's daily odds against holding when nothing favours either (the
    default rule of rational inattention, Matějka & McKay 2015): its repertoire's ``per_year`` where the
    record gives one, else the unit's ``habit_per_year`` split over the rung's moves by repertoire weight
    (so what a state does more often is likelier and catalogue synonyms do not shift the odds). Holding
    is the reference (0). Because the prior is not divided by the temperature, noisier choice reverts to
    the state's habits, not to an even draw over the ladder.
    """
    weight = np.ones(opt_action.shape)
    pace = np.zeros(opt_action.shape)
    interval = np.zeros(opt_action.shape)
    for ai, a in enumerate(actor_ids):
        rep = postures[a].repertoire or {}
        for j in np.flatnonzero(opt_action[ai] >= 0):
            entry = rep.get(cat.actions[opt_action[ai, j]].id)
            if entry is not None:
                weight[ai, j] = entry.weight
                if entry.per_year:
                    pace[ai, j] = entry.per_year
                    interval[ai, j] = 365.0 / entry.per_year
    hold = cat.action_index("hold")
    habit = np.array([cat.ladder.units[cat.unit_index(r.unit)].habit_per_year for r in cat.rungs])
    prior = np.zeros(opt_action.shape)
    for ai in range(opt_action.shape[0]):
        valid = np.flatnonzero((opt_action[ai] >= 0) & (opt_action[ai] != hold))
        for j in valid:
            same = valid[o_rung[ai, valid] == o_rung[ai, j]]
            per_year = pace[ai, j] or habit[o_rung[ai, j]] * weight[ai, j] / weight[ai, same].sum()
            prior[ai, j] = math.log(per_year / 365.0)
    return prior, interval


def _requirements(cat: Catalogue) -> dict[str, np.ndarray]:
    """Dynamic preconditions per catalogue action, as rung indices and channel statuses (-1: none)."""
    out = {"min_crisis_rung": -np.ones(len(cat.actions), int), "min_own_rung": -np.ones(len(cat.actions), int)}
    for k, act in enumerate(cat.actions):
        for key, arr in out.items():
            v = getattr(act.requires, key)
            if v is not None:
                arr[k] = cat.rung_index(v)
    out["channel"] = np.array([-1 if a.requires.channel is None else ChannelStatus.parse(a.requires.channel)
                               for a in cat.actions])
    out["talks"] = np.array([a.requires.talks_with_target for a in cat.actions], bool)
    return out


def build_options(cat: Catalogue, scen: ScenarioFile, postures: dict[str, Posture], actor_ids: tuple[str, ...],
                  dyads: DyadTable, channels: ChannelTable, ladder: LadderTable, actions: ActionTable,
                  baseline: Baseline) -> OptionTable:
    opt_action = _option_actions(cat, scen, postures, actor_ids, dyads, channels)
    valid = opt_action >= 0
    safe = np.where(valid, opt_action, 0)
    o_rung = actions.rung[safe]
    req = _requirements(cat)
    chan_use = np.isin(actions.channel[safe], [ChannelEffect.USE, ChannelEffect.MULTILATERAL])
    hold = cat.action_index("hold")
    prior, interval = _repertoire(cat, postures, actor_ids, opt_action, o_rung)
    deesc = valid & (o_rung <= cat.threshold(Threshold.COOPERATIVE_CEILING))
    return OptionTable(
        action=opt_action, valid=valid,
        esc=np.where(valid, ladder.esc[o_rung], 0.0),
        cost=np.where(valid, ladder.cost[o_rung], 0.0),
        deesc=deesc,
        channel=valid & (chan_use | actions.talks[safe] | actions.mediation[safe]),
        econ=np.where(valid, np.array([a.econ_disruption for a in cat.actions])[safe], 0.0),
        support=valid & np.array([a.support for a in cat.actions], bool)[safe],
        affinity=_affinity(cat, postures, actor_ids, opt_action),
        prior=prior, interval=interval,
        settle=valid & actions.agreement[safe] & (actions.target_kind[safe] == TargetKind.ADVERSARY),
        concede=valid & actions.concession[safe],
        force=valid & (o_rung >= cat.threshold(Threshold.FORCE)),
        war=valid & (o_rung >= cat.threshold(Threshold.WAR)),
        target_kind=np.where(valid, actions.target_kind[safe], 0),
        req_channel=np.where(valid, req["channel"][safe], -1),
        req_crisis=np.where(valid, req["min_crisis_rung"][safe], -1),
        req_own=np.where(valid, req["min_own_rung"][safe], -1),
        req_talks=valid & req["talks"][safe],
        multilateral=valid & (actions.channel[safe] == ChannelEffect.MULTILATERAL),
        # firebreak penalty of each option given the unit the crisis has already reached
        firebreak=ladder.firebreaks[:, np.where(valid, actions.unit[safe], 0)],
        unit=np.where(valid, actions.unit[safe], 0),
        hold=np.array([int(np.flatnonzero(opt_action[ai] == hold)[0]) for ai in range(len(actor_ids))]),
    )


def affinity_keys_unknown(postures: dict[str, Posture], cat: Catalogue) -> Iterator[tuple[Path, str, str]]:
    """Yield (file, field, key) for affinity keys naming no action or category."""
    categories = set(ACTION_CATEGORIES)
    ids = {a.id for a in cat.actions}
    for a, p in postures.items():
        for key in p.affinity:
            if key not in categories and key not in ids:
                yield library.ACTORS_DIR / f"{a.lower()}.yaml", f"affinity.{key}", key


# --------------------------------------------------------------------------- behaviour (postures)


def _per_actor(postures: dict[str, Posture], actor_ids: tuple[str, ...], fn) -> np.ndarray:
    return np.array([fn(postures[a]) for a in actor_ids])


def _red_lines(cat: Catalogue, scen: ScenarioFile, postures: dict[str, Posture], actor_ids: tuple[str, ...],
               idx: dict[str, int]) -> np.ndarray:
    out = np.zeros((len(actor_ids), len(actor_ids), len(cat.actions) + len(INCIDENTS)))
    for a in actor_ids:
        for rl in postures[a].red_lines:
            if rl.by in idx and rl.holds_at(scen.flashpoint):
                try:
                    k = cat.trigger_index(rl)
                except KeyError:
                    raise InputError(library.ACTORS_DIR / f"{a.lower()}.yaml", "red_lines",
                                     f"unknown action {rl.action!r}") from None
                out[idx[a], idx[rl.by], k] = max(out[idx[a], idx[rl.by], k], rl.threat.value)
    return out


def _principals(scen: ScenarioFile, postures: dict[str, Posture], actor_ids: tuple[str, ...],
                dyads: DyadTable) -> np.ndarray:
    """The parties to the issue: named in the scenario, else the actors with stakes in the flashpoint that are
    adversaries of another such actor (a bystander's concession settles nothing)."""
    if scen.issue is not None:
        return np.array([a in scen.issue.parties for a in actor_ids])
    fp = scen.flashpoint
    staked = np.array([fp in postures[a].stakes and postures[a].stakes[fp].value > 0 for a in actor_ids])
    return staked & (dyads.adversary & staked[None, :]).any(axis=1)


def build_behaviour(cat: Catalogue, scen: ScenarioFile, postures: dict[str, Posture], baseline: Baseline,
                    actor_ids: tuple[str, ...], idx: dict[str, int], dyads: DyadTable, where: str) -> BehaviourTable:
    W = np.array([[(postures[a].weights.get(t) or baseline.weights[t]).value for t in WEIGHTED_TERMS]
                  for a in actor_ids])
    tau = _per_actor(postures, actor_ids, lambda p: (p.temperature or baseline.temperature).value)
    tau = tau * scen.parameters.temperature_scale
    for ai in np.flatnonzero(tau <= 0):
        raise InputError(where, f"actors.{ai}", "temperature must be positive")
    fp = scen.flashpoint
    nuclear = np.array(["nuclear" in postures[a].capability_ids(scen.year) for a in actor_ids])
    interdep = np.zeros((len(actor_ids), len(actor_ids)))
    for a in actor_ids:
        for b, v in postures[a].interdependence.items():
            if b in idx:
                interdep[idx[a], idx[b]] = v.value
    return BehaviourTable(
        weights=W, tau=tau,
        stakes=_per_actor(postures, actor_ids, lambda p: p.stakes[fp].value if fp in p.stakes else 0.0),
        pressure=_per_actor(postures, actor_ids, lambda p: p.domestic.pressure.value),
        election=np.array([a in scen.parameters.elections for a in actor_ids]),
        election_sens=_per_actor(postures, actor_ids, lambda p: p.domestic.election_sensitivity.value),
        stress_sens=_per_actor(postures, actor_ids, lambda p: p.domestic.stress_sensitivity.value),
        entrap_fear=_per_actor(postures, actor_ids,
                               lambda p: p.fears["entrapment"].value if "entrapment" in p.fears else 0.0),
        aband_fear=_per_actor(postures, actor_ids,
                              lambda p: p.fears["abandonment"].value if "abandonment" in p.fears else 0.0),
        interdependence=interdep,
        red_lines=_red_lines(cat, scen, postures, actor_ids, idx),
        grievance_rate=np.array([baseline.grievance_rate.value] * len(actor_ids)),
        nuclear=nuclear,
        deterrent=nuclear | ((dyads.commitment > 0) & nuclear[:, None]).any(axis=0),
        principal=_principals(scen, postures, actor_ids, dyads),
    )


# --------------------------------------------------------------------------- initial world and encounters


def build_world(cat: Catalogue, scen: ScenarioFile, baseline: Baseline, dyads: DyadTable, idx: dict[str, int],
                where: str) -> WorldTable:
    A = len(idx)
    H0 = np.zeros((A, A))
    for d in scen.hostility:
        need(idx, d.a, where, "hostility"), need(idx, d.b, where, "hostility")
        H0[idx[d.a], idx[d.b]] = d.value
    rel0 = np.zeros((A, A))
    for d in scen.relation:
        need(idx, d.a, where, "relation"), need(idx, d.b, where, "relation")
        rel0[idx[d.a], idx[d.b]] = rel0[idx[d.b], idx[d.a]] = d.value
    climate = scen.parameters.us_china_climate
    spill = baseline.frame_spillover.value
    camp = dyads.camp
    for x in range(A):
        for y in range(A):
            if x != y and camp[x] != camp[y]:
                rel0[x, y] = np.clip(rel0[x, y] + spill * climate, -1, 1)
    if "US" in idx and "PRC" in idx:
        rel0[idx["US"], idx["PRC"]] = rel0[idx["PRC"], idx["US"]] = climate
    rungs = {r.id for r in cat.rungs}
    for i, sa in enumerate(scen.actors):
        if sa.initial_rung not in rungs:
            raise InputError(where, f"actors.{i}.initial_rung", f"unknown rung {sa.initial_rung!r}")
    return WorldTable(hostility=H0, relation=rel0,
                      level=np.array([cat.rung_index(sa.initial_rung) for sa in scen.actors]))


def per_day(per_turn: float, days: float) -> float:
    """The daily probability that gives ``per_turn`` over a turn of ``days`` days."""
    return 1.0 - (1.0 - per_turn) ** (1.0 / days)


def build_encounters(scen: ScenarioFile, idx: dict[str, int], where: str, notes: list[str]) -> EncounterTable:
    encs = scen.encounters
    rates = []
    for i, e in enumerate(encs):
        for p in e.parties:
            need(idx, p, where, f"encounters.{i}.parties")
        if e.per_day is None:
            rates.append(per_day(e.rate, scen.turns.days))
            notes.append(f"{where}: encounters.{i}.rate is per turn (deprecated): read as per_day "
                         f"{rates[-1]:.4g}; `run_sim.py migrate {where}` rewrites the file")
        else:
            rates.append(e.per_day)
    return EncounterTable(
        p=np.array([idx[e.parties[0]] for e in encs], int),
        q=np.array([idx[e.parties[1]] for e in encs], int),
        domain=np.array([EncounterDomain.parse(e.domain) for e in encs], int),
        rate=np.array(rates, float),
        unsafe=np.array([e.unsafe for e in encs]),
        collision=np.array([e.collision for e in encs]),
        casualties=np.array([e.casualties for e in encs]),
        covered=np.array([e.units in RULE_COVERED_UNITS for e in encs], bool),
    )


def steps(turn_days: float) -> tuple[float, int]:
    """Engine step length (days) and steps per turn: whole days, or the turn itself if under a day."""
    n = max(1, math.ceil(turn_days - 1e-9))
    return turn_days / n, n


def build_constants(scen: ScenarioFile, baseline: Baseline, where: str, notes: list[str]) -> RuleConstants:
    b, prm, dt = baseline, scen.parameters, scen.turns.days
    decay = prm.hostility_decay_per_day
    if prm.hostility_decay is not None:
        decay = per_day(prm.hostility_decay, dt)
        notes.append(f"{where}: parameters.hostility_decay is per turn (deprecated): read as "
                     f"hostility_decay_per_day {decay:.4g}")
    offer = prm.agreement_days
    if prm.agreement_turns is not None:
        offer = prm.agreement_turns * dt
        notes.append(f"{where}: parameters.agreement_turns is deprecated: read as agreement_days {offer:g}")
    step, per_turn = steps(dt)
    return RuleConstants(
        dt=step, steps_per_turn=per_turn, talk_days=b.talk_days.value, offer_days=offer, calm_days=b.calm_days.value,
        calm_band=b.calm_band.value,
        response_days=b.response_days.value, fatigue_days=b.fatigue_days.value,
        decay=1.0 - (1.0 - decay) ** step, misread_up=b.misread_up.value, refusal_signal=b.refusal_signal.value,
        incident_shock=b.incident_shock.value, deliberate_read=b.deliberate_read.value,
        hostility_gain=b.hostility_gain.value, ally_spillover=b.ally_spillover.value,
        unsafe_pressure=b.unsafe_pressure.value, responder_share=b.responder_share.value,
        clarity_decay=b.clarity_decay.value, grievance_relief=b.grievance_relief.value,
        credibility_floor=b.credibility_floor.value, captive_restraint=b.captive_restraint.value,
        captive_pressure=b.captive_pressure.value,
    )


def build_responses(cat: Catalogue, scen: ScenarioFile, postures: dict[str, Posture], actor_ids: tuple[str, ...],
                    idx: dict[str, int], opt_action: np.ndarray) -> ResponseTable:
    """Red lines with declared answers, each answer resolved to the actor's options (absent options drop out)."""
    rows = []
    for a in actor_ids:
        for rl in postures[a].red_lines:
            if not rl.response or rl.by not in idx or not rl.holds_at(scen.flashpoint):
                continue
            try:
                answers = {cat.action_index(r) for r in rl.response}
            except KeyError as exc:
                raise InputError(library.ACTORS_DIR / f"{a.lower()}.yaml", "red_lines.response",
                                 f"unknown action {exc.args[0]!r}") from None
            rows.append((idx[a], idx[rl.by], cat.trigger_index(rl), np.isin(opt_action[idx[a]], list(answers))))
    rows += _suspension_answers(cat, idx, opt_action)
    K = opt_action.shape[1]
    if K > 64:
        raise InputError("actions.yaml", "actions", "an actor has more than 64 options (answers are a 64-bit mask)")
    options = np.array([r[3] for r in rows], bool).reshape(len(rows), K)
    bits = (options.astype(np.uint64) << np.arange(K, dtype=np.uint64)[None, :]).sum(axis=1, dtype=np.uint64)
    return ResponseTable(
        actor=np.array([r[0] for r in rows], int), by=np.array([r[1] for r in rows], int),
        action=np.array([r[2] for r in rows], int), options=options, bits=bits,
    )


def _suspension_answers(cat: Catalogue, idx: dict[str, int], opt_action: np.ndarray) -> list[tuple]:
    """A channel's ``suspend_on`` actions (channels.yaml) make suspending it a declared answer for the offended
    party: a choice the party makes (and the log shows), not an automatic rule."""
    suspend = cat.action_index("suspend_channel")
    rows = []
    for c in cat.channels:
        members = [p for p in c.parties if p in idx]
        if len(members) < len(c.parties):
            continue
        for k in c.suspend_on:
            for a in members:
                if (opt_action[idx[a]] == suspend).any():
                    for b in members:
                        if b != a:
                            rows.append((idx[a], idx[b], cat.action_index(k), opt_action[idx[a]] == suspend))
    return rows


def check_postures(postures: dict[str, Posture], year: int, where: str, notes: list[str]) -> None:
    """A recommendation is not behaviour: the default posture may not rest on one (variants and levers may)."""
    for a, p in postures.items():
        for path, value in _values(p.model_dump(exclude={"variants"}), ""):
            src = value.get("source") or {}
            if src.get("kind") == "recommends":
                raise InputError(library.ACTORS_DIR / f"{a.lower()}.yaml", path,
                                 "rests on a recommendation, not on what the state does: move it to a variant "
                                 "or a scenario lever")
        if abs(p.as_of - year) > 5:
            notes.append(f"{where}: the {a} posture describes {p.as_of}; the scenario is set in {year}")


def _values(node, path: str):
    """Every value-with-provenance in a dumped model, with its dotted path."""
    if isinstance(node, dict):
        if "source" in node or "assumption" in node or "history" in node:
            yield path.lstrip("."), node
        for k, v in node.items():
            yield from _values(v, f"{path}.{k}")
    elif isinstance(node, list):
        for i, v in enumerate(node):
            yield from _values(v, f"{path}.{i}")
