"""The ladder and action catalogue: complete, consistent, and honest about disagreements."""

from __future__ import annotations

import pytest

from sim.inputs.catalogue import MID_ACTION_HOSTILITY, load_catalogue

CAT = load_catalogue()
ACTIONS = {a.id: a for a in CAT.actions}
REQUIRED = [
    "protest", "hotline_call", "propose_talks", "joint_statement", "request_mediation", "concession",
    "confidence_building", "sanctions", "export_controls", "cyber_operation", "info_campaign",
    "coast_guard_patrol", "water_cannon", "militia_swarm", "adiz_incursion", "military_exercise",
    "missile_test", "nuclear_test", "force_deployment", "mobilisation", "blockade", "quarantine", "seizure",
    "limited_strike", "major_strike", "nuclear_signalling", "nuclear_use",
]


def test_catalogue_size_and_required_actions():
    assert len(CAT.actions) >= 30
    missing = [a for a in REQUIRED if a not in ACTIONS]
    assert not missing, missing


def test_both_directions_present():
    rungs = [CAT.rung_index(a.rung) for a in CAT.actions]
    sq = CAT.rung_index("status_quo")
    assert sum(r < sq for r in rungs) >= 8, "need de-escalatory actions"
    assert sum(r > sq for r in rungs) >= 20, "need escalatory actions"


def test_every_rung_has_an_action():
    used = {a.rung for a in CAT.actions}
    assert [r.id for r in CAT.rungs if r.id not in used] == []


def test_score_is_monotone_in_rung():
    points = [CAT.score_points(r) for r in CAT.rungs]
    assert points == sorted(points)


def test_units_in_ladder_order_and_costs_rise():
    units = [CAT.unit_index(r.unit) for r in CAT.rungs]
    assert units == sorted(units)
    costs = [r.cost for r in CAT.rungs if CAT.rung_index(r.id) >= CAT.rung_index("status_quo")]
    assert costs == sorted(costs)


def test_firebreak_salience_rises_to_nuclear():
    sal = [u.salience for u in CAT.ladder.units if u.firebreak]
    assert sal[-1] == max(sal)
    force = next(u for u in CAT.ladder.units if u.id == "force")
    assert force.salience > next(u for u in CAT.ladder.units if u.id == "display").salience


@pytest.mark.parametrize("action", CAT.actions, ids=lambda a: a.id)
def test_mid_code_implies_hostility(action):
    assert MID_ACTION_HOSTILITY[action.mid_action] == action.mid_hostility


@pytest.mark.parametrize("action", CAT.actions, ids=lambda a: a.id)
def test_use_of_force_is_violent_on_every_scale(action):
    """MID hostility 4 is violent on every scale, except grey-zone law enforcement (an arrest under domestic law:
    MID's seizure, no ICB violence), which says so in its notes and names the lower firebreak it crosses."""
    if action.mid_hostility >= 4 and action.firebreak_unit is not None:
        assert "seizure" in action.scale_notes and action.effects.detain, action.id
        assert CAT.rung_index(action.rung) < CAT.rung_index("harass")
        return
    if action.mid_hostility >= 4:
        assert action.icb_trigger in (8, 9)
        assert action.icb_viol >= 2
        assert action.rivera_category in (None, "violent_escalation", "nuclear")
        assert CAT.rung_index(action.rung) >= CAT.rung_index("harass")


@pytest.mark.parametrize("action", CAT.actions, ids=lambda a: a.id)
def test_cross_scale_disagreements_are_explained(action):
    rung = CAT.rungs[CAT.rung_index(action.rung)]
    if action.rivera_category and action.rivera_category != rung.score_category:
        assert action.scale_notes, f"{action.id}: Rivera {action.rivera_category} vs rung {rung.score_category}"
    if action.rivera_category is None and CAT.rung_index(action.rung) != CAT.rung_index("status_quo"):
        assert action.scale_notes or action.category in ("cooperative",), action.id


def test_known_disagreement_is_recorded_not_bent():
    """A nuclear ultimatum sits high on Kahn's ladder but is only a MID threat/alert."""
    ns = ACTIONS["nuclear_signalling"]
    rung = CAT.rungs[CAT.rung_index(ns.rung)]
    assert 16 in rung.kahn and ns.mid_hostility <= 3
    assert any("ultimatum" in d.lower() for d in CAT.ladder.disagreements)
    assert CAT.rung_index(ns.rung) > CAT.rung_index(ACTIONS["major_strike"].rung)


def test_de_escalatory_actions_are_not_militarised():
    for a in CAT.actions:
        if CAT.rung_index(a.rung) <= CAT.rung_index("status_quo"):
            assert a.mid_hostility == 1 and a.icb_viol == 1 and a.icb_trigger is None, a.id


def test_channel_triggers_name_real_actions():
    for c in CAT.channels:
        assert set(c.suspend_on) <= set(ACTIONS), c.id
        assert c.base_answer > 0


def test_nuclear_use_needs_a_war_first():
    assert CAT.rung_index(ACTIONS["nuclear_use"].requires.min_crisis_rung) >= CAT.rung_index("major_war")


def test_removed_fields_are_named_in_the_error(tmp_path):
    """Fields that never had an effect were removed; a file that still uses one gets a clear line."""
    import yaml

    from sim.errors import InputError
    from sim.inputs.catalogue import load_catalogue
    from sim.inputs.library import DATA_DIR

    for name, field, edit in (("actions.yaml", "casualties", lambda d: d["actions"][0].setdefault("effects", {})),
                              ("channels.yaml", "naval_only", lambda d: d["channels"][0])):
        folder = tmp_path / field
        folder.mkdir()
        for f in ("ladder.yaml", "actions.yaml", "channels.yaml"):
            (folder / f).write_text((DATA_DIR / f).read_text())
        data = yaml.safe_load((folder / name).read_text())
        edit(data)[field] = True
        (folder / name).write_text(yaml.safe_dump(data))
        with pytest.raises(InputError, match=f"'{field}' was removed"):
            load_catalogue(str(folder))


def test_agreement_days_is_the_offer_window(specs):
    from sim.inputs.compile import compile_scenario
    from sim.inputs.library import SCENARIOS_DIR

    assert specs["senkaku"].constants.offer_days == 2
    spec = compile_scenario(SCENARIOS_DIR / "senkaku.yaml", [("parameters.agreement_days", 5.0)])
    assert spec.constants.offer_days == 5


def test_a_lower_firebreak_is_checked_and_needs_a_reason(tmp_path):
    """``firebreak_unit`` must be a unit at or below the rung's, with a ``firebreak_basis``; the error names the
    file and the field."""
    import yaml

    from sim.errors import InputError
    from sim.inputs.catalogue import load_catalogue
    from sim.inputs.library import DATA_DIR

    cases = (("above", {"firebreak_unit": "war"}, "actions.0.firebreak_unit"),
             ("unknown", {"firebreak_unit": "nowhere"}, "actions.0.firebreak_unit"),
             ("no_basis", {"firebreak_unit": "cooperation", "firebreak_basis": None}, "firebreak_basis"))
    for name, change, field in cases:
        folder = tmp_path / name
        folder.mkdir()
        for f in ("ladder.yaml", "actions.yaml", "channels.yaml"):
            (folder / f).write_text((DATA_DIR / f).read_text())
        data = yaml.safe_load((folder / "actions.yaml").read_text())
        data["actions"][0].update({"firebreak_basis": "a reason", **change})
        (folder / "actions.yaml").write_text(yaml.safe_dump(data))
        with pytest.raises(InputError, match=field) as err:
            load_catalogue(str(folder))
        assert "actions.yaml" in str(err.value)


def test_an_action_may_not_take_an_incidents_name(tmp_path):
    """The event log's cause_action holds actions and incidents as one category list: a clash is refused."""
    import yaml

    from sim.errors import InputError
    from sim.inputs.catalogue import load_catalogue
    from sim.inputs.library import DATA_DIR

    for f in ("ladder.yaml", "actions.yaml", "channels.yaml"):
        (tmp_path / f).write_text((DATA_DIR / f).read_text())
    data = yaml.safe_load((tmp_path / "actions.yaml").read_text())
    data["actions"][0]["id"] = "collision"
    (tmp_path / "actions.yaml").write_text(yaml.safe_dump(data))
    with pytest.raises(InputError, match="names an incident"):
        load_catalogue(str(tmp_path))
