"""Each decision term pushes in its documented direction (one input varied at a time).

Probabilities come from ``rules.score`` — the same code the draw uses — on a controlled
state, so these tests are exact, not statistical.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from sim.engine import decisions, rules
from sim.engine.rng import run_keys
from sim.names import WEIGHTED_TERMS as TERMS


def state(spec, turn=3):
    st = rules.State.initial(spec, run_keys(0, [0]), np.array([0]))
    st.turn = turn
    return st


def probs(spec, st, actor):
    a = spec.actor_index(actor)
    return rules.score(spec, st, np.array([a])).probabilities[0, 0], a


def expected_esc(spec, st, actor):
    p, a = probs(spec, st, actor)
    return float((p * spec.options.esc[a]).sum())


def mass(spec, st, actor, pred):
    p, a = probs(spec, st, actor)
    acts = spec.catalogue.actions
    sel = np.array([spec.options.valid[a, j] and pred(acts[spec.options.action[a, j]]) for j in range(p.size)])
    return float(p[sel].sum())


def reweight(spec, actor, term, factor):
    W = spec.behaviour.weights.copy()
    W[spec.actor_index(actor), TERMS.index(term)] *= factor
    return dataclasses.replace(spec, behaviour=dataclasses.replace(spec.behaviour, weights=W))


def rung_at_least(spec, rung):
    r = spec.catalogue.rung_index(rung)
    return lambda act: spec.catalogue.rung_index(act.rung) >= r


def test_more_perceived_threat_more_escalation(specs):
    spec = specs["taiwan_strait"]
    lo, hi = state(spec), state(spec)
    p, t = spec.actor_index("PRC"), spec.actor_index("TWN")
    lo.H[0, p, t], hi.H[0, p, t] = 0.1, 0.8
    assert expected_esc(spec, hi, "PRC") > expected_esc(spec, lo, "PRC") + 0.02


def test_higher_stakes_amplify_the_response_to_threat(specs):
    spec = specs["taiwan_strait"]
    lo, hi = state(spec), state(spec)
    p, t = spec.actor_index("PRC"), spec.actor_index("TWN")
    lo.H[0, p, t] = hi.H[0, p, t] = 0.5
    hi.stakes_shift[0, p] = 0.5
    assert expected_esc(spec, hi, "PRC") > expected_esc(spec, lo, "PRC")


def test_reciprocity_matches_the_adversary(specs):
    spec = specs["korean_peninsula"]
    lo, hi = state(spec), state(spec)
    u, d = spec.actor_index("US"), spec.actor_index("DPRK")
    hi.perc[0, u, d] = spec.catalogue.rung_index("show_of_force")
    f = rung_at_least(spec, "grey_zone")
    assert mass(spec, hi, "US", f) > mass(spec, lo, "US", f)


def test_inertia_makes_big_jumps_unlikely(specs):
    spec = specs["korean_peninsula"]
    lo, hi = state(spec), state(spec)
    u = spec.actor_index("US")
    hi.level[0, u] = spec.catalogue.rung_index("mobilise")
    f = rung_at_least(spec, "mobilise")
    assert mass(spec, hi, "US", f) > mass(spec, lo, "US", f)


def test_cost_aversion_lowers_escalation(specs):
    spec = specs["taiwan_strait"]
    st = state(spec)
    st.H[0, spec.actor_index("PRC"), spec.actor_index("TWN")] = 0.7
    assert expected_esc(reweight(spec, "PRC", "cost", 2.0), st, "PRC") < expected_esc(spec, st, "PRC")


def test_firebreak_restrains_most_until_the_actor_itself_crosses(specs):
    spec = specs["senkaku"]
    nobody, others, itself = state(spec), state(spec), state(spec)
    p = spec.actor_index("PRC")
    for st in (nobody, others, itself):
        st.H[0, p, spec.actor_index("JPN")] = 0.6
    for st in (others, itself):
        st.crisis[:] = spec.catalogue.rung_index("harass")
        st.crossed[:] = spec.ladder.unit[st.crisis]
    itself.own_crossed[0, p] = spec.ladder.unit[spec.catalogue.rung_index("harass")]
    f = rung_at_least(spec, "harass")
    m0, m1, m2 = (mass(spec, st, "PRC", f) for st in (nobody, others, itself))
    assert m0 < m1 < m2 and m2 > 2 * m0


def test_alliance_commitment_supports_an_ally_under_attack(specs):
    spec = specs["senkaku"]
    lo, hi = state(spec), state(spec)
    j, p = spec.actor_index("JPN"), spec.actor_index("PRC")
    hi.H[0, j, p] = 0.9
    hi.attacked[0, j] = True
    sup = lambda act: act.support  # noqa: E731
    assert mass(spec, hi, "US", sup) > mass(spec, lo, "US", sup) + 0.05


def test_entrapment_fear_restrains_when_the_ally_out_escalates(specs):
    spec = specs["senkaku"]
    lo, hi = state(spec), state(spec)
    u, j, p = (spec.actor_index(x) for x in ("US", "JPN", "PRC"))
    for st in (lo, hi):
        st.H[0, u, p] = 0.5
    hi.level[0, j] = spec.catalogue.rung_index("seize")
    assert expected_esc(spec, hi, "US") < expected_esc(spec, lo, "US")


def test_public_commitment_makes_backing_down_costly(specs):
    spec = specs["taiwan_strait"]
    lo, hi = state(spec), state(spec)
    hi.committed[0, spec.actor_index("PRC")] = True
    f = lambda act: spec.catalogue.rung_index(act.rung) <= spec.catalogue.rung_index("engage")  # noqa: E731
    assert mass(spec, hi, "PRC", f) < mass(spec, lo, "PRC", f)


def test_domestic_pressure_pushes_firmness(specs):
    spec = specs["taiwan_strait"]
    st = state(spec)
    st.H[0, spec.actor_index("US"), spec.actor_index("PRC")] = 0.4
    quiet = dataclasses.replace(spec.behaviour, pressure=spec.behaviour.pressure * 0)
    calm = dataclasses.replace(spec, behaviour=quiet)
    assert expected_esc(spec, st, "US") > expected_esc(calm, st, "US")


def test_interdependence_deters_economic_coercion(specs):
    spec = specs["taiwan_strait"]
    st = state(spec)
    st.H[0, spec.actor_index("US"), spec.actor_index("PRC")] = 0.5
    econ = lambda act: act.econ_disruption > 0  # noqa: E731
    assert mass(spec, st, "US", econ) > mass(reweight(spec, "US", "interdependence", 4.0), st, "US", econ)


def test_open_channel_invites_calls(specs):
    spec = specs["taiwan_strait"]
    open_, shut = state(spec), state(spec)
    for cid in ("us_prc_dtl", "us_prc_mmca", "us_prc_arms_control"):
        shut.ch_status[0, spec.channel_ids.index(cid)] = 0
    call = lambda act: act.id == "hotline_call"  # noqa: E731
    assert mass(spec, open_, "US", call) > 0.005
    assert mass(spec, shut, "US", call) == 0.0  # precondition: the channel must be open


def test_cooperative_climate_lowers_escalation(specs):
    spec = specs["taiwan_strait"]
    coop, rival = state(spec), state(spec)
    u, p = spec.actor_index("US"), spec.actor_index("PRC")
    for st, v in ((coop, 0.8), (rival, -0.8)):
        st.rel[0, u, p] = st.rel[0, p, u] = v
        st.H[0, u, p] = 0.4
    assert expected_esc(spec, coop, "US") < expected_esc(spec, rival, "US")


def test_unanswered_grievance_builds_pressure(specs):
    spec = specs["korean_peninsula"]
    lo, hi = state(spec), state(spec)
    hi.frustration[0, spec.actor_index("DPRK")] = 1.0
    assert expected_esc(spec, hi, "DPRK") > expected_esc(spec, lo, "DPRK")


def test_affinity_reflects_posture_preferences(specs):
    spec = specs["korean_peninsula"]
    st = state(spec)
    short = mass(spec, st, "DPRK", lambda a: a.id == "missile_test")
    long_ = mass(spec, st, "DPRK", lambda a: a.id == "long_range_test")
    assert short > 3 * long_


@pytest.mark.parametrize("name", ["taiwan_strait", "senkaku", "korean_peninsula"])
def test_every_logged_choice_has_reasons(ensembles, name):
    ev = ensembles[name].events
    chosen = ev[~ev.scripted & (ev.action != "hold")]
    assert chosen.driver1.notna().all() and chosen.restraint.notna().all()
    assert (chosen.driver1_weight >= chosen.driver2_weight).all()
    assert (chosen.restraint_weight <= chosen.driver2_weight).all()


def test_threat_drives_force(ensembles):
    """When an actor uses force, threat or its amplifiers are among the logged drivers."""
    ev = ensembles["korean_peninsula"].events
    force = ev[(ev.rung_intended.cat.codes >= 9) & ~ev.scripted]
    assert len(force) > 20
    drivers = set(force.driver1.astype(str)) | set(force.driver2.astype(str))
    assert {"threat", "stakes"} & drivers
    assert (force.restraint.astype(str).isin(["cost", "firebreak", "inertia"])).mean() > 0.8


@pytest.mark.parametrize("name", ["taiwan_strait", "senkaku", "korean_peninsula"])
def test_fast_utility_equals_sum_of_terms(specs, name):
    """decisions.utility (parts grouped by feature, for speed) is the weighted sum of decisions.term_values."""
    spec = specs[name]
    rng = np.random.default_rng(0)
    st = state(spec).take(np.zeros(50, int))
    st.H[:] = rng.uniform(0, 1, st.H.shape)
    st.rel[:] = rng.uniform(-1, 1, st.rel.shape)
    st.level[:] = rng.integers(0, 12, st.level.shape)
    st.perc[:] = rng.integers(0, 12, st.perc.shape)
    st.frustration[:] = rng.uniform(0, 1, st.frustration.shape)
    st.committed[:] = rng.uniform(size=st.committed.shape) < 0.5
    st.crossed[:] = rng.integers(0, 6, st.crossed.shape)
    st.own_crossed[:] = np.minimum(rng.integers(0, 6, st.own_crossed.shape), st.crossed[:, None])
    st.wronged[:] = rng.integers(-1, 12, st.wronged.shape)
    st.wronged_until[:] = rng.uniform(0, 6, st.wronged_until.shape)
    rows = np.arange(spec.n_actors)
    t_adv, t_ally = rules.targets(spec, st, rows)
    s = rules.state_terms(spec, st, rows, t_adv, t_ally)
    f = decisions.features(spec, st, rows, s)
    total = f["affinity"] + spec.behaviour.tau[None, :, None] * spec.options.prior[None]
    for j, (term, val) in enumerate(rules.term_values({k: v[..., None] for k, v in s.items()}, f)):
        assert term == TERMS[j]
        total = total + spec.behaviour.weights[None, :, j, None] * val
    fast = rules.utility(spec, st, rows, s, f)
    valid = np.broadcast_to(spec.options.valid[None], fast.shape)
    np.testing.assert_allclose(fast[valid], total[valid], rtol=1e-12, atol=1e-12)


def test_a_day_choice_aggregates_over_the_turn():
    """Over a turn of dt days an actor holds only if it would hold every day."""
    p = np.array([[[0.6, 0.3, 0.1]]])
    out = decisions.over_turn(p, np.array([0]), 4.0)
    assert out[0, 0, 0] == pytest.approx(0.6 ** 4)
    assert out[0, 0, 1] / out[0, 0, 2] == pytest.approx(3.0)
    assert out.sum() == pytest.approx(1.0)
    np.testing.assert_array_equal(decisions.over_turn(p, np.array([0]), 1.0), p)


def test_a_blow_received_waives_the_firebreak_for_an_answer_in_kind(specs):
    """After being hit with force, answering in kind crosses no threshold; without the blow it does."""
    spec = specs["korean_peninsula"]
    st = state(spec)
    d, r = spec.actor_index("DPRK"), spec.actor_index("ROK")
    rows = np.array([r])
    t_adv, t_ally = rules.targets(spec, st, rows)
    before = rules.firebreak_penalty(spec, st, rows, rules.state_terms(spec, st, rows, t_adv, t_ally))
    st.wronged[0, r, d] = spec.catalogue.rung_index("limited_force")
    st.wronged_until[0, r, d] = st.day(spec) + 3
    st.H[0, r, d] = 0.6
    t_adv, t_ally = rules.targets(spec, st, rows)
    after = rules.firebreak_penalty(spec, st, rows, rules.state_terms(spec, st, rows, t_adv, t_ally))
    force = spec.options.force[r] & ~spec.options.war[r]
    assert (after[0, 0, force] < before[0, 0, force]).all()
    war = spec.options.war[r] & spec.options.valid[r]
    np.testing.assert_array_equal(after[0, 0, war] > 0, True)


def test_a_crossed_red_line_makes_the_declared_answer_likely(specs):
    spec = specs["taiwan_strait"]
    if not len(spec.responses.actor):
        pytest.skip("no declared answers in this scenario's postures")
    line = 0
    a, b = int(spec.responses.actor[line]), int(spec.responses.by[line])
    answer = spec.responses.options[line]
    quiet, crossed = state(spec), state(spec)
    for st in (quiet, crossed):
        st.H[0, a, b] = 0.8
    crossed.owed[0, a, b], crossed.owed_until[0, a, b] = spec.responses.bits[line], crossed.day(spec) + 3
    p_quiet = probs(spec, quiet, spec.actor_ids[a])[0][answer].sum()
    p_crossed = probs(spec, crossed, spec.actor_ids[a])[0][answer].sum()
    assert p_crossed > p_quiet + 0.2


def test_major_war_needs_a_fight_under_way(specs):
    spec = specs["korean_peninsula"]
    st = state(spec)
    a = spec.actor_index("US")
    war = spec.options.war[a] & spec.options.valid[a]
    assert war.any()
    assert not rules.admissible(spec, st, a)[0][war].any()
    st.level[0, a] = spec.catalogue.rung_index("limited_force")
    assert rules.admissible(spec, st, a)[0][war].any()


def test_nuclear_deterrence_restrains_war_against_a_nuclear_state(specs):
    spec = specs["korean_peninsula"]
    st = state(spec)
    a, d = spec.actor_index("US"), spec.actor_index("DPRK")
    st.level[0, a] = spec.catalogue.rung_index("limited_force")
    st.H[0, a, d] = 1.0
    war = spec.options.war[a] & spec.options.valid[a]
    with_deterrence = probs(spec, st, "US")[0][war].sum()
    free = reweight(spec, "US", "deterrence", 0.0)
    assert spec.behaviour.deterrent[d] and probs(free, st, "US")[0][war].sum() > with_deterrence * 5
