"""Encounter hazards rest on the record: every shipped encounter says where its numbers come from, and
where it cites a yearly rate of contact accidents, its numbers reproduce that rate at routine presence."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from sim.inputs.library import SCENARIOS_DIR
from sim.inputs.loader import load
from sim.inputs.schema import ScenarioFile
from sim.names import RULE_COVERED_UNITS

ROOT = Path(__file__).resolve().parents[1]
FILES = sorted(SCENARIOS_DIR.glob("*.yaml")) + sorted((ROOT / "validation" / "scenarios").glob("*.yaml"))
ENCOUNTERS = [(f, e, load(ScenarioFile, f).parameters.encounter_rules) for f in FILES
              for e in load(ScenarioFile, f).encounters]
RATE = re.compile(r"about (\d+(?:\.\d+)?) a year")


@pytest.mark.parametrize("path,enc,rules", ENCOUNTERS, ids=[f"{f.stem}:{e.id}" for f, e, _ in ENCOUNTERS])
def test_encounter_numbers_have_a_basis(path, enc, rules):
    assert enc.basis is not None, f"{path.name}: encounter {enc.id} has no basis"
    if enc.basis.history is None:
        assert enc.basis.assumption, f"{path.name}: {enc.id}"
        return
    cited = RATE.findall(enc.basis.history)
    assert cited, f"{path.name}: {enc.id}: the record should state its yearly rate ('about X a year')"
    covered = 1.0 - rules * (enc.units in RULE_COVERED_UNITS)
    implied = 365.0 * enc.per_day * enc.unsafe * covered * enc.collision
    assert implied == pytest.approx(float(cited[-1]), rel=0.1), f"{path.name}: {enc.id} implies {implied:.3f} a year"
