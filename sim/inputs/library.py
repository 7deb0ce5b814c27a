"""Where the scenario library lives: one root for postures, scenarios, overlays and validation data.

The root is the checkout (the folder holding ``actors/``, ``scenarios/`` and ``validation/``);
``CRISIS_SIM_ACTORS`` points the compiler at another posture folder. The engine's own tables
(ladder, actions, channels) are package data in ``sim/data``.
"""

from __future__ import annotations

import os
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent
DATA_DIR = Path(__file__).resolve().parent.parent / "data"
ACTORS_DIR = Path(os.environ.get("CRISIS_SIM_ACTORS", ROOT / "actors"))
SCENARIOS_DIR = ROOT / "scenarios"
OVERLAYS_DIR = SCENARIOS_DIR / "overlays"
VALIDATION_DIR = ROOT / "validation"
DEFAULT_SCENARIO = SCENARIOS_DIR / "taiwan_strait.yaml"
CATALOGUE_FILES = ("ladder.yaml", "actions.yaml", "channels.yaml")
