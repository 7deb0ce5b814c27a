"""The MSEL (Master Scenario Events List) as a spreadsheet: CSV export and import.

Facilitators edit injects in a spreadsheet, so a scenario's ``injects`` round-trip through a
CSV with the HSEEP columns (``../shared/domain/tabletop_conventions.md`` §1.1). Structured
fields (the trigger condition and the effects) travel as JSON in one cell each, so the
round trip is lossless. Import writes a *new* scenario file and validates it fully.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from sim.errors import InputError
from sim.experiments.store import atomic_write
from sim.inputs.loader import read_yaml
from sim.inputs.schema import Inject, ScenarioFile

#: CSV column -> Inject field ('' for columns derived on export and ignored on import)
COLUMNS = {
    "Serial": "id",
    "Move": "turn",
    "Day": "day",
    "Scenario Time (h)": "",
    "Trigger": "kind",
    "Condition": "when",
    "Probability": "probability",
    "Inject Type": "type",
    "Delivery Method": "delivery",
    "From": "originator",
    "To": "to",
    "Title": "title",
    "Description": "text",
    "Expected Player Action": "expected_action",
    "Objective": "objective",
    "Responsible Controller": "controller",
    "Controller Note": "controller_note",
    "Location": "location",
    "Effects": "effects",
    "Status": "",
}


def _hours(inj: Inject, hours: float) -> str:
    """Scenario time of a scheduled inject, in hours from the start."""
    if inj.day is not None:
        return f"{max(inj.day - 1, 0) * 24:g}"
    return "" if inj.turn is None else f"{max(inj.turn - 1, 0) * hours:g}"


def _row(inj: Inject, hours: float) -> dict[str, str]:
    when = inj.when.model_dump(by_alias=True, exclude_none=True) if inj.when else None
    effects = inj.effects.model_dump(by_alias=True, exclude_defaults=True)
    return {
        "Serial": inj.id,
        "Move": "" if inj.turn is None else str(inj.turn),
        "Day": "" if inj.day is None else f"{inj.day:g}",
        "Scenario Time (h)": _hours(inj, hours),
        "Trigger": inj.kind,
        "Condition": json.dumps(when, sort_keys=True, ensure_ascii=False) if when else "",
        "Probability": f"{inj.probability:g}",
        "Inject Type": inj.type,
        "Delivery Method": inj.delivery,
        "From": inj.originator,
        "To": ", ".join(inj.to),
        "Title": inj.title,
        "Description": inj.text,
        "Expected Player Action": inj.expected_action,
        "Objective": inj.objective,
        "Responsible Controller": inj.controller,
        "Controller Note": inj.controller_note,
        "Location": inj.location or "",
        "Effects": json.dumps(effects, sort_keys=True, ensure_ascii=False) if effects else "",
        "Status": "pending",
    }


def to_csv(scenario: ScenarioFile) -> str:
    """The scenario's injects as CSV text."""
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=list(COLUMNS), lineterminator="\n")
    w.writeheader()
    for inj in scenario.injects:
        w.writerow(_row(inj, scenario.turns.hours))
    return buf.getvalue()


def export_csv(scenario_path: Path, csv_path: Path) -> int:
    data, node = read_yaml(scenario_path)
    from sim.inputs.loader import validate

    scen = validate(ScenarioFile, data, scenario_path, node)
    text = to_csv(scen)
    atomic_write(Path(csv_path), lambda p: p.write_text(text, encoding="utf-8"))
    return len(scen.injects)


def _json_cell(value: str, path: Path, row: int, column: str) -> Any:
    if not value.strip():
        return None
    try:
        return json.loads(value)
    except json.JSONDecodeError as exc:
        raise InputError(path, f"row {row}, column {column!r}", f"not valid JSON: {exc.msg}") from None


def from_csv(text: str, path: Path) -> list[Inject]:
    """Parse MSEL CSV text into validated injects (errors name the row and column)."""
    reader = csv.DictReader(io.StringIO(text))
    missing = [c for c, f in COLUMNS.items() if f and c not in (reader.fieldnames or [])]
    if missing:
        raise InputError(path, "header", f"missing columns: {', '.join(missing)}")
    injects = []
    for n, rec in enumerate(reader, start=2):
        d: dict[str, Any] = {}
        for column, fieldname in COLUMNS.items():
            if not fieldname:
                continue
            raw = rec.get(column) or ""
            if fieldname in ("when", "effects"):
                val = _json_cell(raw, path, n, column)
                if val is not None:
                    d[fieldname] = val
            elif fieldname == "turn":
                if raw.strip():
                    try:
                        d["turn"] = int(raw)
                    except ValueError:
                        raise InputError(path, f"row {n}, column {column!r}", f"not a whole number: {raw!r}") from None
            elif fieldname == "day":
                if raw.strip():
                    try:
                        d["day"] = float(raw)
                    except ValueError:
                        raise InputError(path, f"row {n}, column {column!r}", f"not a number: {raw!r}") from None
            elif fieldname == "probability":
                try:
                    d["probability"] = float(raw) if raw.strip() else 1.0
                except ValueError:
                    raise InputError(path, f"row {n}, column {column!r}", f"not a number: {raw!r}") from None
            elif fieldname == "to":
                d["to"] = [x.strip() for x in raw.split(",") if x.strip()] or ["all"]
            elif fieldname == "location":
                if raw.strip():
                    d["location"] = raw.strip()
            else:
                d[fieldname] = raw
        try:
            injects.append(Inject.model_validate(d))
        except ValidationError as exc:
            err = exc.errors()[0]
            loc = ".".join(str(p) for p in err["loc"])
            column = next((c for c, f in COLUMNS.items() if f and loc.split(".")[0] == f), loc)
            raise InputError(path, f"row {n}, column {column!r}", f"{loc}: {err['msg']}") from None
    return injects


def import_csv(scenario_path: Path, csv_path: Path, out: Path) -> int:
    """Write ``out``: the scenario with its injects replaced by the CSV's, fully validated."""
    from sim.inputs.compile import compile_scenario

    if Path(out).resolve() == Path(scenario_path).resolve():
        raise InputError(out, "--out", "refusing to overwrite the input scenario; choose a new file")
    try:
        text = Path(csv_path).read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise InputError(csv_path, "", "file not found") from None
    except UnicodeDecodeError:
        raise InputError(csv_path, "", "file is not UTF-8 text") from None
    injects = from_csv(text, Path(csv_path))
    data, _ = read_yaml(scenario_path)
    data = dict(data)
    data["injects"] = [i.model_dump(by_alias=True, exclude_defaults=True, mode="json") for i in injects]
    body = yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=100)
    header = f"# Generated by 'run_sim.py msel import' from {Path(scenario_path).name} and {Path(csv_path).name}.\n"
    tmp = Path(out).with_name(f".{Path(out).name}.check.yaml")
    tmp.write_text(header + body, encoding="utf-8")
    try:
        compile_scenario(tmp)  # references (actors, actions, channels, injects) must resolve
    except InputError as exc:
        raise InputError(csv_path, exc.field, exc.message) from None
    finally:
        tmp.unlink(missing_ok=True)
    atomic_write(Path(out), lambda p: p.write_text(header + body, encoding="utf-8"))
    return len(injects)
