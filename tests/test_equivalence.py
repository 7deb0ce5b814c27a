"""One implementation of the rules: the per-run Mesa path and the ensemble agree run by run."""

from __future__ import annotations

from dataclasses import fields

import numpy as np
import pandas as pd
import pytest

from sim.engine import rules
from sim.engine.ensemble import simulate
from sim.engine.mesa_adapter import CrisisModel, CrisisScenario, StateActor
from sim.inputs.library import SCENARIOS_DIR


@pytest.mark.parametrize("name", ["taiwan_strait", "senkaku", "korean_peninsula"])
def test_mesa_path_equals_ensemble(specs, name):
    spec = specs[name]
    runs = np.arange(40) * 37 + 5  # scattered run indices
    ens = simulate(spec, 2024, runs, batch_size=16)
    rows, evs = [], []
    for i in runs:
        m = CrisisModel(CrisisScenario(scenario_file=str(SCENARIOS_DIR / f"{name}.yaml"), seed=2024,
                                       run_index=int(i)), spec=spec)
        m.run_model()
        rows.append(m.runs_row())
        evs.append(m.events())
    pd.testing.assert_frame_equal(pd.concat(rows, ignore_index=True), ens.runs)
    pd.testing.assert_frame_equal(pd.concat(evs, ignore_index=True), ens.events.reset_index(drop=True))


def test_run_is_independent_of_batch(specs):
    spec = specs["korean_peninsula"]
    whole = simulate(spec, 5, 300, batch_size=300)
    pieces = simulate(spec, 5, 300, batch_size=7)
    pd.testing.assert_frame_equal(whole.runs, pieces.runs)
    pd.testing.assert_frame_equal(whole.events, pieces.events)
    alone = simulate(spec, 5, [123])
    pd.testing.assert_frame_equal(alone.runs, whole.runs.iloc[[123]].reset_index(drop=True))


def test_seed_changes_results(specs):
    spec = specs["taiwan_strait"]
    a, b = simulate(spec, 1, 300, events=False), simulate(spec, 2, 300, events=False)
    assert not a.runs.drop(columns="seed").equals(b.runs.drop(columns="seed"))


def test_model_uses_mesa_idioms(specs):
    spec = specs["senkaku"]
    m = CrisisModel(CrisisScenario(scenario_file=str(SCENARIOS_DIR / "senkaku.yaml"), seed=1, run_index=0),
                    spec=spec)
    assert len(m.agents_by_type[StateActor]) == len(spec.actor_ids)
    assert isinstance(m.rng, np.random.Generator)
    m.step()
    assert m.steps == 1 and m.running in (True, False)
    assert {a.actor_id for a in m.actors} == set(spec.actor_ids)
    assert all(isinstance(a.perceived_threat(), dict) for a in m.actors)


def test_mesa_adapter_takes_a_full_condition_and_batch_runs():
    """A lever on in the Mesa model gives the ensemble's runs with that lever; mesa.batch_run works."""
    import mesa

    from sim.inputs.compile import compile_scenario
    from sim.inputs.condition import Condition

    path = str(SCENARIOS_DIR / "senkaku.yaml")
    cond = Condition(path, levers=("coast_guard_rules",))
    ens = simulate(compile_scenario(cond), 3, [0, 1, 2], events=False)
    rows = []
    for i in range(3):
        m = CrisisModel(CrisisScenario(scenario_file=path, levers=("coast_guard_rules",), seed=3, run_index=i))
        m.run_model()
        rows.append(m.runs_row())
    pd.testing.assert_frame_equal(pd.concat(rows, ignore_index=True), ens.runs)
    data = pd.DataFrame(mesa.batch_run(CrisisModel, {"scenario_file": path, "seed": 3, "run_index": range(3)},
                                       max_steps=500, display_progress=False))
    assert sorted(data["run_index"].unique()) == [0, 1, 2]
    assert {"crisis_rung", "rung", "actor", "top_threat"} <= set(data.columns)
    last = data.groupby("run_index")["peak_mid_hostility"].last().to_numpy()
    np.testing.assert_array_equal(last, ens.runs["peak_mid_hostility"].to_numpy())


@pytest.mark.parametrize("name", ["taiwan_strait", "korean_peninsula"])
def test_agents_deciding_one_by_one_equal_the_model_deciding_for_all(specs, name):
    """The model decides for every agent in one call; agent by agent gives the same decisions."""
    spec = specs[name]
    m = CrisisModel(CrisisScenario(scenario_file=str(SCENARIOS_DIR / f"{name}.yaml"), seed=8, run_index=3),
                    spec=spec)
    for _ in range(6):
        together = m._agents_decide(spec, m.state)
        for a in m.actors:
            a.decide()
        one_by_one = rules.merge([a.decision for a in m.actors])
        for f in fields(rules.Decision):
            np.testing.assert_array_equal(getattr(together, f.name), getattr(one_by_one, f.name), err_msg=f.name)
        m.step()
        if not m.running:
            break


def test_reasons_off_changes_no_choice(specs):
    """Without the event log the reasons are skipped; every run and every choice is the same."""
    spec = specs["korean_peninsula"]
    on, off = simulate(spec, 6, 300, events=True), simulate(spec, 6, 300, events=False)
    pd.testing.assert_frame_equal(on.runs, off.runs)
    assert off.events.empty and len(on.events)
