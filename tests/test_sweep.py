"""Sweeps: designs, validation, results keyed by design point, equal to single runs, resumable."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from sim.cli import main
from sim.engine.ensemble import simulate
from sim.errors import InputError
from sim.experiments.jobs import run_sweep
from sim.experiments.measures import HEADLINE
from sim.experiments.store import read_design, read_runs, summarise
from sim.experiments.sweep import SweepFile, design_points, design_values, load_sweep, point_seed
from sim.inputs.compile import compile_scenario
from sim.inputs.library import SCENARIOS_DIR

ROOT = Path(__file__).resolve().parent.parent
SCEN = SCENARIOS_DIR / "senkaku.yaml"
SMALL = {
    "scenario": str(SCEN), "runs_per_point": 300, "seed": 6,
    "design": {"type": "factorial", "factors": {"parameters.fog": [0.1, 0.3], "levers": [[], ["cooperative_frame"]]}},
}


@pytest.mark.parametrize("name", ["senkaku_climate_rules", "senkaku_lhs", "korean_levers"])
def test_shipped_sweeps_are_valid(name):
    sf = load_sweep(ROOT / "sweeps" / f"{name}.yaml")
    assert len(design_points(sf)) == sf.n_points


def test_factorial_order_and_common_random_numbers():
    sf = load_sweep(ROOT / "sweeps" / "senkaku_climate_rules.yaml")
    pts = design_points(sf)
    assert len(pts) == 12 and {p.seed for p in pts} == {1}
    assert pts[0].values == {"parameters.us_china_climate": -0.5, "parameters.encounter_rules": 0.2, "levers": []}
    assert pts[1].condition.levers == ("validated_mechanisms",) and pts[2].values["parameters.encounter_rules"] == 0.8
    assert pts[4].values["parameters.us_china_climate"] == 0.0  # the first factor varies slowest
    assert ("parameters.encounter_rules", 0.8) in pts[2].condition.overrides


def test_independent_seeds_are_spawned_per_point():
    seeds = [point_seed(1, i, common=False) for i in range(50)]
    assert len(set(seeds)) == 50 and all(0 <= s < 2**63 for s in seeds)
    assert seeds[:5] == [point_seed(1, i, common=False) for i in range(5)]  # independent of the design size
    assert point_seed(1, 3, common=True) == 1


def test_latin_hypercube_uses_every_stratum_once():
    sf = SweepFile.model_validate({
        "scenario": "x", "runs_per_point": 1,
        "design": {"type": "latin_hypercube", "samples": 20, "seed": 3,
                   "factors": {"parameters.fog": [0.05, 0.4], "parameters.stress": [0.1, 0.7],
                               "levers": {"values": [[], ["a"], ["b"], ["a", "b"]]}}}})
    rows = design_values(sf)
    for key, (lo, hi) in (("parameters.fog", (0.05, 0.4)), ("parameters.stress", (0.1, 0.7))):
        strata = sorted(int((r[key] - lo) / (hi - lo) * 20) for r in rows)
        assert strata == list(range(20))
    counts = pd.Series([json.dumps(r["levers"]) for r in rows]).value_counts()
    assert len(counts) == 4 and set(counts) == {5}
    assert design_values(sf) == rows  # the sample is seeded


BAD = [
    ("unknown field", lambda d: d.update(colour="red"), "colour"),
    ("unknown design type", lambda d: d["design"].update(type="sobol"), "design"),
    ("bad factor key", lambda d: d["design"]["factors"].update(fog=[0.1]), "fog"),
    ("empty factor", lambda d: d["design"]["factors"].update({"parameters.stress": []}), "no values"),
    ("fixed and varied", lambda d: d.update(set={"parameters.fog": 0.2}), "both fixed"),
    ("bad range", lambda d: d.update(design={"type": "latin_hypercube", "samples": 4,
                                             "factors": {"parameters.fog": [0.4, 0.1]}}), "low < high"),
    ("runs", lambda d: d.update(runs_per_point=0), "runs_per_point"),
    ("missing scenario", lambda d: d.update(scenario="nowhere.yaml"), "file not found"),
    ("value out of range", lambda d: d["design"]["factors"].update({"parameters.fog": [0.1, 3.0]}),
     "design.factors.parameters.fog: value 3.0 rejected"),
    ("unknown lever", lambda d: d["design"]["factors"].update(levers=[[], ["teleport"]]), "teleport"),
]


@pytest.mark.parametrize("label,edit,expect", BAD, ids=[b[0] for b in BAD])
def test_bad_sweep_files_exit_2_with_one_line(tmp_path, capsys, label, edit, expect):
    data = json.loads(json.dumps(SMALL))
    edit(data)
    p = tmp_path / "bad.yaml"
    p.write_text(yaml.safe_dump(data))
    assert main(["sweep", str(p), "--out", str(tmp_path / "o"), "--quiet"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "Traceback" not in err and expect in err, err
    assert not (tmp_path / "o" / "runs").exists()


def test_each_point_equals_a_single_run_of_its_settings(tmp_path):
    res = run_sweep(SMALL, tmp_path / "o", jobs=1, chunk_size=120)
    assert res.runs == 1200 and res.point_runs == [300] * 4
    runs, design = read_runs(tmp_path / "o"), read_design(tmp_path / "o")
    assert runs.columns[0] == "point" and len(runs) == 1200
    assert design.to_dict("list") == {"point": [0, 1, 2, 3], "seed": [6] * 4,
                                      "parameters.fog": [0.1, 0.1, 0.3, 0.3],
                                      "levers": ["", "cooperative_frame", "", "cooperative_frame"]}
    spec = compile_scenario(SCEN, [("parameters.fog", 0.3)], levers=["cooperative_frame"])
    alone = simulate(spec, 6, 300, events=False).runs
    got = runs[runs.point == 3].drop(columns="point").reset_index(drop=True)
    pd.testing.assert_frame_equal(got, alone)
    man = json.loads((tmp_path / "o" / "manifest.json").read_text())
    assert man["kind"] == "sweep" and man["points"] == 4 and man["runs"] == 1200
    assert man["files"] == ["design.parquet", "injects.parquet", "runs.parquet"]
    table = summarise(tmp_path / "o")
    assert table["runs"].tolist() == [300] * 4
    shares = table[[f"p_{o}" for o in HEADLINE[:-1]]].sum(axis=1)
    assert np.allclose(shares, 1.0)
    assert (table["lo_use_of_force"] <= table["p_use_of_force"]).all()
    assert (table["p_use_of_force"] <= table["hi_use_of_force"]).all()


def test_sweep_cli_parallel_and_resumed_give_identical_results(tmp_path, capsys):
    data = {**SMALL, "events": True}
    f = tmp_path / "s.yaml"
    f.write_text(yaml.safe_dump(data))
    whole = run_sweep(f, tmp_path / "whole", jobs=1)
    done = [0]

    def stop(n):
        done[0] += n
        if done[0] >= 500:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        run_sweep(f, tmp_path / "o", jobs=1, chunk_size=100, progress=stop)
    assert main(["sweep", str(f), "--out", str(tmp_path / "o"), "--resume", "--jobs", "2"]) == 0
    out = capsys.readouterr().out
    assert "4 design points, 1,200 runs" in out and "p_use_of_force" in out
    for name in ("runs.parquet", "events.parquet", "injects.parquet", "design.parquet"):
        assert (tmp_path / "whole" / name).read_bytes() == (tmp_path / "o" / name).read_bytes(), name
    assert whole.manifest["sweep_hash"] == json.loads((tmp_path / "o" / "manifest.json").read_text())["sweep_hash"]


def test_sweep_until_ci_stops_each_point_separately(tmp_path):
    data = {**SMALL, "runs_per_point": 4000, "until_ci": 0.03,
            "design": {"type": "factorial", "factors": {"parameters.us_china_climate": [-0.8, 0.8]}}}
    res = run_sweep(data, tmp_path / "o", jobs=1, chunk_size=1500)
    counts = read_runs(tmp_path / "o", ["point"]).groupby("point").size().tolist()
    assert counts == res.point_runs and all(n % 1000 == 0 and n <= 4000 for n in counts)
    reports = res.manifest["until_ci"]
    assert [r["runs"] for r in reports] == counts
    assert all(r["reached"] == (max(r["half_widths"].values()) < 0.03) for r in reports)


def test_sweep_object_api_and_bad_dict():
    with pytest.raises(InputError, match="runs_per_point"):
        run_sweep({**SMALL, "runs_per_point": -1}, "unused")
