"""A condition: the scenario file plus everything changed from it (overlays, levers, overrides).

This is the one way to say "these settings" everywhere: the command line, jobs, sweeps, the
analysis and validation runners, the Mesa adapter and the workshop. Applying a condition reads
the scenario, applies its overlays, then its levers, then explicit ``--set`` overrides (in that
order, so an explicit override wins), and validates the result. Keys ``postures.<ACTOR>.<path>``
and ``baseline.<path>`` are routed to the posture files instead of the scenario.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from sim.errors import InputError
from sim.inputs.library import DEFAULT_SCENARIO, OVERLAYS_DIR, find_scenario
from sim.inputs.loader import check_plain_data, load_shared, parse_value, read_yaml, validate
from sim.inputs.schema import Overlay, ScenarioFile
from sim.names import ACTOR_IDS

#: A dotted override path: ``parameters.fog``, ``levers.0.set.0.value``, ``postures.US.weights.cost.value``.
OVERRIDE_KEY = re.compile(r"^[A-Za-z_][\w-]*(\.[\w-]+){0,31}$")
#: An overlay name (a file in scenarios/overlays): a plain name, never a path.
OVERLAY_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,79}$")


@dataclass(frozen=True)
class Condition:
    """What to simulate: a scenario file and the changes applied to it.

    ``overrides`` are ``(dotted.path, value)`` pairs (see :func:`parse_override`); values are
    plain YAML data. Two conditions are equal when they would compile to the same inputs.
    """

    scenario: str = str(DEFAULT_SCENARIO)
    levers: tuple[str, ...] = ()
    overlays: tuple[str, ...] = ()
    overrides: tuple[tuple[str, Any], ...] = ()
    label: str = field(default="", compare=False)
    parameters: str = ""  # parameter-set file; "" the default set, "baseline" none (sim.inputs.parameters)

    def __post_init__(self) -> None:
        object.__setattr__(self, "scenario", str(find_scenario(self.scenario)))
        object.__setattr__(self, "levers", tuple(self.levers))
        object.__setattr__(self, "overlays", tuple(self.overlays))
        object.__setattr__(self, "overrides", tuple((str(k), v) for k, v in self.overrides))
        object.__setattr__(self, "parameters", str(self.parameters or ""))
        for k, v in self.overrides:  # values given to the API directly obey the rules of parsed YAML
            check_plain_data(v, self.scenario, k)

    @classmethod
    def of(cls, scenario: str | Path | Condition | None = None, *, levers: Iterable[str] = (),
           overlays: Iterable[str] = (), overrides: Iterable[tuple[str, Any]] | None = (),
           label: str = "", parameters: str | Path | None = None) -> Condition:
        """A condition from loose arguments (a Condition passes through, with extra changes added)."""
        if isinstance(scenario, Condition):
            c = scenario.plus(levers=levers, overlays=overlays, overrides=overrides or ())
            return c if parameters is None else replace(c, parameters=str(parameters))
        return cls(str(scenario or DEFAULT_SCENARIO), tuple(levers), tuple(overlays), tuple(overrides or ()), label,
                   str(parameters or ""))

    def plus(self, *, levers: Iterable[str] = (), overlays: Iterable[str] = (),
             overrides: Iterable[tuple[str, Any]] = (), label: str | None = None) -> Condition:
        """This condition with more levers, overlays or overrides (a lever already on stays once)."""
        lv = (*self.levers, *(x for x in levers if x not in self.levers))
        ov = (*self.overlays, *(x for x in overlays if x not in self.overlays))
        return Condition(self.scenario, lv, ov, (*self.overrides, *overrides),
                         self.label if label is None else label, self.parameters)

    def key(self) -> str:
        """A stable text key (caches, job identities)."""
        parts = [self.scenario, list(self.levers), list(self.overlays), [list(kv) for kv in self.overrides]]
        if self.parameters:  # only when chosen, so keys of earlier jobs stay as they were
            parts.append(self.parameters)
        return json.dumps(parts, sort_keys=True, default=str)

    def __hash__(self) -> int:
        return hash(self.key())

    @property
    def name(self) -> str:
        """A readable name: the label, else the scenario stem and the changes."""
        if self.label:
            return self.label
        parts = [Path(self.scenario).stem, *self.overlays, *self.levers,
                 *(f"{k}={v}" for k, v in self.overrides)]
        return " + ".join(parts)


@dataclass(frozen=True)
class Applied:
    """What was changed from the files as written: overlays, levers, explicit overrides."""

    overlays: tuple[str, ...] = ()
    levers: tuple[str, ...] = ()
    overrides: tuple[tuple[str, Any], ...] = ()
    parameter_set: str = ""  # the condition's choice (sim.inputs.parameters.resolve)


@dataclass(frozen=True)
class AppliedScenario:
    """A condition applied: the validated scenario and the changes aimed at the posture files."""

    scenario: ScenarioFile
    raw: bytes  # the scenario's bytes plus the changes, for hashing
    posture_changes: dict[str, list[tuple[str, Any]]]  # actor (or "baseline") -> [(path, value)]
    applied: Applied


def set_path(data: dict, dotted: str, value: Any, path: str) -> None:
    """Set ``a.b.0.c`` in nested YAML data (used by --set overrides and sweeps)."""
    parts = dotted.split(".")
    node: Any = data
    for i, part in enumerate(parts):
        last = i == len(parts) - 1
        if isinstance(node, list):
            if not (part.isascii() and part.isdigit()) or int(part) >= len(node):
                raise InputError(path, dotted, f"no list item {part!r}")
            idx = int(part)
            if last:
                node[idx] = value
            else:
                node = node[idx]
        elif isinstance(node, dict):
            if last:
                node[part] = value
            else:
                node = node.setdefault(part, {})
        else:
            raise InputError(path, dotted, f"cannot descend into {type(node).__name__}")


def parse_override(text: str) -> tuple[str, Any]:
    """Parse ``key=value`` where value is YAML (numbers, lists, strings), read under the same
    rules as data files (``sim.inputs.loader``: no anchors, aliases or tags; depth and size limits)."""
    if "=" not in text:
        raise InputError("--set", text[:80], "expected KEY=VALUE")
    key, raw = text.split("=", 1)
    key = key.strip()
    if not OVERRIDE_KEY.match(key):
        raise InputError("--set", key[:80], "expected a dotted path such as parameters.fog (letters, digits, _ and "
                         "-, at most 32 parts)")
    return key, parse_value(raw, "--set", key)


def load_overlay(name: str) -> Overlay:
    path = OVERLAYS_DIR / f"{name}.yaml" if isinstance(name, str) and OVERLAY_NAME.match(name) else None
    if path is None or not path.exists():
        known = ", ".join(sorted(p.stem for p in OVERLAYS_DIR.glob("*.yaml"))) or "none"
        raise InputError("--overlay", str(name)[:80], f"unknown overlay (known: {known})")
    data, node = read_yaml(path)
    return validate(Overlay, data, path, node)


def settings(condition: Condition, base: ScenarioFile) -> tuple[list[str], list[tuple[str, Any]]]:
    """The overlays in force and every setting in the order applied: the parameter set, overlays,
    levers, overrides."""
    from sim.inputs.parameters import pairs

    path = condition.scenario
    out: list[tuple[str, Any]] = pairs(condition.parameters)
    overlays = list(dict.fromkeys([*base.overlays, *condition.overlays]))
    for name in overlays:
        out += [(st.path, st.value) for st in load_overlay(name).set]
    lever_map = {lv.id: lv for lv in base.levers}
    for name in condition.levers:
        if name not in lever_map:
            known = ", ".join(lever_map) or "none"
            raise InputError(path, f"levers.{str(name)[:80]}", f"unknown lever (known: {known})")
        out += [(st.path, st.value) for st in lever_map[name].set]
    return overlays, out + list(condition.overrides)


def _route(path: str, changes: Sequence[tuple[str, Any]]):
    """Split changes into those for the scenario and those for posture files (by actor, or baseline)."""
    targets: dict[str, list[tuple[str, Any]]] = {}
    scenario = []
    for key, value in changes:
        head, _, rest = key.partition(".")
        if head == "postures":
            actor, _, sub = rest.partition(".")
            if actor not in ACTOR_IDS or not sub:
                raise InputError(path, key, "expected postures.<ACTOR>.<path>")
            targets.setdefault(actor, []).append((sub, value))
        elif head == "baseline":
            if not rest:
                raise InputError(path, key, "expected baseline.<path>")
            targets.setdefault("baseline", []).append((rest, value))
        else:
            scenario.append((key, value))
    return scenario, targets


def apply(condition: Condition) -> AppliedScenario:
    """Read the scenario, apply the condition's changes and validate the result."""
    path = Path(condition.scenario)
    base = load_shared(ScenarioFile, path)
    overlays, changes = settings(condition, base)
    scen_changes, targets = _route(str(path), changes)
    scen = base
    if scen_changes:
        data, _ = read_yaml(path)  # a fresh copy
        for key, value in scen_changes:
            set_path(data, key, value, str(path))
        scen = validate(ScenarioFile, data, path, None)
    applied = Applied(tuple(overlays), condition.levers, tuple(changes), condition.parameters)
    raw = path.read_bytes() + json.dumps(changes, sort_keys=True, default=str).encode()
    return AppliedScenario(scen, raw, targets, applied)
