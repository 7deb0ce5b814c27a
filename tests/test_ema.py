"""The EMA Workbench adapter: a scenario's uncertainties, levers and measures declared, run by EMA."""

from __future__ import annotations

import numpy as np
import pytest
from ema_workbench import BooleanParameter, RealParameter, SequentialEvaluator, perform_experiments

from sim import ema
from sim.experiments.measures import MEASURE_NAMES, measure
from sim.experiments.perform import perform

UNC = {"parameters.fog": (0.05, 0.35), "parameters.us_china_climate": (-0.8, 0.5)}


def test_model_declares_the_scenario():
    m = ema.model("senkaku", runs=10)
    assert m.name == "senkaku"
    assert all(isinstance(u, RealParameter) for u in m.uncertainties)
    assert "fog" in {u.name for u in m.uncertainties} and m.function.paths["fog"] == "parameters.fog"
    levers = {lv.name for lv in m.levers}
    assert all(isinstance(lv, BooleanParameter) for lv in m.levers)
    # a lever that sets an uncertainty's path (cooperative_frame: us_china_climate) would be cancelled by it
    assert levers == {"rhetorical_restraint", "japan_refrains"}
    assert {lv.name for lv in ema.model("senkaku", UNC, runs=10).levers} == {
        "coast_guard_rules", "validated_mechanisms", "rhetorical_restraint", "japan_refrains"}
    assert [o.name for o in m.outcomes] == list(MEASURE_NAMES)
    with pytest.raises(ValueError, match="unknown measure"):
        ema.model("senkaku", measures=["any_incident"])
    with pytest.raises(ValueError, match="unknown lever"):
        ema.model("senkaku", levers=["nolever"])


def test_perform_experiments_runs_the_engine():
    m = ema.model("senkaku", UNC, levers=["coast_guard_rules"], runs=40, seed=3,
                  measures=["use_of_force", "escalation"])
    with SequentialEvaluator(m) as ev:
        experiments, outcomes = perform_experiments(m, scenarios=3, policies=2, evaluator=ev)
    assert len(experiments) == 6 and set(outcomes) == {"use_of_force", "escalation"}
    assert experiments["coast_guard_rules"].nunique() == 2
    assert all(((v >= 0) & (v <= 1)).all() for v in outcomes.values())
    # each experiment is the engine's run of that condition with the model's seed
    for i in (0, 5):
        row = experiments.iloc[i]
        cond = m.function.condition({k: row[k] for k in ("fog", "us_china_climate", "coast_guard_rules")})
        assert ("coast_guard_rules" in cond.levers) == bool(row["coast_guard_rules"])
        assert dict(cond.overrides)["parameters.fog"] == pytest.approx(row["fog"])
        runs = perform({"x": cond}, 40, 3)["x"].runs
        assert outcomes["use_of_force"][i] == pytest.approx(measure(runs, "use_of_force").mean())
    assert not np.allclose(outcomes["escalation"], outcomes["escalation"][0])  # the uncertainties matter
