"""Rewrite a scenario written for the per-turn rates of earlier versions into per-day rates.

Until version 0.2 an encounter's ``rate``, ``parameters.hostility_decay`` and
``parameters.agreement_turns`` were per turn, and scheduled injects fell due by turn, so the
same file meant different things at different turn lengths. They are now per day
(``per_day``, ``hostility_decay_per_day``, ``agreement_days``, and an inject's ``day``: the
first day of its old turn). Old files still load, with a note; :func:`migrate` rewrites one in
place, editing only the affected keys and values so comments and layout survive.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import yaml

from sim.errors import InputError
from sim.inputs.loader import read_yaml, validate
from sim.inputs.schema import ScenarioFile


@dataclass(frozen=True)
class Edit:
    start: int
    end: int
    text: str


def _number(x: float) -> str:
    return f"{x:.6g}"


def _per_day(per_turn: float, days: float) -> float:
    return 1.0 - (1.0 - per_turn) ** (1.0 / days)


def _pairs(node: yaml.Node | None) -> dict[str, tuple[yaml.Node, yaml.Node]]:
    if not isinstance(node, yaml.MappingNode):
        return {}
    return {k.value: (k, v) for k, v in node.value if isinstance(k, yaml.ScalarNode)}


def _rename(pairs: dict, old: str, new: str, value: str) -> list[Edit]:
    key, val = pairs[old]
    return [Edit(key.start_mark.index, key.end_mark.index, new), Edit(val.start_mark.index, val.end_mark.index, value)]


def edits(text: str, scen: ScenarioFile) -> list[Edit]:
    """The key and value replacements that turn per-turn fields into per-day ones."""
    days = scen.turns.days
    root = _pairs(yaml.compose(text, Loader=yaml.SafeLoader))
    out: list[Edit] = []
    if "encounters" in root:
        for i, node in enumerate(root["encounters"][1].value):
            enc = scen.encounters[i]
            if enc.rate is not None:
                out += _rename(_pairs(node), "rate", "per_day", _number(_per_day(enc.rate, days)))
    if "injects" in root:
        for i, node in enumerate(root["injects"][1].value):
            inj, pairs = scen.injects[i], _pairs(node)
            if inj.kind == "scheduled" and inj.turn is not None and "turn" in pairs:
                out += _rename(pairs, "turn", "day", _number((max(inj.turn, 1) - 1) * days + 1))
    params = _pairs(root["parameters"][1]) if "parameters" in root else {}
    prm = scen.parameters
    if prm.hostility_decay is not None:
        out += _rename(params, "hostility_decay", "hostility_decay_per_day",
                       _number(_per_day(prm.hostility_decay, days)))
    if prm.agreement_turns is not None:
        out += _rename(params, "agreement_turns", "agreement_days", _number(prm.agreement_turns * days))
    return out


def migrate(path: str | Path, out: str | Path | None = None) -> list[str]:
    """Rewrite ``path`` (or write ``out``) with per-day fields; return one line per change made."""
    path = Path(path)
    data, node = read_yaml(path)
    scen = validate(ScenarioFile, data, path, node)
    text = path.read_text(encoding="utf-8")
    changes = sorted(edits(text, scen), key=lambda e: e.start, reverse=True)
    for e in changes:
        text = text[: e.start] + e.text + text[e.end:]
    target = Path(out) if out else path
    from sim.experiments.store import atomic_write

    try:
        atomic_write(target, lambda p: p.write_text(text, encoding="utf-8"))
    except OSError as exc:
        raise InputError(target, "", f"cannot write: {exc.strerror}") from None
    return [f"{path}: {'key' if i % 2 == 0 else 'value'} -> {e.text}" for i, e in enumerate(reversed(changes))]
