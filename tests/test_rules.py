"""Rule-level behaviour seen in real runs: preconditions hold, outcomes are coherent."""

from __future__ import annotations

import numpy as np
import pytest

from sim.inputs.catalogue import load_catalogue
from sim.names import FORCE_OUTCOMES

CAT = load_catalogue()


@pytest.mark.parametrize("name", ["taiwan_strait", "senkaku", "korean_peninsula"])
def test_static_preconditions_hold_in_events(specs, ensembles, name):
    spec, ev = specs[name], ensembles[name].events
    for action, group in ev.groupby("action", observed=True):
        act = CAT.actions[CAT.action_index(action)]
        rq = act.requires
        actors = set(group.actor.astype(str))
        if rq.actors is not None:
            assert actors <= set(rq.actors), action
        if rq.capability is not None:
            for a in actors:
                assert rq.capability in spec.postures[a].capability_ids(spec.scenario.year), (action, a)
        if rq.flashpoints is not None:
            assert spec.scenario.flashpoint in rq.flashpoints, action
        if act.target == "adversary":
            for a, t in zip(group.actor.astype(str), group.target.astype(str), strict=True):
                assert spec.dyads.adversary[spec.actor_index(a), spec.actor_index(t)], (action, a, t)


@pytest.mark.parametrize("name", ["taiwan_strait", "senkaku", "korean_peninsula"])
def test_dynamic_preconditions_hold_in_events(ensembles, name):
    ev = ensembles[name].events
    # nuclear use only once the crisis has reached major war; signalling only after force
    for action, floor in (("nuclear_use", "major_war"), ("nuclear_signalling", "harass")):
        for run in ev[ev.action == action].run.unique():
            e = ev[ev.run == run]
            first = e[e.action == action].turn.min()
            before = e[e.turn < first]
            assert (before.rung_realised.cat.codes >= CAT.rung_index(floor)).any()


def test_joint_statements_follow_talks(specs, ensembles):
    ev = ensembles["taiwan_strait"].events
    js = ev[ev.action == "joint_statement"]
    talk_ids = ("propose_talks", "multilateral_talks", "request_mediation", "broker_talks")  # a broker opens them too
    assert len(js) > 20
    for _, row in js.head(200).iterrows():
        e = ev[(ev.run == row.run) & (ev.turn < row.turn) & (ev.turn >= row.turn - 3)]
        answered_call = (e.action == "hotline_call") & (e.channel_answered == "yes")
        assert e.action.isin(talk_ids).any() or answered_call.any()


@pytest.mark.parametrize("name", ["taiwan_strait", "senkaku", "korean_peninsula"])
def test_outcomes_are_coherent(ensembles, name):
    r = ensembles[name].runs
    # severity and settlement are separate (as ICB's VIOL and OUTCOM): a clash may still end by agreement
    assert (r.outcome.isin(FORCE_OUTCOMES) <= (r.peak_mid_hostility >= 4)).all()
    assert ((r.peak_mid_hostility >= 4) & ~r.outcome.isin(FORCE_OUTCOMES)).le(
        r.outcome.isin(["deescalated_agreement", "coercive_gain"])).all()
    war = r.outcome == "major_war"
    assert (r[war].peak_rung_index >= CAT.rung_index("major_war")).all()
    assert (r.turns >= 1).all() and (r.turns <= 30).all()
    assert r.first_force_turn[r.use_of_force].between(1, 30).all()
    assert r.first_force_cause.notna().eq(r.use_of_force).all() and r.first_force_day.notna().eq(r.use_of_force).all()
    assert r.first_force_turn.notna().eq(r.use_of_force).all()  # a null, not a -1, when force was never used
    coerced = r.outcome == "coercive_gain"
    assert r[coerced].coercive_winner.notna().all()  # null (not "") where nobody won by coercion
    # paths start at the initial peak and end at the run's peak rung
    assert all(p.split(">")[-1] == k for p, k in zip(r.path, r.peak_rung.astype(str), strict=True))


def test_scripted_trigger_fires_first_turn(ensembles):
    ev = ensembles["taiwan_strait"].events
    t1 = ev[(ev.turn == 1) & (ev.actor == "TWN")]
    assert (t1.action == "sovereignty_assertion").all() and t1.scripted.all()
    assert (ensembles["taiwan_strait"].injects.query("inject == 'T1'").turn == 1).all()


def test_channels_tried_and_answered_are_counted(ensembles):
    r = ensembles["taiwan_strait"].runs
    assert (r.answered_us_prc_dtl <= r.tried_us_prc_dtl).all()
    assert r.tried_us_prc_dtl.sum() > 0


def test_incidents_come_from_encounters(specs, ensembles):
    r, ev = ensembles["senkaku"].runs, ensembles["senkaku"].events
    assert r.incidents.sum() > 0
    inc = ev[ev.incident]
    assert (inc.rung_realised.cat.codes >= CAT.rung_index("harass")).all()
    assert np.isin(inc.actor.astype(str), ["PRC", "JPN", "US"]).all()


def test_a_crisis_ends_when_threat_is_back_at_its_pre_crisis_level_for_calm_days():
    """ICB's termination (threat perception back at its norm), not a quiet spell of moves: a run with every
    move at the status quo but one side's threat above its starting level stays open; one whose threat is back
    ends after ``calm_days``; held personnel keep it open whatever the threat."""
    from sim.engine import resolve_kernel as rk

    R, A = 3, 2
    adversary = np.array([[False, True], [True, False]])
    H0 = np.full((A, A), 0.2)
    H = np.full((R, A, A), 0.1)
    H[0, 1, 0] = 0.25  # run 0: the second actor still feels more threat than before the crisis
    captive = np.zeros((R, A, A), bool)
    captive[2, 0, 1] = True  # run 2: personnel held
    realised = np.zeros((R, A), np.int64)
    offers = np.zeros((R, A, A), np.float32)
    calm, end, end_turn = np.zeros(R, np.float32), np.zeros(R, np.int8), np.full(R, -1, np.int64)
    ends = []
    for turn in range(1, 5):
        rk.terminate(turn, 10, realised, captive, offers, adversary, H, H0, (99, 100), np.float32(1.0),
                     np.float32(3.0 - 1e-6), calm, end, end_turn)
        ends.append(end.copy())
    assert [int(e[1]) for e in ends] == [0, 0, rk.END_FADED, rk.END_FADED]  # day 3 of threat at its norm
    assert all(int(e[0]) == 0 and int(e[2]) == 0 for e in ends)
    assert calm[0] == 0 and calm[2] == 0


def test_coast_guard_moves_cross_only_the_coercion_firebreak_in_their_users_eyes(specs):
    """Grey-zone law enforcement (``firebreak_unit: coercion`` in actions.yaml) costs its user the "don't rock
    the boat" threshold, not militarisation: from the subcrisis a coast-guard patrol crosses one firebreak, a
    military exercise two. Fails if the option table ignores the action's own unit."""
    spec, cat = specs["senkaku"], load_catalogue()
    a = spec.actor_ids.index("PRC")
    opts = {cat.actions[n].id: k for k, n in enumerate(spec.options.action[a]) if n >= 0}
    sub, coercion = cat.unit_index("subcrisis"), cat.unit_index("coercion")
    display = cat.unit_index("display")
    sal = {u.id: u.salience for u in cat.ladder.units}
    fb = spec.options.firebreak[sub, a]
    assert fb[opts["coast_guard_patrol"]] == pytest.approx(sal["coercion"])
    assert fb[opts["military_exercise"]] == pytest.approx(sal["coercion"] + sal["display"])
    assert spec.options.unit[a, opts["coast_guard_patrol"]] == coercion
    assert spec.options.unit[a, opts["military_exercise"]] == display


def _arrest_scenario(tmp_path):
    """The shipped Senkaku scenario with Japan scripted to arrest a Chinese crew on day 1."""
    import yaml

    from sim.inputs.library import SCENARIOS_DIR

    data = yaml.safe_load((SCENARIOS_DIR / "senkaku.yaml").read_text(encoding="utf-8"))
    data["injects"] = [{"id": "A1", "title": "JCG arrests a trawler's crew", "kind": "scheduled", "day": 1,
                        "effects": {"force_action": {"actor": "JPN", "action": "arrest_crew", "target": "PRC"}}}]
    path = tmp_path / "senkaku_arrest.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


def test_an_arrest_is_a_use_of_force_by_mid_that_holds_the_crew_and_keeps_its_users_military_firebreak(tmp_path):
    """An arrest under domestic law is MID's seizure (use of force, hostility 4: first force on day 1, scripted,
    by Japan) though it sits on the grey-zone rung; the crew is held, so no run fades while it is; and it does
    not waive Japan's own militarisation threshold (its record stays at the coercion unit)."""
    from sim.engine import rules
    from sim.engine.ensemble import simulate
    from sim.engine.loop import advance
    from sim.engine.outcomes import EventLog
    from sim.engine.rng import run_keys
    from sim.inputs.compile import compile_scenario

    spec = compile_scenario(_arrest_scenario(tmp_path))
    runs = simulate(spec, 5, 300, events=False).runs
    jpn = spec.actor_ids.index("JPN")
    assert (runs["peak_mid_hostility"] >= 4).all() and runs["use_of_force"].all()
    assert (runs["first_force_turn"] == 1).all()
    assert set(runs["first_force_cause"].astype(str)) == {"scripted"}
    assert set(runs["first_force_actor"].astype(str)) == {"JPN"}
    st = rules.State.initial(spec, run_keys(5, np.arange(50)), np.arange(50))
    advance(spec, st, EventLog(spec, enabled=False))
    prc = spec.actor_ids.index("PRC")
    assert st.captive[:, prc, jpn].all()  # the PRC's crew, held by Japan
    assert (st.own_crossed[:, jpn] <= load_catalogue().unit_index("coercion")).all()
    faded = runs["end_reason"].astype(str) == "faded"
    assert not (faded & (runs["duration_days"] < spec.constants.calm_days)).any()


def _collision_scenario(tmp_path, blamed: bool):
    """The shipped Senkaku scenario with only a scripted day-1 collision: a private trawler rams a JCG cutter.
    ``blamed``: the inject blames the Chinese side (``effects.collision``), else it is threat only."""
    import yaml

    from sim.inputs.library import SCENARIOS_DIR

    data = yaml.safe_load((SCENARIOS_DIR / "senkaku.yaml").read_text(encoding="utf-8"))
    effects = {"hostility": [{"a": "JPN", "b": "PRC", "value": 0.15}]}
    if blamed:
        effects["collision"] = {"by": "PRC", "against": "JPN"}
    data["injects"] = [{"id": "C1", "title": "A trawler rams a JCG cutter", "kind": "scheduled", "day": 1,
                        "effects": effects}]
    data["levers"] = []
    path = tmp_path / f"senkaku_collision_{blamed}.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


def test_a_scripted_collision_is_a_blow_that_owes_the_victims_declared_answer_but_no_state_move(tmp_path):
    """A collision blamed on a side (``effects.collision``) is remembered by its victim as a blow at the use of
    force and crosses the victim's collision red line (Japan: arrest the master), as an encounter collision
    does; it is counted as an incident but is no move of the blamed state's, so it carries no MID level.
    Fails if the inject ignores ``collision`` or if it makes the PRC's side a user of force."""
    from sim.engine import injects
    from sim.engine.ensemble import simulate
    from sim.engine.rng import run_keys
    from sim.engine.state import State
    from sim.inputs.compile import compile_scenario

    spec = compile_scenario(_collision_scenario(tmp_path, blamed=True))
    cat, (jpn, prc) = load_catalogue(), (spec.actor_ids.index(x) for x in ("JPN", "PRC"))
    st = State.initial(spec, run_keys(3, np.arange(20)), np.arange(20))
    injects.begin_turn(spec, st)
    assert (st.wronged[:, jpn, prc] == cat.threshold("force")).all()
    assert (st.wronged_until[:, jpn, prc] > st.day(spec)).all()
    arrest = np.flatnonzero(spec.options.action[jpn] == cat.action_index("arrest_crew"))[0]
    assert ((st.owed[:, jpn, prc] >> np.uint64(arrest)) & np.uint64(1)).all()
    assert (st.incidents == 1).all()
    runs = simulate(spec, 3, 400, events=True)
    ev = runs.events
    day1_prc = ev[(ev.day <= 1) & (ev.actor.astype(str) == "PRC")]
    assert not ((day1_prc.mid_hostility >= 4) & day1_prc.incident).any()  # no Chinese state move was made
    arrested = ev[(ev.actor.astype(str) == "JPN") & (ev.action.astype(str) == "arrest_crew") & (ev.day <= 7)]
    plain = simulate(compile_scenario(_collision_scenario(tmp_path, blamed=False)), 3, 400, events=True).events
    plain_arrests = plain[(plain.actor.astype(str) == "JPN") & (plain.action.astype(str) == "arrest_crew")
                          & (plain.day <= 7)]
    assert arrested.run.nunique() / 400 > 0.5 > 0.1 > plain_arrests.run.nunique() / 400
    first = arrested[arrested.day <= 2]  # the next day, before any later Chinese move: it answers the collision
    assert len(first) > 100 and (first.cause_action.astype(str) == "collision").all()


def test_an_encounter_collision_is_a_blow_even_when_the_responsible_side_made_no_move_at_its_victim():
    """A collision in an encounter is blamed on one side (the one pressing, or a toss-up); its victim remembers
    it as a blow at the use of force whether or not that side's move this turn was aimed at the victim.
    Fails if only the hostility step (which sees moves, not collisions) records blows."""
    from sim.engine import resolve_kernel as rk

    R, A, force = 1, 2, 5
    act, realised = np.zeros((R, A), np.int64), np.zeros((R, A), np.int64)
    mid, viol = np.zeros((R, A), np.int64), np.zeros((R, A), np.int64)
    incident, accident = np.zeros((R, A), bool), np.zeros((R, A), bool)
    u = np.zeros((R, 1, 6))
    u[0, 0, 5] = 0.9  # the toss-up blames the second side
    H, clarity = np.zeros((R, A, A)), np.zeros((R, A, A))
    wronged, wronged_until = -np.ones((R, A, A), np.int8), np.zeros((R, A, A), np.float32)
    owed, owed_until = np.zeros((R, A, A), np.uint64), np.zeros((R, A, A), np.float32)
    lines = (np.array([0]), np.array([1]), np.array([7]), np.array([4], np.uint64))  # actor 0 owes option 2
    red_lines = np.zeros((A, A, 8))
    last_hostile, last_hostile_turn = -np.ones((R, A, A), np.int16), np.zeros((R, A, A), np.int16)
    struck = np.zeros((R, A), bool)
    rk.encounters(act, realised, mid, viol, incident, accident, struck, u, np.array([0]), np.array([1]), np.array([1]),
                  np.ones((1, 3)), np.ones(1), np.ones(1), np.ones(1), np.zeros(1), np.zeros(1, np.int64),
                  (3, force), (0.0, 0.1, 0.1, 0.5, 0.5), H, clarity, np.zeros(R, np.int16), np.zeros(R, np.int16),
                  4, (np.float32(1.0), np.float32(8.0)), 7, red_lines,
                  (wronged, wronged_until, owed, owed_until, last_hostile, last_hostile_turn), lines)
    assert accident[0, 1] and not accident[0, 0]
    assert struck[0, 0] and not struck[0, 1]  # the victim is struck, the responsible side is not
    assert wronged[0, 0, 1] == force and wronged_until[0, 0, 1] == 8.0
    assert owed[0, 0, 1] == 4 and owed_until[0, 0, 1] == 8.0
    assert last_hostile[0, 0, 1] == 7 and last_hostile_turn[0, 0, 1] == 4  # the answer is logged as to the collision


def test_a_collision_strikes_its_victim_not_whoever_the_responsible_sides_move_was_aimed_at():
    """A collision blamed on the PRC raises the PRC's level to the use of force (the crisis reached it, by
    accident), but the PRC's move that turn, a show of force at Taiwan, stays what it was: Taiwan reads
    the show, is not attacked and remembers no blow at the use of force; Japan, rammed, is attacked.
    Fails if the move's target reads the collision's rung (the bystander effect) or the victim is not struck."""
    from sim.engine import resolution, rules
    from sim.engine.rng import run_keys
    from sim.engine.state import State
    from sim.inputs.compile import compile_scenario
    from sim.inputs.library import SCENARIOS_DIR
    from sim.names import TargetKind

    spec = compile_scenario(SCENARIOS_DIR / "taiwan_strait.yaml")
    twn, prc, jpn = (spec.actor_ids.index(x) for x in ("TWN", "PRC", "JPN"))
    force = spec.catalogue.threshold("force")
    st = State.initial(spec, run_keys(3, np.arange(8)), np.arange(8))
    dec = rules.decide(spec, st, reasons=False)
    rung = spec.actions.rung[spec.options.action[prc]]
    show = np.flatnonzero((spec.options.target_kind[prc] == TargetKind.ADVERSARY) & spec.options.valid[prc]
                          & (rung > spec.catalogue.threshold("baseline")) & (rung < force))[0]
    assert spec.dyads.adversary[prc, twn]
    dec.opt[:, prc], dec.target[:, prc] = show, twn
    mv = resolution.realise(spec, st, dec)
    moved = mv.moved[:, prc].copy()
    assert (moved < force).all()
    mv.realised[:, prc], mv.struck[:, jpn] = force, True  # what resolve_kernel.encounters does on a collision
    resolution.perceive(spec, st, mv)
    resolution.hostility(spec, st, mv)
    assert not st.attacked[:, twn].any() and st.attacked[:, jpn].all()
    assert (st.wronged[:, twn, prc] < force).all()
    assert (mv.perceived[:, prc] <= moved + 1).all()  # Taiwan read the show (one rung off at most, in fog)
