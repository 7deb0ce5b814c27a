"""Older scenario files (per-turn rates, injects by turn) still load, and `migrate` rewrites them in place."""

from __future__ import annotations

import numpy as np
import pytest

from sim.cli import main
from sim.inputs.compile import compile_scenario

OLD = """# an old-format scenario: rates per 48-hour turn
id: old_format
title: "Old format"
flashpoint: korean_peninsula
summary: "x"
actors:
  - {id: DPRK, adversaries: [ROK]}
  - {id: ROK, adversaries: [DPRK]}
turns: {max: 10, hours: 48}
parameters:
  hostility_decay: 0.19   # per turn
  agreement_turns: 2
encounters:
  - {id: nll, parties: [DPRK, ROK], domain: sea, units: navy, rate: 0.15, unsafe: 0.2, collision: 0.15}
injects:
  - {id: A, title: "A", kind: scheduled, turn: 3}
"""


def test_old_file_loads_with_notes_and_same_meaning(tmp_path):
    path = tmp_path / "old.yaml"
    path.write_text(OLD)
    spec = compile_scenario(path)
    assert len(spec.notes) == 3 and all("deprecated" in n for n in spec.notes)
    assert spec.encounters.rate[0] == pytest.approx(1 - 0.85 ** 0.5)
    assert spec.constants.decay == pytest.approx(1 - 0.81 ** 0.5) and spec.constants.offer_days == 4.0  # per day
    assert spec.injects[0].turn == 5  # the engine step (a day) that opens turn 3 of 48 hours


def test_migrate_rewrites_in_place_keeping_comments(tmp_path, capsys):
    path = tmp_path / "old.yaml"
    path.write_text(OLD)
    before = compile_scenario(path)
    assert main(["migrate", str(path)]) == 0
    text = path.read_text()
    assert "# an old-format scenario" in text and "# per turn" in text
    assert "per_day:" in text and "rate:" not in text and "hostility_decay_per_day:" in text and "day: 5" in text
    after = compile_scenario(path)
    assert after.notes == ()
    np.testing.assert_allclose(after.encounters.rate, before.encounters.rate, rtol=1e-5)
    assert after.constants.decay == pytest.approx(before.constants.decay, rel=1e-5)
    assert after.injects[0].turn == before.injects[0].turn
    assert main(["migrate", str(path)]) == 0 and "already current" in capsys.readouterr().out


def test_validate_prints_deprecation_notes(tmp_path, capsys):
    path = tmp_path / "old.yaml"
    path.write_text(OLD)
    assert main(["validate", str(path)]) == 0
    err = capsys.readouterr().err
    assert "encounters.0.rate is per turn (deprecated)" in err and "migrate" in err
