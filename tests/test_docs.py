"""The documentation's worked example is a real scenario that validates and runs."""

from __future__ import annotations

import re
from pathlib import Path

from sim.engine.ensemble import simulate
from sim.inputs.compile import compile_scenario

ROOT = Path(__file__).resolve().parent.parent


def test_authoring_guide_example_runs(tmp_path):
    text = (ROOT / "docs" / "scenarios.md").read_text()
    blocks = re.findall(r"```yaml\n(.*?)```", text, flags=re.S)
    example = "\n".join(b for b in blocks if not b.lstrip().startswith("# yaml-language-server"))
    path = tmp_path / "yellow_sea_fishing.yaml"
    path.write_text(example)
    spec = compile_scenario(path)
    assert spec.scenario.id == "yellow_sea_fishing" and len(spec.scenario.levers) == 1
    res = simulate(spec, 1, 500, events=False)
    assert len(res.runs) == 500
    assert compile_scenario(path, levers=["hotline_answered"]).scenario.parameters.hotline_answer_shift == 0.35
