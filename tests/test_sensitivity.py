"""Scenario discovery and sensitivity: PRIM and trees recover known boxes; designs run end to end."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from sim.analysis import sensitivity as sa
from sim.inputs.library import SCENARIOS_DIR

SENKAKU = SCENARIOS_DIR / "senkaku.yaml"


def synthetic(n: int = 4000, seed: int = 0):
    rng = np.random.default_rng(seed)
    X = pd.DataFrame({"a": rng.random(n), "b": rng.random(n), "noise": rng.random(n),
                      "levers.switch": rng.integers(0, 2, n).astype(float)})
    inside = (X["a"] > 0.6) & (X["b"] < 0.4)
    y = np.where(inside, rng.random(n) < 0.8, rng.random(n) < 0.05)
    return X, y


def test_binomial_tail():
    assert sa.binom_sf(3, 5, 0.5) == pytest.approx(0.5)
    assert sa.binom_sf(0, 10, 0.3) == 1.0 and sa.binom_sf(11, 10, 0.3) == 0.0
    assert sa.binom_sf(10, 10, 0.3) == pytest.approx(0.3 ** 10)
    assert sa.binom_sf(2, 4, 0.25) == pytest.approx(1 - 0.75 ** 4 - 4 * 0.25 * 0.75 ** 3)


def test_prim_recovers_the_box():
    X, y = synthetic()
    res = sa.prim(X, y, min_coverage=0.7)
    traj = res.trajectory
    assert traj.loc[0, "support"] == 1.0 and traj.loc[0, "coverage"] == 1.0
    assert traj["support"].is_monotonic_decreasing and traj["density"].is_monotonic_increasing
    box = res.box().set_index("factor")
    assert box.loc["a", "low"] == pytest.approx(0.6, abs=0.05) and box.loc["b", "high"] == pytest.approx(0.4, abs=0.05)
    assert traj.loc[res.selected, "density"] > 0.7 and traj.loc[res.selected, "coverage"] >= 0.7
    pruned = res.describe(max_qp=0.05)
    assert "a ≥" in pruned and "b ≤" in pruned and "noise" not in pruned
    st = res.stats({"a": (0.6, 1.0), "b": (0.0, 0.4)})
    assert st["density"] == pytest.approx(y[(X["a"] >= 0.6) & (X["b"] <= 0.4)].mean())


def test_prim_peels_a_switch_whole():
    rng = np.random.default_rng(1)
    X = pd.DataFrame({"levers.on": rng.integers(0, 2, 2000).astype(float), "x": rng.random(2000)})
    y = (X["levers.on"] == 0) & (rng.random(2000) < 0.5)
    res = sa.prim(X, y.to_numpy())
    box = res.box().set_index("factor")
    assert box.loc["levers.on", "high"] == 0.0
    assert "lever: on off" in res.describe(max_qp=0.05)


def test_prim_does_not_call_a_mixed_lever_box_off():
    # a lever sampled continuously (old designs): a box [0.08, 0.99] holds both on (>= 0.5) and off runs
    X = pd.DataFrame({"levers.r": [0.0, 0.08, 0.3, 0.7, 0.99, 1.0]})
    res = sa.PrimResult(pd.DataFrame({"density": [0.1]}), [{"levers.r": (0.08, 0.99)}], {"levers.r": (0.0, 1.0)},
                        X=X, y=np.array([0, 1, 0, 1, 1, 0.0]))
    text = res.describe()
    assert "off" in text and "on and off runs" in text and "lever: r off" not in text and "lever: r on" not in text
    assert text.startswith("0.08 ≤ lever: r ≤ 0.99")


def test_latin_hypercube_is_scipy_and_samples_levers_as_switches():
    from scipy.stats import qmc

    d = sa.latin_hypercube({"x": (0.0, 2.0), "levers.a": (0.0, 1.0)}, 10, seed=4)
    want = qmc.LatinHypercube(d=2, rng=np.random.default_rng(np.random.SeedSequence(4))).random(10)
    np.testing.assert_allclose(d["x"], 2 * want[:, 0])
    assert set(d["levers.a"]) == {0.0, 1.0} and d["levers.a"].sum() == 5  # half the strata on
    assert d.equals(sa.latin_hypercube({"x": (0.0, 2.0), "levers.a": (0.0, 1.0)}, 10, seed=4))


def test_design_points_run_on_the_given_evaluator():
    from sim.experiments.evaluators import SequentialEvaluator

    class Counting(SequentialEvaluator):
        tasks = 0

        def submit(self, task):
            Counting.tasks += 1
            return super().submit(task)

    design = sa.latin_hypercube({"parameters.fog": (0.05, 0.35)}, 3, seed=1)
    got = sa.evaluate(SENKAKU, design, runs=20, seed=2, measures=["use_of_force"], evaluator=Counting())
    assert Counting.tasks == 3  # one chunk per point, all submitted to the evaluator
    assert got.equals(sa.evaluate(SENKAKU, design, runs=20, seed=2, measures=["use_of_force"]))


def test_tree_rules_find_the_dense_leaf():
    pytest.importorskip("sklearn")
    X, y = synthetic()
    tree = sa.tree_rules(X, y, max_depth=2)
    top = tree.rules.iloc[0]
    assert top["density"] > 0.7 and "a >" in top["rule"] and "b ≤" in top["rule"]
    assert tree.rules["n"].sum() == len(X) and tree.rules["coverage"].sum() == pytest.approx(1.0)


def test_latin_hypercube_strata():
    d = sa.latin_hypercube({"x": (0.0, 1.0), "y": (-1.0, 1.0)}, 10, seed=4)
    assert sorted(np.floor(d["x"] * 10).astype(int)) == list(range(10))
    assert sorted(np.floor((d["y"] + 1) / 2 * 10).astype(int)) == list(range(10))


def test_factors_and_lever_clash():
    f = sa.default_factors(SENKAKU)
    assert "parameters.fog" in f and "postures.PRC.weights.threat.value" in f
    lo, hi = f["postures.PRC.weights.threat.value"]
    assert lo < hi and not any(k == "levers.cooperative_frame" for k in f)  # it sets us_china_climate
    with pytest.raises(ValueError, match="override the lever"):
        sa.check_factors(SENKAKU, {"parameters.us_china_climate": (0, 1), "levers.cooperative_frame": (0, 1)})
    assert sa.short_name("postures.PRC.weights.threat.value") == "PRC threat weight"


def test_evaluate_runs_each_point_with_common_seeds():
    design = pd.DataFrame({"parameters.us_china_climate": [-0.3, -0.3, 0.5], "levers.validated_mechanisms": [0, 0, 1]})
    out, runs = sa.evaluate(SENKAKU, design, runs=150, seed=2, measures=["use_of_force"], keep_runs=True)
    assert out.loc[0, "p_use_of_force"] == out.loc[1, "p_use_of_force"]  # same point, same seed, same runs
    assert len(runs) == 450 and set(runs["point"]) == {0, 1, 2}
    assert out["p_use_of_force"].tolist() == runs.groupby("point")["use_of_force"].mean().tolist()


def test_morris_and_sobol_end_to_end():
    pytest.importorskip("SALib")
    factors = {"parameters.us_china_climate": (-0.8, 0.5), "parameters.fog": (0.05, 0.35)}
    m = sa.morris(SENKAKU, factors, trajectories=2, runs=120, seed=1, measures=["escalation"])
    assert len(m.design) == 2 * 3 and set(m.indices["factor"]) == set(factors)
    t = m.table("escalation")
    assert (t["mu_star"] >= 0).all() and (t["noise_floor"] > 0).all()
    assert all(math.isfinite(x) for x in t["sigma"])
    s = sa.sobol(SENKAKU, factors, n=4, runs=80, seed=1, measures=["escalation"])
    assert len(s.design) == 4 * 4 and {"S1", "ST", "S1_conf", "ST_conf"} <= set(s.indices.columns)
