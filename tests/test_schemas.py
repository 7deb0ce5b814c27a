"""Published JSON Schemas match the pydantic models, and every shipped file validates."""

from __future__ import annotations

from pathlib import Path

import pytest

from sim.engine.ensemble import simulate
from sim.inputs.compile import compile_scenario
from sim.inputs.jsonschema import SCHEMAS, schema_json
from sim.inputs.library import SCENARIOS_DIR

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize("name", list(SCHEMAS))
def test_published_schema_is_current(name):
    path = ROOT / "schemas" / f"{name}.schema.json"
    assert path.read_text() == schema_json(name), "run: python run_sim.py schema"


@pytest.mark.parametrize("path", sorted(SCENARIOS_DIR.glob("*.yaml")), ids=lambda p: p.stem)
def test_shipped_scenario_validates_and_runs(path):
    spec = compile_scenario(path)
    res = simulate(spec, 0, 1000, events=False)
    assert len(res.runs) == 1000
    assert res.runs.outcome.nunique() >= 2
