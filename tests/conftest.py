"""Shared fixtures: compiled scenarios and small seeded ensembles (session-scoped: built once)."""

from __future__ import annotations

import pandas as pd
import pytest

from sim.engine.ensemble import simulate
from sim.inputs.compile import compile_scenario
from sim.inputs.library import SCENARIOS_DIR

CORE = ("taiwan_strait", "senkaku", "korean_peninsula")


@pytest.fixture(scope="session")
def specs():
    return {name: compile_scenario(SCENARIOS_DIR / f"{name}.yaml") for name in CORE}


@pytest.fixture(scope="session")
def ensembles(specs):
    """2,000 seeded runs of each core scenario (seed 11)."""
    return {name: simulate(spec, 11, 2000) for name, spec in specs.items()}


@pytest.fixture
def posterior(tmp_path):
    """A two-draw posterior file with very different temperatures: parameter uncertainty dominates."""
    f = tmp_path / "posterior.csv"
    pd.DataFrame({"parameters.temperature_scale": [0.5, 2.0], "weight": [0.5, 0.5]}).to_csv(f, index=False)
    return f
