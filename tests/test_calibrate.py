"""Pattern-oriented calibration (sim.analysis.calibrate) and parameter sets (sim.inputs.parameters)."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
import yaml

from sim.analysis import calibrate as cal
from sim.cli import main
from sim.inputs.compile import compile_scenario
from sim.inputs.condition import Condition
from sim.inputs.library import ROOT, SCENARIOS_DIR

pytest.importorskip("pyabc")

TINY = {
    "schema_version": 1, "seed": 3,
    "scenarios": [{"file": "scenarios/us_china_intercept.yaml", "trigger": "violent"}],
    "parameters": [{"id": "temperature_scale", "path": "parameters.temperature_scale",
                    "prior": {"low": 0.5, "high": 2.0}, "reason": "test"}],
    "patterns": [{"id": "v_serious_violence", "label": "serious", "observed": "icb_serious_violence",
                  "trigger": "violent", "simulated": "serious_clash",
                  "source": {"data": "icb/icb2v15.csv", "recipe": "r", "citation": "c"}, "mapping": "m"},
                 {"id": "mid_force", "label": "force", "observed": "mid_force", "simulated": "peak4_if_militarised",
                  "source": {"data": "mid/cow_mid5_disputes_abridged.csv", "recipe": "r", "citation": "c"},
                  "mapping": "m"}],
}
FAST = ["--budget", "tiny", "--population", "2", "--runs", "4", "--quiet"]


def _file(tmp_path, data=None, name="cal.yaml"):
    f = tmp_path / name
    f.write_text(yaml.safe_dump(data or TINY))
    return f


def test_observed_patterns_are_recomputed_from_the_shipped_data():
    """The shipped file's targets, recomputed from validation/data (calibration.yaml's header)."""
    spec = cal.load(cal.CalibrationFile, cal.CALIBRATION_FILE)
    obs = cal.observed(spec)
    assert (obs.loc["nv_violent_response", ["k", "n"]] == [17, 78]).all()  # majres 8-9, Asian POST45 rows
    assert (obs.loc["v_serious_violence", ["k", "n"]] == [45, 71]).all()
    assert (obs.loc["mid_force", ["k", "n"]] == [141, 236]).all()  # base_rates.md section 4: 59.7%
    assert (obs.loc["nuclear_war", ["k", "n"]] == [0, 31]).all() and obs.loc["nuclear_war", "se"] > 0
    assert (obs.loc["nv_within_120", ["k", "n"]] == [30, 78]).all()  # trgterra <= 120 (3 rows uncoded)
    assert len(cal.asian_actor_rows()) == 149
    assert all(p.source.citation and p.mapping for p in spec.patterns)


def test_the_calibration_runs_every_scenario_for_its_horizon_in_days():
    """ICB crises last months: a 48-hour-turn scenario gets half the turns of a 24-hour one for the same days,
    and the compiled spec runs that long (without the field each scenario keeps its own window)."""
    spec = cal.load(cal.CalibrationFile, cal.CALIBRATION_FILE)
    assert spec.horizon_days == 180 and spec.horizon_reason
    conds = cal.conditions(spec, {})
    assert dict(conds["scenarios/taiwan_strait.yaml"].overrides)["turns.max"] == 180
    assert dict(conds["scenarios/korean_peninsula.yaml"].overrides)["turns.max"] == 90
    compiled = compile_scenario(conds["scenarios/korean_peninsula.yaml"])
    assert compiled.steps * compiled.dt == pytest.approx(180)
    own = cal.conditions(spec.model_copy(update={"horizon_days": None}), {})
    assert "turns.max" not in dict(own["scenarios/taiwan_strait.yaml"].overrides)


def test_calibrate_writes_outputs_and_resumes(tmp_path, capsys):
    f, out = _file(tmp_path), tmp_path / "out"
    ps = tmp_path / "set.yaml"
    assert main(["calibrate", str(f), "--out", str(out), *FAST, "--generations", "1", "--write-set", str(ps)]) == 0
    names = {p.name for p in out.iterdir()}
    assert {"abc.db", "posterior.csv", "fit.csv", "diagnostics.json", "patterns.png", "marginals.png"} <= names
    diag = json.loads((out / "diagnostics.json").read_text())
    assert [g["t"] for g in diag["generations"]] == [0]
    assert set(diag["fit"]) == {"v_serious_violence", "mid_force"} and diag["commit"]
    post = pd.read_csv(out / "posterior.csv")
    assert np.isclose(post.weight.sum(), 1) and post.temperature_scale.between(0.5, 2.0).all()
    assert "distance (sum of squared z)" in capsys.readouterr().out
    # the checkpoint: one more generation continues the same history
    assert main(["calibrate", str(f), "--out", str(out), *FAST, "--generations", "2", "--resume"]) == 0
    assert [g["t"] for g in json.loads((out / "diagnostics.json").read_text())["generations"]] == [0, 1]
    written = yaml.safe_load(ps.read_text())
    assert written["set"][0]["path"] == "parameters.temperature_scale"
    assert written["provenance"]["commit"] and written["provenance"]["command"][1] == "calibrate"
    verdict = "The default:" if written["default"] else "Not the default:"  # the set says why, from its own fit
    inside = f"{diag['patterns_inside_90']} of {diag['patterns']} observed patterns"
    assert verdict in written["description"] and inside in " ".join(written["description"].split())


def test_calibrate_refuses_case_scenarios_and_bad_priors(tmp_path, capsys):
    """Independence: the back-test cases' scenarios are never calibrated to; one-line errors, exit 2."""
    data = json.loads(json.dumps(TINY))
    data["scenarios"][0]["file"] = "validation/scenarios/ep3_hainan_2001.yaml"
    assert main(["calibrate", str(_file(tmp_path, data)), "--out", str(tmp_path / "o"), *FAST]) == 2
    err = capsys.readouterr().err.strip()
    assert "scenarios.0.file" in err and "\n" not in err
    data = json.loads(json.dumps(TINY))
    data["parameters"][0]["prior"] = {"low": 2.0, "high": 1.0}
    assert main(["calibrate", str(_file(tmp_path, data, "b.yaml")), "--out", str(tmp_path / "o"), *FAST]) == 2
    assert "prior" in capsys.readouterr().err


def test_parameter_set_overlays_the_baseline_and_is_recorded(tmp_path):
    from sim.experiments.manifest import manifest

    ps = tmp_path / "set.yaml"
    ps.write_text(yaml.safe_dump({"schema_version": 1, "name": "trial", "set": [
        {"path": "parameters.temperature_scale", "value": 2.0},
        {"path": "baseline.weights.firebreak.value", "value": 1.7}], "provenance": {"commit": "abc"}}))
    scen = SCENARIOS_DIR / "senkaku.yaml"
    base = compile_scenario(Condition.of(scen, parameters="baseline"))
    trial = compile_scenario(Condition.of(scen, parameters=ps))
    assert np.allclose(trial.behaviour.tau, 2.0 * base.behaviour.tau)
    assert trial.baseline.weights["firebreak"].value == 1.7
    # an explicit override still wins over the set
    over = compile_scenario(Condition.of(scen, parameters=ps, overrides=[("parameters.temperature_scale", 1.0)]))
    assert np.allclose(over.behaviour.tau, base.behaviour.tau)
    m = manifest(trial, 0, 10, [])
    assert m["parameter_set"]["name"] == "trial" and m["parameter_set"]["provenance"] == {"commit": "abc"}
    assert manifest(base, 0, 10, [])["parameter_set"] == {"name": "baseline", "file": None}


def test_the_calibrated_set_is_default_only_if_credible():
    from sim.inputs import parameters as P

    if not P.CALIBRATED.exists():
        pytest.skip("no calibrated set shipped")
    ps = P.load_shared(P.ParameterSet, P.CALIBRATED)
    assert ps.default == bool(ps.provenance["credible"])
    assert ps.provenance["commit"] and "calibrate" in ps.provenance["command"]
    assert (P.resolve("") == P.CALIBRATED) == ps.default
    assert str(ROOT / "validation" / "calibration.yaml").endswith(ps.provenance["calibration_file"])
