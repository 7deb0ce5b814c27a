"""Validation: the papers' claims as tests, historical back-testing, base-rate recipes (sim.analysis.validation)."""

from __future__ import annotations

import math
import re

import numpy as np
import pytest
import yaml

from sim.analysis import validation as v
from sim.cli import main

HAVE_DATA = (v.DATA_DIR / "icb" / "icb1v15.csv").exists()
HAVE_SEED = v.SEED_TEXT.exists()


# ------------------------------------------------------------------ claims


@pytest.mark.skipif(not HAVE_SEED, reason="source text not available")
def test_claim_locators_are_verbatim():
    assert v.check_locators() == []


def test_claims_file_covers_every_claim():
    spec = v.load(v.ClaimsFile, v.CLAIMS_FILE)
    represented = {c.claim for c in spec.claims}
    missing = {n.claim for n in spec.not_represented}
    assert len(represented) >= 10
    assert represented.isdisjoint(missing)
    assert represented | missing == set(range(1, 26))
    assert len({c.id for c in spec.claims}) == len(spec.claims)


PILOT_RUNS = 2000  # the suite's run count; the file's (power-calculated) count is for run_sim.py check-claims


@pytest.fixture(scope="module")
def claims_table():
    return v.check_claims(runs=PILOT_RUNS)  # the file's seed


def test_claim_verdicts_match_the_file(claims_table):
    """An entry without model_disagrees is supported; an entry with it is not: checked for every claim
    whose verdict is stable at the suite's run count (the power calculation says so)."""
    stable = claims_table[claims_table.stable]
    assert len(stable) >= 15
    bad = stable.loc[~stable.matches, ["id", "effect", "ci_low", "ci_high", "verdict", "recorded", "runs_needed"]]
    assert bad.empty, bad.to_string()
    # 10 of 24 at 17,000 runs with contact accidents at the record's rate, the relative threshold for rare
    # outcomes and threat-based termination (MODEL.md §6.1; C05 left the supported set with that change, its
    # model_disagrees says why; C08, C12 and C21-rules are borderline, so at the suite's count one may not
    # show); a further drop must come with a documented mechanism, not pass silently
    assert (claims_table.verdict == "supported").sum() >= 9
    row = claims_table.set_index("id").loc["C03"]
    assert row.paired and row.ci_low <= row.effect <= row.ci_high < 0
    assert row.unpaired_high - row.unpaired_low > row.ci_high - row.ci_low  # common seeds: the paired one is narrower


def test_every_claim_says_whether_it_is_evidence(claims_table):
    """Claims fixed by construction (definition or one term) carry the reason, and are not evidence."""
    spec = v.load(v.ClaimsFile, v.CLAIMS_FILE)
    by_id = {c.id: c for c in spec.claims}
    assert {"definition", "one_term", "emergent"} == set(claims_table.construction)
    for c in spec.claims:
        assert c.evidence == (c.construction == "emergent")
        assert c.evidence or c.construction_note
    assert by_id["C21-rules"].construction == "definition" and by_id["C24-scs"].evidence
    s = v.claims_summary(claims_table)
    assert s["evidence"] + s["by_construction"] == len(claims_table)
    md = v.claims_markdown(claims_table)
    assert "direction fixed by" in md and "| C21-rules |" in md


def test_a_claim_test_can_fail(claims_table):
    """The verdict is not built to agree: the same runs read against the opposite expectation are a
    contradiction and no longer match the record; an interval inside +-min_effect is no practical effect."""
    from sim.analysis.stats import practical_verdict

    row = claims_table.set_index("id").loc["C03"]
    assert practical_verdict(row.ci_low, row.ci_high, "lower", 0.02) == "supported"
    assert practical_verdict(row.ci_low, row.ci_high, "higher", 0.02) == "contradicted"
    assert practical_verdict(-0.004, 0.003, "lower", 0.02) == "no practical effect"
    assert practical_verdict(-0.025, 0.001, "lower", 0.02) == "inconclusive"


def test_construction_needs_a_reason(tmp_path):
    from sim.errors import InputError

    claims = yaml.safe_load(v.CLAIMS_FILE.read_text())
    entry = next(c for c in claims["claims"] if c["construction"] == "definition")
    entry.pop("construction_note")
    f = tmp_path / "c.yaml"
    f.write_text(yaml.safe_dump(claims))
    with pytest.raises(InputError, match="construction_note"):
        v.load(v.ClaimsFile, f)
    entry.pop("construction")
    f.write_text(yaml.safe_dump(claims))
    with pytest.raises(InputError, match="construction is required"):
        v.load(v.ClaimsFile, f)


def test_verdicts_hold_from_2000_to_20000_runs():
    """A sample of claims (one supported, one without practical effect): the power calculation says 2,000 runs are
    enough for them, and their verdicts at 2,000 and at 20,000 runs per arm are the same."""
    sample = ["C03", "C24-scs"]
    small = v.check_claims(runs=2000, only=sample).set_index("id")
    large = v.check_claims(runs=20_000, only=sample).set_index("id")
    assert small.stable.all()
    assert (small.verdict == large.verdict).all(), (small.verdict, large.verdict)
    assert set(small.verdict) == {"supported", "no practical effect"}


def test_check_claims_cli_and_markdown(tmp_path, capsys):
    claims = yaml.safe_load(v.CLAIMS_FILE.read_text())
    claims["claims"] = [c for c in claims["claims"] if c["id"] == "C03"]
    claims["claims"][0]["scenario"] = str(v.ROOT / claims["claims"][0]["scenario"])
    f = tmp_path / "c.yaml"
    f.write_text(yaml.safe_dump(claims))
    md = tmp_path / "claims.md"
    assert main(["check-claims", str(f), "--runs", "400", "--seed", "3", "--markdown", str(md)]) == 0
    out = capsys.readouterr().out
    assert "C03" in out and "supported" in out
    assert md.read_text().startswith("| id |")


def test_check_claims_bad_input(tmp_path, capsys):
    f = tmp_path / "c.yaml"
    f.write_text("schema_version: 1\nclaims:\n  - id: x\n    claim: 30\n")
    assert main(["check-claims", str(f)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error:") and "\n" not in err


def test_claim_and_case_files_refuse_unknown_keys(tmp_path):
    """The file models are strict (sim.inputs.schema): a misspelt key is an error, not ignored."""
    from sim.errors import InputError

    claims = yaml.safe_load(v.CLAIMS_FILE.read_text())
    claims["claims"][0]["condition"]["lever"] = ["cooperative_frame"]
    cases = yaml.safe_load(v.CASES_FILE.read_text())
    cases["crises"][0]["peak"]["mid_hostilty"] = 3
    for model, data, name in ((v.ClaimsFile, claims, "claims.yaml"), (v.CasesFile, cases, "cases.yaml")):
        f = tmp_path / name
        f.write_text(yaml.safe_dump(data))
        with pytest.raises(InputError):
            v.load(model, f)


# ------------------------------------------------------------------ back-test


def test_rps():
    assert v.rps([0, 0, 1, 0, 0], 3) == 0
    assert v.rps([1, 0, 0, 0, 0], 5) == 1
    assert math.isclose(v.rps([0, 0, 0.5, 0.5, 0], 3), 0.25 / 4)


def test_cases_file_has_worked_examples_and_more():
    data = yaml.safe_load(v.CASES_FILE.read_text())
    ids = [c["id"] for c in data["crises"]]
    assert {"taiwan_strait_1995_96", "ep3_hainan_2001", "yeonpyeong_2010"} <= set(ids)
    assert len(ids) >= 8
    shared = v.ROOT.parent / "shared" / "domain" / "historical_examples.yaml"
    if shared.exists():  # the worked examples are copied unchanged, apart from the two added fields
        orig = {c["id"]: c for c in yaml.safe_load(shared.read_text())["crises"]}
        for c in data["crises"]:
            if c["id"] in orig:
                c = dict(c, outcome={k: x for k, x in c["outcome"].items() if k != "model_class"})
                c.pop("scenario")
                assert c == orig[c["id"]]
    for c in data["crises"]:
        assert c["sources"] and 1 <= c["peak"]["mid_hostility"] <= 5


def test_backtest_small(tmp_path, capsys):
    t = v.backtest(v.CASES_FILE, runs=300, seed=1)
    assert len(t) >= 8
    assert np.allclose(t[[f"p{k}" for k in v.LEVELS]].sum(axis=1), 1)
    hainan = t.set_index("case").loc["ep3_hainan_2001"]
    assert hainan.in_80 and hainan.skill > 0.9
    assert (t.rps >= 0).all() and (t.rps <= 1).all()
    fig = v.calibration_figure(t)
    fig.savefig(tmp_path / "c.png")
    assert (tmp_path / "c.png").stat().st_size > 10_000
    by_case = t.set_index("case")
    assert by_case.loc["ep3_hainan_2001", "trigger_class"] == v.TRIGGER_SETS  # the collision is MID 4 itself
    assert by_case.loc["yeonpyeong_2010", "trigger_class"] == v.ENGINE_MUST  # the drill is 3; the shelling is chosen
    classes = v.backtest_by_class(t)
    assert classes.loc["all", "cases"] == len(t) == classes.loc[[v.TRIGGER_SETS, v.ENGINE_MUST], "cases"].sum()
    # a case with inputs changed because of its miss is scored apart (informed_by in the cases file)
    assert not by_case.loc["senkaku_trawler_2010", "out_of_sample"] and by_case.loc["cheonan_2010", "out_of_sample"]
    assert classes.loc["all" + v.OUT_OF_SAMPLE, "cases"] == t.out_of_sample.sum() < len(t)
    assert "| engine must produce it |" in v.summary_markdown(classes)
    coding = v.coding_sensitivity(t)
    alt = "japan_korea_2019 coded 3 (not 1)"
    assert {"as coded", alt, "all alternatives"} <= set(coding.index)
    assert coding.loc["as coded"].skill == pytest.approx(v.backtest_summary(t)["skill"])
    assert coding.loc[alt].mean_rps > coding.loc["as coded"].mean_rps  # the model puts most weight on level 1


def test_backtest_cli(tmp_path, capsys):
    data = yaml.safe_load(v.CASES_FILE.read_text())
    data["crises"] = data["crises"][1:2]
    data["crises"][0]["scenario"] = str(v.ROOT / data["crises"][0]["scenario"])
    f = tmp_path / "cases.yaml"
    f.write_text(yaml.safe_dump(data))
    out = tmp_path / "bt"
    assert main(["backtest", str(f), "--runs", "200", "--out", str(out)]) == 0
    assert {p.name for p in out.iterdir()} == {"backtest.csv", "backtest.md", "calibration.png"}
    assert "ep3_hainan_2001" in capsys.readouterr().out


@pytest.mark.parametrize("text,field", [
    ("crises: []\n", "crises"),
    ("crises:\n  - {id: a, name: b, flashpoint: c, scenario: nowhere.yaml, peak: {mid_hostility: 3}, outcome: {}}\n",
     "scenario"),
    ("crises:\n  - {id: a, name: b, flashpoint: c, scenario: scenarios/senkaku.yaml, peak: {mid_hostility: 7}, "
     "outcome: {}}\n", "mid_hostility"),
])
def test_backtest_bad_input(tmp_path, capsys, text, field):
    f = tmp_path / "cases.yaml"
    f.write_text(text)
    assert main(["backtest", str(f), "--runs", "10"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error:") and "\n" not in err and field in err


# ------------------------------------------------------------------ base rates and calibration


def _pct(x: float) -> float:
    return round(100 * x, 1)


@pytest.mark.skipif(not HAVE_DATA, reason="ICB/MID data not available")
def test_base_rates_match_base_rates_md():
    nea = v.mid_hostlev_shares(v.mid_disputes("NEA50"))
    assert len(v.mid_disputes("NEA50")) == 236
    assert [_pct(nea[k]) for k in (2, 3, 4, 5)] == [1.3, 37.3, 59.7, 1.7]
    assert len(v.mid_disputes("POST46")) == 1726
    ea = v.icb_filter("EA54")
    assert len(ea) == 18 and len(v.icb_filter("POST45")) == 388
    assert [_pct(x) for x in v.icb_viol_shares(ea)] == [55.6, 33.3, 11.1, 0.0]
    assert [_pct(x) for x in v.icb_viol_shares(v.icb_filter("ALL"))] == [25.4, 29.8, 23.6, 21.2]
    nuc = v.nuclear_dyad_crises()
    assert len(nuc) == 31
    assert [_pct(x) for x in v.icb_viol_shares(nuc)] == [35.5, 25.8, 12.9, 25.8]
    act = v.nuclear_actor_crises()
    assert len(act) == 140 and [_pct(x) for x in v.icb_viol_shares(act)] == [25.0, 35.0, 20.0, 20.0]
    assert np.isclose(v.nea50_forecast().sum(), 1)


@pytest.mark.skipif(not HAVE_DATA, reason="ICB/MID data not available")
def test_calibration_small(capsys, tmp_path):
    from sim.inputs.library import SCENARIOS_DIR

    t = v.calibration(runs=100, seed=2, scenarios=[SCENARIOS_DIR / "senkaku.yaml", SCENARIOS_DIR / "japan_korea.yaml"])
    assert "model: pooled (2 scenarios)" in t.index
    assert any(re.match(r"MID NEA50", i) for i in t.index)
    shares = t.loc["model: senkaku", [f"P(peak={k})" for k in v.LEVELS]]
    assert np.isclose(shares.sum(), 1)
    assert "| model: senkaku |" in v.table_markdown(t)


@pytest.mark.skipif(not HAVE_DATA, reason="ICB/MID data not available")
def test_calibration_cli(tmp_path, capsys):
    md = tmp_path / "cal.md"
    assert main(["calibration", "--runs", "30", "--markdown", str(md)]) == 0
    out = capsys.readouterr().out
    assert "model: pooled" in out and "ICB EA54 (n=18)" in out and "MID NEA50 (n=236)" in out
    assert md.exists()
    assert main(["calibration", "--runs", "0"]) == 2
