"""Compile a scenario and its postures into a ``Spec``: static arrays the rules read.

Everything that does not change during a run (admissible options per actor, action
features, posture weights, channel parameters, red lines, encounters, injects) is
resolved here once, so the per-turn rules are plain array arithmetic. Static
preconditions (who may act, where, with what capability, against whom) are enforced
here by leaving inadmissible options out; dynamic ones are masks in ``rules.py``.
"""

from __future__ import annotations

import copy
import hashlib
import math
import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from sim.errors import InputError
from sim.inputs.catalogue import Catalogue, load_catalogue
from sim.inputs.condition import Applied, Condition, apply, set_path
from sim.inputs.library import (
    ACTORS_DIR,
    CATALOGUE_FILES,
    DATA_DIR,
    DEFAULT_SCENARIO,
)
from sim.inputs.loader import read_yaml, validate
from sim.inputs.schema import Baseline, Inject, Posture, ScenarioFile
from sim.names import (
    ACTION_CATEGORIES,
    RULE_COVERED_UNITS,
    WEIGHTED_TERMS,
    ChannelEffect,
    ChannelStatus,
    EncounterDomain,
    TargetKind,
    Threshold,
)

#: Decision terms carried in the weight matrix (affinity has weight 1 and is added directly).
TERMS = WEIGHTED_TERMS


@dataclass(frozen=True)
class CondNode:
    """A compiled inject condition (see schema.Condition)."""

    kind: str
    args: tuple = ()
    children: tuple[CondNode, ...] = ()


@dataclass(frozen=True)
class CInject:
    """A compiled inject with indices resolved."""

    index: int
    source: Inject
    kind: str
    turn: int | None
    cond: CondNode | None
    probability: float
    hostility: tuple[tuple[int, int, float], ...]
    relation: tuple[tuple[int, int, float], ...]
    stakes: tuple[tuple[int, float], ...]
    channels: tuple[tuple[int, int], ...]
    stress: float | None
    flags: tuple[int, ...]
    affinity: tuple[tuple[int, int, float], ...]  # actor, option index, delta
    talks: tuple[tuple[int, int], ...]
    force: tuple[int, int, int] | None  # actor, option index, target (-1 = rule)


@dataclass(frozen=True, eq=False)
class Spec:
    """Everything static about one compiled scenario."""

    scenario: ScenarioFile
    path: str
    catalogue: Catalogue
    postures: dict[str, Posture]
    baseline: Baseline
    actor_ids: tuple[str, ...]
    turns: int
    hours: float
    arrays: dict[str, np.ndarray]
    injects: tuple[CInject, ...]
    flags: tuple[str, ...]
    channel_ids: tuple[str, ...]
    content_hash: str
    file_hashes: dict[str, str] = field(default_factory=dict)
    applied: Applied = field(default_factory=lambda: Applied())

    def __getattr__(self, name: str) -> np.ndarray:
        try:
            return self.__dict__["arrays"][name]
        except KeyError:
            raise AttributeError(name) from None

    @property
    def n_actors(self) -> int:
        return len(self.actor_ids)

    def actor_index(self, actor: str) -> int:
        return self.actor_ids.index(actor)


# --------------------------------------------------------------------------- helpers


def _hash_bytes(*blobs: bytes) -> str:
    h = hashlib.sha256()
    for b in blobs:
        h.update(hashlib.sha256(b).digest())
    return h.hexdigest()


def _posture_path(scenario_path: Path, posture: str | None, actor: str) -> Path:
    if posture:
        return (scenario_path.parent / posture).resolve()
    return ACTORS_DIR / f"{actor.lower()}.yaml"


def _apply_variant(posture: Posture, name: str | None, where: str, field: str) -> Posture:
    if name is None:
        return posture
    if name not in posture.variants:
        known = ", ".join(sorted(posture.variants)) or "none"
        raise InputError(where, field, f"unknown variant {name!r} for {posture.actor} (known: {known})")
    v = posture.variants[name]
    data = posture.model_copy(deep=True)
    upd: dict[str, Any] = {
        "weights": {**posture.weights, **v.weights},
        "stakes": {**posture.stakes, **v.stakes},
        "affinity": {**posture.affinity, **v.affinity},
    }
    if v.alliances is not None:
        upd["alliances"] = v.alliances
    if v.temperature is not None:
        upd["temperature"] = v.temperature
    return data.model_copy(update=upd)


# --------------------------------------------------------------------------- compile


def _read_with(path: Path, model, changes: list[tuple[str, Any]] | None):
    data, node = read_yaml(path)
    if changes:
        if not isinstance(data, dict):
            raise InputError(path, "", "expected a mapping at the top level")
        data = copy.deepcopy(data)
        for key, value in changes:
            if key.endswith(".value"):
                # a changed value is no longer what its source said: it becomes an assumption
                key, value = key[: -len(".value")], {"value": value,
                                                     "assumption": f"experiment override: {key} = {value!r}"}
            set_path(data, key, value, str(path))
        node = None
    return validate(model, data, path, node)


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
    """Load a condition's scenario and postures and build the static arrays."""
    path = Path(condition.scenario)
    cat = catalogue or load_catalogue()
    app = apply(condition)
    scen, scen_bytes, targets, applied = app.scenario, app.raw, app.posture_changes, app.applied
    where = str(path)
    actor_ids = tuple(a.id for a in scen.actors)
    A = len(actor_ids)
    idx = {a: i for i, a in enumerate(actor_ids)}
    fp = scen.flashpoint

    base_path = ACTORS_DIR / "baseline.yaml"
    baseline = _read_with(base_path, Baseline, targets.pop("baseline", None))
    hashes = {str(base_path.name): _hash_bytes(base_path.read_bytes())}
    postures: dict[str, Posture] = {}
    for actor in targets:
        if actor not in idx:
            raise InputError(where, f"postures.{actor}", "actor is not in the scenario")
    for i, sa in enumerate(scen.actors):
        ppath = _posture_path(path, sa.posture if sa.posture else None, sa.id)
        p = _read_with(ppath, Posture, targets.pop(sa.id, None))
        if p.actor != sa.id:
            raise InputError(where, f"actors.{i}.posture", f"posture file is for {p.actor}, not {sa.id}")
        postures[sa.id] = _apply_variant(p, sa.variant, where, f"actors.{i}.variant")
        hashes[ppath.name] = _hash_bytes(ppath.read_bytes())

    rung_ids = [r.id for r in cat.rungs]
    n_r = len(rung_ids)
    status_quo = cat.threshold(Threshold.BASELINE)
    span = float(n_r - 1 - status_quo)
    rung_esc = np.array([(i - status_quo) / span for i in range(n_r)])
    rung_unit = np.array([cat.unit_index(r.unit) for r in cat.rungs])
    rung_min_mid = np.array([cat.ladder.units[cat.unit_index(r.unit)].min_mid for r in cat.rungs])
    units = cat.ladder.units
    n_u = len(units)
    fbt = np.zeros((n_u, n_u))
    for c in range(n_u):
        for u in range(n_u):
            fbt[c, u] = sum(units[k].salience for k in range(c + 1, u + 1) if units[k].firebreak)

    # ---- actions (global tables)
    acts = cat.actions
    N = len(acts)
    a_rung = np.array([cat.rung_index(a.rung) for a in acts])

    def col(fn, dtype=float):
        return np.array([fn(a) for a in acts], dtype=dtype)

    garr: dict[str, np.ndarray] = {
        "act_rung": a_rung,
        "act_mid_action": col(lambda a: a.mid_action, int),
        "act_mid": col(lambda a: a.mid_hostility, int),
        "act_viol": col(lambda a: a.icb_viol, int),
        "act_relation": col(lambda a: a.effects.relation),
        "act_relief": col(lambda a: a.effects.relief),
        "act_provocation": col(lambda a: a.effects.provocation),
        "act_chan": col(lambda a: ChannelEffect.parse(a.effects.channel), int),
        "act_concession": col(lambda a: a.effects.concession, bool),
        "act_commit": col(lambda a: a.effects.commitment, bool),
        "act_agreement": col(lambda a: a.effects.agreement, bool),
        "act_talks": col(lambda a: a.effects.talks, bool),
        "act_encounter": col(lambda a: EncounterDomain.parse(a.effects.encounter), int),
        "act_casualties": col(lambda a: a.effects.casualties, bool),
        "act_mediation": col(lambda a: a.effects.mediation, bool),
        "act_target_kind": col(lambda a: TargetKind.parse(a.target), int),
        "rung_esc": rung_esc,
        "rung_cost": np.array([r.cost for r in cat.rungs]),
        "rung_friction": np.array([r.friction for r in cat.rungs]),
        "rung_unit": rung_unit,
        "rung_min_mid": rung_min_mid,
        "fbt": fbt,
    }

    # ---- alliances, adversaries, camps
    adv = np.zeros((A, A), bool)
    for sa in scen.actors:
        for b in sa.adversaries:
            adv[idx[sa.id], idx[b]] = True
            adv[idx[b], idx[sa.id]] = True
    commit = np.zeros((A, A))
    for a, p in postures.items():
        for al in p.alliances:
            if al.ally in idx and (al.flashpoints is None or fp in al.flashpoints):
                commit[idx[a], idx[al.ally]] = al.commitment.value
    camp = np.zeros(A, int)  # 0 = US and its allies/partners, 1 = others
    for a in actor_ids:
        us_linked = a == "US" or ("US" in postures and any(al.ally == a for al in postures["US"].alliances))
        camp[idx[a]] = 0 if us_linked else 1

    # ---- channels present in the scenario
    chans = [c for c in cat.channels if sum(p in idx for p in c.parties) >= 2]
    known_ch = {c.id for c in cat.channels}
    for cid in scen.channels:
        if cid not in known_ch:
            raise InputError(where, f"channels.{cid}", "unknown channel")
    C = len(chans)
    ch_status = np.array([ChannelStatus.parse(scen.channels.get(c.id, c.status)) for c in chans], int)
    shift = scen.parameters.hotline_answer_shift

    def logit(p: float) -> float:
        p = min(max(p, 1e-4), 1 - 1e-4)
        return math.log(p / (1 - p))

    ch_logit = np.array([logit(min(max(c.base_answer + shift, 0.0), 1.0)) for c in chans])
    ch_party = np.zeros((max(C, 1), A), bool)
    # every channel and forum between each pair, hotlines first: calls go at run time to the
    # best open one (so a reopened dialogue or a second mechanism is actually used)
    pair_ch: dict[tuple[int, int], list[int]] = {}
    pair_fo: dict[tuple[int, int], list[int]] = {}
    for ci, c in enumerate(chans):
        members = [idx[p] for p in c.parties if p in idx]
        ch_party[ci, members] = True
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
    chan_list, forum_list = as_table(pair_ch), as_table(pair_fo)
    susp = np.zeros((max(C, 1), N), bool)
    for ci, c in enumerate(chans):
        for k in c.suspend_on:
            susp[ci, cat.action_index(k)] = True

    # ---- per-actor options (static preconditions)
    opts: list[list[int]] = []
    for a in actor_ids:
        p = postures[a]
        ai = idx[a]
        has_adv = adv[ai].any()
        has_ally = (commit[ai] > 0).any()
        row = []
        for k, act in enumerate(acts):
            rq = act.requires
            if rq.actors is not None and a not in rq.actors:
                continue
            if rq.flashpoints is not None and fp not in rq.flashpoints:
                continue
            if rq.capability is not None and rq.capability not in p.capabilities:
                continue
            if act.target == "adversary" and not has_adv:
                continue
            if act.target == "ally" and not has_ally:
                continue
            if act.effects.channel == "multilateral" and not any(
                    c >= 0 and ch_status[c] >= 0 for b in np.flatnonzero(adv[ai]) for c in forum_list[ai, b]):
                continue
            if rq.channel is not None and not any((chan_list[ai, b] >= 0).any() for b in np.flatnonzero(adv[ai])):
                continue
            row.append(k)
        opts.append(row)
    K = max(len(r) for r in opts)
    opt_action = -np.ones((A, K), int)
    for ai, row in enumerate(opts):
        opt_action[ai, : len(row)] = row
    valid = opt_action >= 0
    safe = np.where(valid, opt_action, 0)
    o_rung = a_rung[safe]
    rq_rung = {"min_crisis_rung": -np.ones(N, int), "min_own_rung": -np.ones(N, int)}
    for k, act in enumerate(acts):
        for key in rq_rung:
            v = getattr(act.requires, key)
            if v is not None:
                rq_rung[key][k] = cat.rung_index(v)
    req_channel = np.array([-1 if a.requires.channel is None else ChannelStatus.parse(a.requires.channel)
                            for a in acts])
    engage = cat.threshold(Threshold.COOPERATIVE_CEILING)
    affinity = np.zeros((A, K))
    for ai, a in enumerate(actor_ids):
        aff = postures[a].affinity
        for j in range(K):
            if not valid[ai, j]:
                continue
            act = acts[opt_action[ai, j]]
            affinity[ai, j] = aff[act.category].value if act.category in aff else 0.0
            if act.id in aff:
                affinity[ai, j] += aff[act.id].value
    for key in list(affinity_keys_unknown(postures, cat)):
        raise InputError(key[0], key[1], f"unknown action or category {key[2]!r}")
    # catalogue-size correction: each rung's options share the rung's prior mass
    crowd = np.zeros((A, K))
    for ai in range(A):
        r = o_rung[ai][valid[ai]]
        counts = {v: int((r == v).sum()) for v in set(r.tolist())}
        for j in range(K):
            if valid[ai, j]:
                crowd[ai, j] = math.log(counts[o_rung[ai, j]])
    oarr = {
        "opt_action": opt_action,
        "opt_valid": valid,
        "opt_rung": np.where(valid, o_rung, 0),
        "opt_esc": np.where(valid, rung_esc[o_rung], 0.0),
        "opt_cost": np.where(valid, garr["rung_cost"][o_rung], 0.0),
        "opt_unit": np.where(valid, rung_unit[o_rung], 0),
        "opt_deesc": valid & (o_rung <= engage),
        "opt_chan": valid & (np.isin(garr["act_chan"][safe], [ChannelEffect.USE, ChannelEffect.MULTILATERAL])
                             | garr["act_talks"][safe]
                             | garr["act_mediation"][safe]),
        "opt_econ": np.where(valid, col(lambda a: a.econ_disruption)[safe], 0.0),
        "opt_support": valid & col(lambda a: a.support, bool)[safe],
        "opt_affinity": affinity,
        "opt_crowd": crowd,
        "opt_target_kind": np.where(valid, garr["act_target_kind"][safe], 0),
        "opt_req_channel": np.where(valid, req_channel[safe], -1),
        "opt_req_crisis": np.where(valid, rq_rung["min_crisis_rung"][safe], -1),
        "opt_req_own": np.where(valid, rq_rung["min_own_rung"][safe], -1),
        "opt_req_talks": valid & col(lambda a: a.requires.talks_with_target, bool)[safe],
        "opt_multi": valid & (garr["act_chan"][safe] == ChannelEffect.MULTILATERAL),
        # firebreak penalty of each option given the unit the crisis has already reached
        "opt_firebreak": fbt[:, np.where(valid, rung_unit[o_rung], 0)],
    }
    hold = cat.action_index("hold")
    hold_opt = np.array([int(np.flatnonzero(opt_action[ai] == hold)[0]) for ai in range(A)])

    # ---- posture scalars
    W = np.zeros((A, len(TERMS)))
    tau = np.zeros(A)
    for ai, a in enumerate(actor_ids):
        p = postures[a]
        for j, t in enumerate(TERMS):
            W[ai, j] = (p.weights.get(t) or baseline.weights[t]).value
        tau[ai] = (p.temperature or baseline.temperature).value
        if tau[ai] <= 0:
            raise InputError(where, f"actors.{ai}", "temperature must be positive")
    stakes = np.array([postures[a].stakes[fp].value if fp in postures[a].stakes else 0.0 for a in actor_ids])
    pressure = np.array([postures[a].domestic.pressure.value for a in actor_ids])
    elect = np.array([a in scen.parameters.elections for a in actor_ids])
    elect_sens = np.array([postures[a].domestic.election_sensitivity.value for a in actor_ids])
    stress_sens = np.array([postures[a].domestic.stress_sensitivity.value for a in actor_ids])
    entrap_fear = np.array([postures[a].fears["entrapment"].value if "entrapment" in postures[a].fears else 0.0
                            for a in actor_ids])
    aband_fear = np.array([postures[a].fears["abandonment"].value if "abandonment" in postures[a].fears else 0.0
                           for a in actor_ids])
    interdep = np.zeros((A, A))
    for a in actor_ids:
        for b, v in postures[a].interdependence.items():
            if b in idx:
                interdep[idx[a], idx[b]] = v.value
    redline = np.zeros((A, A, N))
    for a in actor_ids:
        for rl in postures[a].red_lines:
            if rl.by in idx and (rl.flashpoints is None or fp in rl.flashpoints):
                try:
                    k = cat.action_index(rl.action)
                except KeyError:
                    raise InputError(ACTORS_DIR / f"{a.lower()}.yaml", "red_lines",
                                     f"unknown action {rl.action!r}") from None
                redline[idx[a], idx[rl.by], k] = max(redline[idx[a], idx[rl.by], k], rl.threat.value)

    # ---- initial world
    prm = scen.parameters
    H0 = np.zeros((A, A))
    for d in scen.hostility:
        _need(idx, d.a, where, "hostility"), _need(idx, d.b, where, "hostility")
        H0[idx[d.a], idx[d.b]] = d.value
    rel0 = np.zeros((A, A))
    for d in scen.relation:
        _need(idx, d.a, where, "relation"), _need(idx, d.b, where, "relation")
        rel0[idx[d.a], idx[d.b]] = rel0[idx[d.b], idx[d.a]] = d.value
    climate = prm.us_china_climate
    fs = baseline.frame_spillover.value
    for x in range(A):
        for y in range(A):
            if x != y and camp[x] != camp[y]:
                rel0[x, y] = np.clip(rel0[x, y] + fs * climate, -1, 1)
    if "US" in idx and "PRC" in idx:
        rel0[idx["US"], idx["PRC"]] = rel0[idx["PRC"], idx["US"]] = climate
    level0 = np.array([cat.rung_index(sa.initial_rung) for sa in scen.actors])

    # ---- encounters
    encs = scen.encounters
    for i, e in enumerate(encs):
        for p in e.parties:
            _need(idx, p, where, f"encounters.{i}.parties")
    earr = {
        "enc_p": np.array([idx[e.parties[0]] for e in encs], int),
        "enc_q": np.array([idx[e.parties[1]] for e in encs], int),
        "enc_domain": np.array([EncounterDomain.parse(e.domain) for e in encs], int),
        "enc_rate": np.array([e.rate for e in encs]),
        "enc_unsafe": np.array([e.unsafe for e in encs]),
        "enc_collision": np.array([e.collision for e in encs]),
        "enc_casualties": np.array([e.casualties for e in encs]),
        "enc_covered": np.array([e.units in RULE_COVERED_UNITS for e in encs], bool),
    }

    # ---- injects
    flags: list[str] = []
    inject_ids = [inj.id for inj in scen.injects]
    injects = tuple(_compile_inject(i, inj, idx, cat, opt_action, chans, flags, where, inject_ids)
                    for i, inj in enumerate(scen.injects))
    _check_inject_cycles(injects, where)

    arrays = {
        **garr,
        **oarr,
        **earr,
        "hold_opt": hold_opt,
        "W": W,
        "tau": tau,
        "stakes": stakes,
        "pressure": pressure,
        "election": elect,
        "election_sens": elect_sens,
        "stress_sens": stress_sens,
        "entrap_fear": entrap_fear,
        "aband_fear": aband_fear,
        "interdep": interdep,
        "redline": redline,
        "adv": adv,
        "commit": commit,
        "camp": camp,
        "chan_list": chan_list,
        "forum_list": forum_list,
        "ch_party": ch_party,
        "ch_status0": ch_status,
        "ch_logit": ch_logit,
        "ch_clim": np.array([c.climate_sensitivity for c in chans]),
        "ch_prov": np.array([c.provocation_sensitivity for c in chans]),
        "ch_clarity": np.array([c.clarity for c in chans]),
        "ch_susp": susp,
        "H0": H0,
        "rel0": rel0,
        "level0": level0,
        "grievance_rate": np.array([baseline.grievance_rate.value] * A),
        "has_affinity_shift": np.array(any(inj.affinity for inj in injects)),
    }
    for v in arrays.values():
        v.setflags(write=False)
    cat_bytes = b"".join((DATA_DIR / f).read_bytes() for f in CATALOGUE_FILES)
    hashes[path.name] = _hash_bytes(scen_bytes)
    hashes["catalogue"] = _hash_bytes(cat_bytes)
    content = _hash_bytes(*(v.encode() for v in sorted(hashes.values())))
    return Spec(
        scenario=scen, path=str(path), catalogue=cat, postures=postures, baseline=baseline,
        actor_ids=actor_ids, turns=scen.turns.max, hours=scen.turns.hours, arrays=arrays,
        injects=injects, flags=tuple(flags), channel_ids=tuple(c.id for c in chans),
        content_hash=content, file_hashes=hashes, applied=applied,
    )


def affinity_keys_unknown(postures: dict[str, Posture], cat: Catalogue):
    """Yield (file, field, key) for affinity keys naming no action or category."""
    categories = set(ACTION_CATEGORIES)
    ids = {a.id for a in cat.actions}
    for a, p in postures.items():
        for key in p.affinity:
            if key not in categories and key not in ids:
                yield ACTORS_DIR / f"{a.lower()}.yaml", f"affinity.{key}", key


def _need(idx: dict[str, int], actor: str, where: str, field: str) -> None:
    if actor not in idx:
        raise InputError(where, field, f"actor {actor} is not in the scenario")


def _compile_cond(c, idx, cat, flags, where, field, inject_ids) -> CondNode:
    if c.turn_at_least is not None:
        return CondNode("turn", (c.turn_at_least,))
    if c.crisis_rung_at_least is not None:
        return CondNode("crisis_rung", (_rung(cat, c.crisis_rung_at_least, where, field),))
    if c.actor_rung_at_least is not None:
        _need(idx, c.actor_rung_at_least.actor, where, field)
        return CondNode("actor_rung", (idx[c.actor_rung_at_least.actor],
                                       _rung(cat, c.actor_rung_at_least.rung, where, field)))
    if c.action_taken is not None:
        _need(idx, c.action_taken.actor, where, field)
        try:
            k = cat.action_index(c.action_taken.action)
        except KeyError:
            raise InputError(where, field + ".action_taken.action",
                             f"unknown action {c.action_taken.action!r}") from None
        return CondNode("action", (idx[c.action_taken.actor], k))
    if c.flag is not None:
        if c.flag not in flags:
            flags.append(c.flag)
        return CondNode("flag", (flags.index(c.flag),))
    if c.inject_fired is not None:
        if c.inject_fired not in inject_ids:
            raise InputError(where, field + ".inject_fired", f"unknown inject {c.inject_fired!r}")
        return CondNode("inject", (inject_ids.index(c.inject_fired),))
    if c.not_ is not None:
        return CondNode("not", (), (_compile_cond(c.not_, idx, cat, flags, where, field + ".not", inject_ids),))
    kind = "all" if c.all is not None else "any"
    kids = c.all if c.all is not None else c.any
    return CondNode(kind, (), tuple(_compile_cond(k, idx, cat, flags, where, f"{field}.{kind}.{i}", inject_ids)
                                    for i, k in enumerate(kids or [])))


def _rung(cat: Catalogue, rung: str, where: str, field: str) -> int:
    try:
        return cat.rung_index(rung)
    except KeyError:
        raise InputError(where, field, f"unknown rung {rung!r}") from None


def _compile_inject(i, inj: Inject, idx, cat, opt_action, chans, flags, where, inject_ids) -> CInject:
    f = f"injects.{i}"
    e = inj.effects
    for d in (*e.hostility, *e.relation):
        _need(idx, d.a, where, f + ".effects"), _need(idx, d.b, where, f + ".effects")
    for a in e.stakes:
        _need(idx, a, where, f + ".effects.stakes")
    for pr in e.talks:
        _need(idx, pr.a, where, f + ".effects.talks"), _need(idx, pr.b, where, f + ".effects.talks")
    ch_ids = [c.id for c in chans]
    channels = []
    for cid, st in e.channels.items():
        if cid not in ch_ids:
            raise InputError(where, f"{f}.effects.channels.{cid}", "channel is not active in this scenario")
        channels.append((ch_ids.index(cid), int(ChannelStatus.parse(st))))
    for fl in e.flags:
        if fl not in flags:
            flags.append(fl)
    force = None
    if e.force_action is not None:
        fa = e.force_action
        _need(idx, fa.actor, where, f + ".effects.force_action.actor")
        try:
            k = cat.action_index(fa.action)
        except KeyError:
            raise InputError(where, f + ".effects.force_action.action", f"unknown action {fa.action!r}") from None
        hits = np.flatnonzero(opt_action[idx[fa.actor]] == k)
        if hits.size == 0:
            raise InputError(where, f + ".effects.force_action.action",
                             f"{fa.actor} cannot take {fa.action!r} in this scenario (preconditions)")
        tgt = -1
        if fa.target is not None:
            _need(idx, fa.target, where, f + ".effects.force_action.target")
            tgt = idx[fa.target]
        force = (idx[fa.actor], int(hits[0]), tgt)
    shifts = []
    for j, sh in enumerate(e.affinity):
        _need(idx, sh.actor, where, f"{f}.effects.affinity.{j}.actor")
        try:
            k = cat.action_index(sh.action)
        except KeyError:
            raise InputError(where, f"{f}.effects.affinity.{j}.action", f"unknown action {sh.action!r}") from None
        hits = np.flatnonzero(opt_action[idx[sh.actor]] == k)
        if hits.size == 0:
            raise InputError(where, f"{f}.effects.affinity.{j}.action",
                             f"{sh.actor} cannot take {sh.action!r} in this scenario (preconditions)")
        shifts.append((idx[sh.actor], int(hits[0]), sh.delta))
    cond = _compile_cond(inj.when, idx, cat, flags, where, f + ".when", inject_ids) \
        if inj.when is not None else None
    return CInject(
        index=i, source=inj, kind=inj.kind, turn=inj.turn, cond=cond, probability=inj.probability,
        hostility=tuple((idx[d.a], idx[d.b], d.value) for d in e.hostility),
        relation=tuple((idx[d.a], idx[d.b], d.value) for d in e.relation),
        stakes=tuple((idx[a], v) for a, v in e.stakes.items()),
        channels=tuple(channels), stress=e.stress,
        flags=tuple(flags.index(x) for x in e.flags), affinity=tuple(shifts), force=force,
        talks=tuple((idx[pr.a], idx[pr.b]) for pr in e.talks),
    )


def _check_inject_cycles(injects: tuple[CInject, ...], where: str) -> None:
    """Injects that wait on each other (inject_fired) in a cycle could never fire."""
    def deps(node: CondNode | None) -> set[int]:
        if node is None:
            return set()
        own = {node.args[0]} if node.kind == "inject" else set()
        return own.union(*(deps(c) for c in node.children)) if node.children else own
    graph = {inj.index: deps(inj.cond) for inj in injects}
    state: dict[int, int] = {}

    def visit(i: int, trail: list[int]) -> None:
        state[i] = 1
        for j in graph[i]:
            if state.get(j) == 1:
                cyc = " -> ".join(injects[k].source.id for k in [*trail[trail.index(j):], i, j]) \
                    if j in trail else f"{injects[i].source.id} -> {injects[j].source.id}"
                raise InputError(where, f"injects.{i}.when", f"injects wait on each other in a cycle: {cyc}")
            if state.get(j) is None:
                visit(j, [*trail, i])
        state[i] = 2
    for i in graph:
        if state.get(i) is None:
            visit(i, [])


def compile_inject(spec: Spec, inject: Inject, index: int = -1) -> CInject:
    """Compile one inject against a compiled scenario (a facilitator's edit or new inject).

    Conditions may not refer to new flags here: a live inject applies at once.
    """
    idx = {a: i for i, a in enumerate(spec.actor_ids)}
    chans = [spec.catalogue.channel(c) for c in spec.channel_ids]
    flags = list(spec.flags)
    inj = _compile_inject(index, inject, idx, spec.catalogue, spec.opt_action, chans, flags, "inject",
                          [i.source.id for i in spec.injects])
    if len(flags) != len(spec.flags):
        raise InputError("inject", "effects.flags", f"unknown flag(s): {', '.join(flags[len(spec.flags):])}")
    return inj
