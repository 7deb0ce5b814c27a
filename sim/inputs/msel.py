"""The MSEL (Master Scenario Events List) as a spreadsheet: CSV export and import.

Facilitators edit injects in a spreadsheet, so a scenario's ``injects`` round-trip through a
CSV with the HSEEP columns (``../shared/domain/tabletop_conventions.md`` §1.1). Structured
fields (the trigger condition and the effects) travel as JSON in one cell each, so the
round trip is lossless. Import writes a *new* scenario file and validates it fully.

Cells are written and read by ``sim.inputs.safe_csv``: a cell a spreadsheet would run as a
formula (``=``, ``+``, ``-``, ``@``, tab, CR first) is written with a leading apostrophe, which
import removes again. Import refuses control characters, over-long cells and JSON cells nested
deeper than the YAML files may be, naming the row and column.
"""

from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from sim.errors import InputError
from sim.experiments.store import atomic_write
from sim.inputs.loader import MAX_DEPTH, check_plain_data, read_yaml
from sim.inputs.safe_csv import dict_rows_text, restore
from sim.inputs.schema import Inject, ScenarioFile

MAX_CELL_CHARS = 100_000
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")

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
    """The scenario's injects as CSV text (formula-like cells neutralised, ``sim.inputs.safe_csv``)."""
    return dict_rows_text(list(COLUMNS), (_row(inj, scenario.turns.hours) for inj in scenario.injects))


def export_csv(scenario_path: Path, csv_path: Path) -> int:
    from sim.inputs.loader import validate
    from sim.inputs.paths import output_file

    output_file(csv_path, "--csv")
    data, node = read_yaml(scenario_path)
    scen = validate(ScenarioFile, data, scenario_path, node)
    text = to_csv(scen)
    atomic_write(Path(csv_path), lambda p: p.write_text(text, encoding="utf-8"))
    return len(scen.injects)


def _json_cell(value: str, path: Path, row: int, column: str) -> Any:
    if not value.strip():
        return None
    where = f"row {row}, column {column!r}"
    if value.count("[") + value.count("{") > 10_000 or _depth(value) > MAX_DEPTH:
        raise InputError(path, where, f"JSON nested more than {MAX_DEPTH} levels deep")
    try:
        data = json.loads(value)
    except json.JSONDecodeError as exc:
        raise InputError(path, where, f"not valid JSON: {exc.msg}") from None
    except RecursionError:  # pragma: no cover - _depth comes first
        raise InputError(path, where, "JSON nested too deeply") from None
    check_plain_data(data, str(path), where)
    return data


def _depth(text: str) -> int:
    """Deepest bracket nesting of JSON text (brackets inside strings count too: an upper bound)."""
    depth = best = 0
    for ch in re.findall(r"[\[\]{}]", text):
        depth += 1 if ch in "[{" else -1
        best = max(best, depth)
    return best


def _records(text: str, path: Path):
    """The CSV's header and its rows (line number, cells restored), refusing what no
    spreadsheet cell should hold: control characters, cells over ``MAX_CELL_CHARS``."""
    reader = csv.reader(io.StringIO(text, newline=""))
    limit = csv.field_size_limit()
    try:
        csv.field_size_limit(max(limit, 16 * MAX_CELL_CHARS))  # our own, clearer limit comes first
        rows = []
        line = 1
        for rec in reader:
            for i, cell in enumerate(rec):
                if len(cell) > MAX_CELL_CHARS:
                    raise InputError(path, f"row {line}, column {i + 1}", f"cell is longer than {MAX_CELL_CHARS:,} "
                                     "characters")
                if _CONTROL.search(cell):
                    raise InputError(path, f"row {line}, column {i + 1}", "cell contains a control character")
            rows.append((line, [restore(c) for c in rec]))
            line = reader.line_num + 1
    except csv.Error as exc:
        raise InputError(path, f"row {reader.line_num}", f"malformed CSV: {exc}") from None
    finally:
        csv.field_size_limit(limit)
    if not rows:
        raise InputError(path, "header", "the file is empty")
    return rows[0][1], rows[1:]


def from_csv(text: str, path: Path) -> list[Inject]:
    """Parse MSEL CSV text into validated injects (errors name the row and column)."""
    header, records = _records(text, path)
    missing = [c for c, f in COLUMNS.items() if f and c not in header]
    if missing:
        raise InputError(path, "header", f"missing columns: {', '.join(missing)}")
    injects = []
    for n, cells in records:
        if not any(c.strip() for c in cells):
            continue  # a blank line
        rec = dict(zip(header, cells, strict=False))
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
                        if not raw.strip().isascii():  # int() would read fullwidth or other digits
                            raise ValueError(raw)
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
                    if not raw.isascii():
                        raise ValueError(raw)
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
    from sim.inputs.loader import MAX_FILE_BYTES, validate
    from sim.inputs.paths import output_file

    output_file(out, "--out")
    if Path(out).resolve() == Path(scenario_path).resolve():
        raise InputError(out, "--out", "refusing to overwrite the input scenario; choose a new file")
    data, node = read_yaml(scenario_path)
    validate(ScenarioFile, data, scenario_path, node)  # a mapping, and a scenario, before it is edited
    try:
        if Path(csv_path).stat().st_size > MAX_FILE_BYTES * 10:
            raise InputError(csv_path, "", f"file is larger than {MAX_FILE_BYTES * 10} bytes")
        with open(csv_path, encoding="utf-8-sig", newline="") as fh:  # newline="": a CR inside a cell stays a CR
            text = fh.read()
    except FileNotFoundError:
        raise InputError(csv_path, "", "file not found") from None
    except UnicodeDecodeError:
        raise InputError(csv_path, "", "file is not UTF-8 text") from None
    except IsADirectoryError:
        raise InputError(csv_path, "", "is a directory, not a CSV file") from None
    except OSError as exc:
        raise InputError(csv_path, "", f"cannot read file: {exc.strerror}") from None
    injects = from_csv(text, Path(csv_path))
    data = dict(data)
    data["injects"] = [i.model_dump(by_alias=True, exclude_defaults=True, mode="json") for i in injects]
    body = yaml.dump(data, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=100)
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


class _Dumper(yaml.SafeDumper):
    """Quotes text that either YAML 1.1 or the loader's YAML 1.2 rules would read as a number
    (``1e3``, ``0o17``), so the written file reads back as the same data."""


for _tag, _regexp, _first in (
        ("int", r"^(?:[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+)$", list("-+0123456789")),
        ("float", r"^(?:[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?)$", list("-+.0123456789"))):
    _Dumper.add_implicit_resolver(f"tag:yaml.org,2002:{_tag}", re.compile(_regexp), _first)
