"""Publish JSON Schemas generated from the pydantic models (one per kind of data file)."""

from __future__ import annotations

import json
from pathlib import Path

from sim.inputs.schema import (
    ActionCatalogue,
    Baseline,
    CalibrationFile,
    ChannelTable,
    Ladder,
    Overlay,
    ParameterSet,
    Posture,
    ScenarioFile,
)

SCHEMAS = {
    "scenario": ScenarioFile,
    "posture": Posture,
    "baseline": Baseline,
    "ladder": Ladder,
    "actions": ActionCatalogue,
    "channels": ChannelTable,
    "overlay": Overlay,
    "calibration": CalibrationFile,
    "parameters": ParameterSet,
}


def schema_json(name: str) -> str:
    schema = SCHEMAS[name].model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["$id"] = f"{name}.schema.json"
    return json.dumps(schema, indent=2, sort_keys=True) + "\n"


def write_schemas(out: Path) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    paths = []
    for name in SCHEMAS:
        p = out / f"{name}.schema.json"
        p.write_text(schema_json(name))
        paths.append(p)
    return paths
