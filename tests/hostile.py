"""The hostile-input generator and runner behind ``tests/test_hostile.py``.

``generate(n, seed)`` builds ``n`` hostile cases over every input surface of the engine, from one
``random.Random(seed)``: scenario files (hand-written hostile texts, and mutations of the shipped
scenarios that are invalid by construction: unknown keys, missing required fields, wrong types for
the strict schema, out-of-range numbers, dangling references, YAML 1.1 numbers, duplicate keys,
tags, anchors, deep nesting, control characters), posture files, sweep files, back-test case
files, MSEL CSV imports and exports, ``--set`` values, results folders given to report and
compare, output paths and the other command-line arguments. (The workshop's session log and
terminal commands have their own suite.)

``run(case, workdir)`` runs one case in-process through ``sim.cli.main`` and returns what went
wrong, if anything. Every case must give exit code 2 with exactly one line on stderr and no
traceback, within ``TIMEOUT`` seconds; nothing may be executed (a canary file a payload would
create must not appear) and nothing already in the case's folder may change (no file changed,
removed or added).

Nightly-size run (the CI size is ``HOSTILE_CASES``'s default in ``tests/test_hostile.py``)::

    HOSTILE_CASES=20000 HOSTILE_SEED=7 .venv/bin/pytest -n 2 -q tests/test_hostile.py
    HOSTILE_SUBPROCESS=200 ...   # also re-run 200 of the cases as real run_sim.py processes
"""

from __future__ import annotations

import contextlib
import copy
import hashlib
import io
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
SCENARIOS = ROOT / "scenarios"
TIMEOUT = 30
CANARY = "CANARY_EXECUTED"
MARK = "@@HOSTILE@@"
# Special files as output targets live in the case folder: a FIFO, and a link to one. (Never a
# real device such as /dev/null: code that replaces its target atomically would replace the
# device itself when run as root.)
SPECIAL = {"fifos": ("fifo",), "links": {"dev-link": "{d}/fifo"}}

# ============================================================================ cases


@dataclass
class Case:
    """One hostile input: the files to create in an empty folder, and the command line.

    ``argv`` may name ``{d}`` (the case folder) and ``{results}`` (a copy of a finished results
    folder, made in the case folder when named)."""

    id: str
    category: str
    argv: list[str]
    files: dict[str, str | bytes] = field(default_factory=dict)
    results: dict[str, str | bytes | None] = field(default_factory=dict)  # edits to the results copy
    links: dict[str, str] = field(default_factory=dict)  # name -> symlink target
    fifos: tuple[str, ...] = ()


def _dump(doc: Any) -> str:
    return yaml.dump(doc, Dumper=getattr(yaml, "CSafeDumper", yaml.SafeDumper), sort_keys=False, allow_unicode=True,
                     width=4096)


def _load(path: Path) -> Any:
    return yaml.load(path.read_text(), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))


# ---------------------------------------------------------------------------- schema walking


def _strip(ann: Any) -> Any:
    """Annotated[X, ...] -> X."""
    while typing.get_origin(ann) is typing.Annotated:
        ann = typing.get_args(ann)[0]
    return ann


def _constraints(ann: Any, info: Any = None) -> list:
    out = list(getattr(info, "metadata", []) or [])
    while typing.get_origin(ann) is typing.Annotated:
        args = typing.get_args(ann)
        for m in args[1:]:
            out += list(getattr(m, "metadata", []) or []) or [m]
        ann = args[0]
    return [m for m in out if type(m).__name__ in ("Ge", "Le", "Gt", "Lt")]


def _options(ann: Any) -> list:
    """The alternatives of a union (or the type itself)."""
    ann = _strip(ann)
    if typing.get_origin(ann) in (typing.Union, types.UnionType):
        return [_strip(a) for a in typing.get_args(ann)]
    return [ann]


def _kind(ann: Any) -> str | None:
    """A simple kind for a leaf's annotation: str, int, float, bool, list, dict, model, any, or None (mixed)."""
    from pydantic import BaseModel

    opts = [a for a in _options(ann) if a is not type(None)]
    kinds = set()
    for a in opts:
        origin = typing.get_origin(a)
        if a is typing.Any:
            return "any"
        if origin is typing.Literal:
            vals = typing.get_args(a)
            kinds.add("str" if all(isinstance(v, str) for v in vals) else "mixed")
        elif a in (str, int, float, bool):
            kinds.add(a.__name__)
        elif origin in (list, tuple) or a in (list, tuple):
            kinds.add("list")
        elif origin is dict or a is dict:
            kinds.add("dict")
        elif isinstance(a, type) and issubclass(a, BaseModel):
            kinds.add("model")
        else:
            kinds.add("mixed")
    return kinds.pop() if len(kinds) == 1 else None


def _model_of(ann: Any, value: Any):
    from pydantic import BaseModel

    for a in _options(ann):
        if isinstance(a, type) and issubclass(a, BaseModel):
            if "type" in a.model_fields and isinstance(value, dict):  # a discriminated union (sweep designs)
                lit = typing.get_args(_strip(a.model_fields["type"].annotation))
                if value.get("type") not in lit:
                    continue
            return a
    return None


def walk(model, data: Any, path: tuple = ()):
    """Yield ("model", path, model) for every mapping validated by a model and
    ("leaf", path, kind, constraints, model, field) for every value under a model field."""
    yield ("model", path, model)
    for name, info in model.model_fields.items():
        key = info.alias or name
        if not isinstance(data, dict) or key not in data:
            continue
        yield from _walk_value(info.annotation, data[key], (*path, key), _constraints(info.annotation, info),
                               model, name)


def _walk_value(ann, value, path, cons, model, fname):
    kind = _kind(ann)
    yield ("leaf", path, kind, cons, model, fname)
    sub = _model_of(ann, value)
    if sub is not None and isinstance(value, dict):
        yield from walk(sub, value, path)
        return
    base = [a for a in _options(ann) if a is not type(None)]
    if len(base) != 1:
        return
    a = base[0]
    origin = typing.get_origin(a)
    if origin is list and isinstance(value, list):
        (item,) = typing.get_args(a)
        for i, v in enumerate(value):
            yield from _walk_value(item, v, (*path, i), _constraints(item), model, fname)
    elif origin is dict and isinstance(value, dict):
        _, item = typing.get_args(a)
        for k, v in value.items():
            yield from _walk_value(item, v, (*path, k), _constraints(item), model, fname)


def get(doc, path):
    for k in path:
        doc = doc[k]
    return doc


def put(doc, path, value):
    get(doc, path[:-1])[path[-1]] = value


# ---------------------------------------------------------------------------- invalid values

WRONG = {
    "str": [7, [1], {"a": 1}, True, 2.5],
    "int": ["7", 1.5, True, [1], {"a": 1}],
    "float": ["0.5", True, [0.5], {"a": 1}],
    "bool": ["true", 1, 0.0, []],
    "list": ["x", 5, {"a": 1}, True],
    "dict": ["x", 5, [1], True],
    "model": ["x", 5, [1], True],
}
TEXT_SNIPPETS = {  # raw YAML text put where a value was (kind -> snippets)
    "int": ["1:30", "036", "0b101", "1_000", "0o", "+-1", "9" * 120],
    "float": ["1:30.5", ".inf", "-.inf", ".nan", "1_0.5", "0x"],
    "bool": ["yes", "no", "on", "off", "Y", "n"],
    "any": [],
}
HOSTILE_VALUE_TEXT = [
    "&a [1, *a]", "&x 1", "*nothing", "!!python/object/apply:os.system ['touch " + CANARY + "']",
    "!!python/name:os.system", "!custom 3", "!!binary aGVsbG8=", "!!set {a, b}", "!!timestamp 2001-12-14",
    "[" * 70 + "]" * 70, "[" * 600 + "]" * 600, "{a: " * 80 + "1" + "}" * 80, "[" * 5000 + "]" * 5000,
    "{a: 1, a: 2}", "[1, 2", "{a: [}", "\x00", "'\x07'", "\"\\x00\x01\"", "a\x1bb",
]


def bad_value(rng: random.Random, kind: str | None, cons: list) -> tuple[str, Any]:
    """('value', v) to put in the tree, or ('text', s) raw YAML text for the value."""
    choices: list[tuple[str, Any]] = []
    if kind in WRONG:
        choices += [("value", v) for v in WRONG[kind]]
    if kind in ("int", "float") and cons:
        big = [10**30, -(10**30)] if kind == "int" else [1e308, -1e308, float("nan"), float("inf"), -float("inf")]
        choices += [("value", v) for v in big]
    choices += [("text", t) for t in TEXT_SNIPPETS.get(kind or "", [])]
    if kind not in ("any", None) or rng.random() < 0.5:
        choices += [("text", t) for t in HOSTILE_VALUE_TEXT]
    return rng.choice(choices or [("text", t) for t in HOSTILE_VALUE_TEXT])


def _render(doc: Any, raw: str | None) -> str:
    text = _dump(doc)
    if raw is not None:
        assert f"'{MARK}'" in text
        text = text.replace(f"'{MARK}'", raw, 1)
    return text


def mutate_doc(rng: random.Random, doc: Any, model, skip=lambda path, model, fname: False) -> str | None:
    """Text of ``doc`` with one mutation that the strict schema (or the compiler) must refuse."""
    doc = copy.deepcopy(doc)
    nodes = list(walk(model, doc))
    models = [n for n in nodes if n[0] == "model"]
    leaves = [n for n in nodes if n[0] == "leaf" and n[1] and not skip(n[1], n[4], n[5])
              and n[2] not in ("any", None, "mixed")]
    op = rng.choice(["unknown_key", "delete_required", "bad_value", "bad_value", "bad_value", "dup_key",
                     "raw_snippet"])
    if op == "unknown_key":
        _, path, _m = rng.choice(models)
        get(doc, path)[rng.choice(["zz_unknown", "colour", "Id", "id ", "__class__"])] = 1
        return _render(doc, None)
    if op == "delete_required":
        cands = [(p, f.alias or name) for _, p, m in models for name, f in m.model_fields.items()
                 if f.is_required() and (f.alias or name) in get(doc, p)]
        if cands:
            p, key = rng.choice(cands)
            del get(doc, p)[key]
            return _render(doc, None)
    if op == "dup_key":
        cands = [(p, k) for _, p, m in models for k in get(doc, p)]
        p, key = rng.choice(cands)
        text = _dump(doc)
        if not p:  # a duplicate top-level key
            return text + f"{key}: {json.dumps(get(doc, p)[key])}\n"
        target = get(doc, p)
        target[f"{MARK}dup"] = 1
        text = _dump(doc)
        return text.replace(f"'{MARK}dup': 1", f"{key}: {json.dumps(target[key])}", 1) \
            if f"'{MARK}dup': 1" in text else None
    if not leaves:
        return None
    _, path, kind, cons, _m, _fname = rng.choice(leaves)
    how, value = bad_value(rng, kind, cons) if op == "bad_value" else ("text", rng.choice(HOSTILE_VALUE_TEXT))
    if how == "value":
        put(doc, path, value)
        return _render(doc, None)
    put(doc, path, MARK)
    return _render(doc, value)


# ---------------------------------------------------------------------------- hand-written texts

SCENARIO_TEXTS = [
    "", "# only a comment\n", "[1, 2, 3]\n", "just text\n", "42\n", "null\n", "~\n", "---\n...\n",
    "id: a\n---\nid: b\n", "%YAML 1.1\n---\nid: x\n", "%TAG !e! tag:example.com,2000:\n---\nid: !e!x 1\n",
    "id: !!python/object/apply:os.system ['touch " + CANARY + "']\n",
    "id: !!python/object/new:os.system ['touch " + CANARY + "']\n",
    "!!python/object/apply:subprocess.call [['touch', '" + CANARY + "']]\n",
    "a: &a [1, 2]\nb: *a\n", "a: &a {x: 1}\nb:\n  <<: *a\n", "<<: {id: x}\n",
    "l1: &l1 [x, x, x, x, x, x, x, x, x, x]\nl2: &l2 [*l1, *l1, *l1, *l1, *l1, *l1, *l1, *l1, *l1, *l1]\n"
    "l3: &l3 [*l2, *l2, *l2, *l2, *l2, *l2, *l2, *l2, *l2, *l2]\nl4: [*l3, *l3, *l3, *l3, *l3, *l3]\n",
    "? [a, b]\n: 1\n", "? {a: 1}\n: 2\n", "id: x\nid: y\n", "a: [1, 2\n", "a: {b: }\n  c\n", "\tid: x\n",
    "id: \"unterminated\n", "id: x\x00y\n", "id: \x07\n", "id: x\x1b[31m\n", "\ufeff\ufeffid: x\n",
    "id: " + "[" * 65 + "]" * 65 + "\n", "id: " + "[" * 600 + "]" * 600 + "\n",
    "id: " + "{a: " * 500 + "1" + "}" * 500 + "\n", "[" * 20000 + "]" * 20000,
    "".join("  " * i + f"k{i}:\n" for i in range(200)) + "  " * 200 + "v: 1\n",
    "".join("  " * i + "-\n" for i in range(120)),
    "turns: {max: 1:30}\n", "turns: {max: 036}\n", "turns: 0b11\n", "id: 1e999999\n",
    "a: " + "9" * 5000 + "\n", "a: " + "x" * 100 + ": b\n", "\x80\x81\x82", "id: caf\xe9\n",
]
BINARY = [b"\xff\xfe\x00a\x00b", b"\xfe\xff\x00a", b"\x00" * 64, bytes(range(256)), "id: café\n".encode("latin-1"),
          "id: x\n".encode("utf-16"), b"PK\x03\x04" + b"\x00" * 40, b"\x89PNG\r\n\x1a\n"]


# ---------------------------------------------------------------------------- generator


class Gen:
    """All the generators, sharing one random source and the shipped data they mutate."""

    def __init__(self, seed: int):
        from sim.experiments.sweep import SweepFile
        from sim.inputs.schema import Posture, ScenarioFile

        self.rng = random.Random(seed)
        self.ScenarioFile, self.Posture, self.SweepFile = ScenarioFile, Posture, SweepFile
        self.scenarios = {p.stem: _load(p) for p in sorted(SCENARIOS.glob("*.yaml"))}
        self.postures = {p.stem: _load(p) for p in sorted((ROOT / "actors").glob("*.yaml")) if p.stem != "baseline"}
        self.sweeps = [self._sweep(_load(p)) for p in sorted((ROOT / "sweeps").glob("*.yaml"))]
        self.sweeps.append({"scenario": str(SCENARIOS / "senkaku.yaml"), "runs_per_point": 5, "seed": 6,
                            "design": {"type": "factorial", "factors": {"parameters.fog": [0.1, 0.3],
                                                                        "levers": [[], ["cooperative_frame"]]}}})
        cases = _load(ROOT / "validation" / "cases.yaml")
        case = copy.deepcopy(cases["crises"][0])
        case["scenario"] = str((ROOT / "validation" / case["scenario"]).resolve()) \
            if (ROOT / "validation" / case["scenario"]).exists() else str(ROOT / case["scenario"])
        self.cases = {"crises": [case]}
        self.n = 0

    @staticmethod
    def _sweep(doc: dict) -> dict:
        doc = dict(doc)
        doc["scenario"] = str((ROOT / "sweeps" / doc["scenario"]).resolve())
        doc["runs_per_point"] = 5
        doc.pop("until_ci", None)
        return doc

    def case(self, category: str, argv: list[str], **kw) -> Case:
        self.n += 1
        return Case(f"{category}-{self.n:05d}", category, argv, **kw)

    def pick(self, seq):
        return self.rng.choice(seq)

    # --------------------------------------------------------------- scenario
    def scenario_command(self, path: str, export: bool = True) -> list[str]:
        """A command reading the scenario (``export``: or msel export, which checks the schema only)."""
        r = self.rng.random() * (1.0 if export else 0.9)
        if r < 0.4:
            return ["validate", path]
        if r < 0.6:
            return ["describe", path]
        if r < 0.9:
            return ["run", path, "--runs", "5", "--out", "{d}/out", "--quiet", "--jobs", "1"]
        return ["msel", "export", path, "--csv", "{d}/msel.csv"]

    def scenario_text(self) -> Case:
        text = self.pick(SCENARIO_TEXTS + BINARY)
        return self.case("scenario", self.scenario_command("{d}/s.yaml"), files={"s.yaml": text})

    def _skip_lever_values(self, path, model, fname) -> bool:
        return model.__name__ == "LeverSetting" and fname == "value"

    def scenario_mutation(self) -> Case:
        name = self.pick(list(self.scenarios))
        while True:
            text = mutate_doc(self.rng, self.scenarios[name], self.ScenarioFile, self._skip_lever_values)
            if text is not None:
                break
        return self.case("scenario", self.scenario_command("{d}/s.yaml"), files={"s.yaml": text})

    def scenario_reference(self) -> Case:
        """A dangling or cyclic reference: refused by the compiler, not the schema."""
        name = self.pick(list(self.scenarios))
        doc = copy.deepcopy(self.scenarios[name])
        ids = [a["id"] for a in doc["actors"]]
        absent = [a for a in ("US", "PRC", "TWN", "JPN", "ROK", "DPRK", "RUS", "PHL") if a not in ids]
        i = self.rng.randrange(len(doc["actors"]))
        inj = [k for k, x in enumerate(doc.get("injects", []))]
        edits = [
            lambda: doc["actors"][i].update(initial_rung=self.pick(["rung99", "", "Status_Quo", "nuclear"])),
            lambda: doc["actors"][i].update(variant=self.pick(["ninja", "", "x" * 200])),
            lambda: doc["actors"][i].update(posture=self.pick(["missing.yaml", "../../../etc/hostname", "/dev/null",
                                                               "/proc/self/environ", "."])),
            lambda: doc["actors"][i].update(adversaries=[self.pick(absent or ["XX"])]),
            lambda: doc.setdefault("hostility", []).append({"a": ids[0], "b": self.pick(absent or ["XX"]),
                                                            "value": 0.2}),
            lambda: doc.setdefault("channels", {}).update({self.pick(["red_phone", "", "x" * 100]): "open"}),
            lambda: doc.update(overlays=[self.pick(["nonexistent", "../../etc/passwd", "x" * 300, "a/b", ""])]),
            lambda: doc.setdefault("encounters", []).append(
                {"id": "e9", "parties": [ids[0], self.pick(absent or ["XX"])], "domain": "sea", "units": "navy",
                 "rate": 0.1, "unsafe": 0.1, "collision": 0.1}),
        ]
        if inj:
            k = self.pick(inj)
            jid = doc["injects"][k]["id"]
            edits += [
                lambda: doc["injects"][k].update(kind="conditional", when={"inject_fired": jid}),
                lambda: doc["injects"][k].update(kind="conditional", when={"inject_fired": "S99"}),
                lambda: doc["injects"][k].update(kind="conditional",
                                                 when={"crisis_rung_at_least": self.pick(["rung99", "armageddon"])}),
                lambda: doc["injects"][k].update(kind="conditional",
                                                 when={"action_taken": {"actor": ids[0], "action": "teleport"}}),
                lambda: doc["injects"][k].update(
                    effects={"force_action": {"actor": ids[0], "action": self.pick(["teleport", "fly"])}}),
                lambda: doc["injects"][k].update(location="nowhere"),
                lambda: doc["injects"].append(copy.deepcopy(doc["injects"][k])),
                lambda: doc["injects"][k].update(kind="conditional", when={"not": {"not": {"inject_fired": jid}}}),
            ]
            if len(inj) > 1:
                k2 = self.pick([x for x in inj if x != k])
                jid2 = doc["injects"][k2]["id"]
                edits.append(lambda: (doc["injects"][k].update(kind="conditional", when={"inject_fired": jid2}),
                                      doc["injects"][k2].update(kind="conditional", when={"inject_fired": jid})))
        validate_only = False
        if doc.get("levers") and self.rng.random() < 0.25:  # a bad lever: refused by validate (or when used)
            lv = self.rng.randrange(len(doc["levers"]))
            self.pick([
                lambda: doc["levers"][lv]["set"][0].update(value=float("nan")),
                lambda: doc["levers"][lv]["set"][0].update(path=self.pick(
                    ["parameters.nonexistent", "actors.99.id", "postures.XX.weights.cost.value", "baseline",
                     "turns.max.deeper"])),
            ])()
            return self.case("scenario", ["validate", "{d}/s.yaml"], files={"s.yaml": _dump(doc)})
        if doc.get("levers"):
            edits.append(lambda: doc["levers"].append(copy.deepcopy(doc["levers"][0])))
        edits += [
            lambda: doc.update(id=self.pick(["../../escaped", "/tmp/abs", "sen\x00kaku", "a/b", "..", ".", "",
                                             "-x", "x" * 200, "caf\u00e9", "a b", "a\nb"])),
        ]
        for _ in range(self.rng.choice([1, 1, 2])):
            for _attempt in range(10):
                try:
                    self.pick(edits)()
                    break
                except (IndexError, KeyError):
                    continue
        return self.case("scenario", ["validate", "{d}/s.yaml"] if validate_only else
                         self.scenario_command("{d}/s.yaml", export=False), files={"s.yaml": _dump(doc)})

    def scenario_file_kind(self) -> Case:
        kind = self.pick(["missing", "dir", "fifo", "devzero", "loop", "big", "ctrl-name", "long-name"])
        files: dict = {}
        links: dict = {}
        fifos: tuple = ()
        path = "{d}/s.yaml"
        if kind == "dir":
            files = {"s.yaml/x": "a"}
        elif kind == "fifo":
            fifos = ("s.yaml",)
        elif kind == "devzero":
            links = {"s.yaml": "/dev/zero"}
        elif kind == "loop":
            links = {"s.yaml": "{d}/s2.yaml", "s2.yaml": "{d}/s.yaml"}
        elif kind == "big":
            files = {"s.yaml": "a: " + "x" * 2_100_000 + "\n"}
        elif kind == "ctrl-name":
            path = "{d}/s\x01.yaml"
        elif kind == "long-name":
            path = "{d}/" + "s" * 300 + ".yaml"
        return self.case("scenario", self.scenario_command(path), files=files, links=links, fifos=fifos)

    # --------------------------------------------------------------- posture
    def posture(self) -> Case:
        actor = self.pick(["jpn", "prc", "us"])
        scen = copy.deepcopy(self.scenarios["senkaku"])
        idx = next(i for i, a in enumerate(scen["actors"]) if a["id"].lower() == actor)
        scen["actors"][idx]["posture"] = "p.yaml"
        if self.rng.random() < 0.2:
            text = self.pick(SCENARIO_TEXTS + BINARY)
        else:
            text = None
            while text is None:
                text = mutate_doc(self.rng, self.postures[actor], self.Posture)
        return self.case("posture", self.scenario_command("{d}/s.yaml", export=False),
                         files={"s.yaml": _dump(scen), "p.yaml": text})

    # --------------------------------------------------------------- overlay
    def overlay(self) -> Case:
        name = self.pick(["../../etc/passwd", "../senkaku", "x" * 5000, "nope", "", "a\x00b", "pandemic/../x",
                          "/etc/hostname", ".", "..", "pandemic.yaml", "PANDEMIC\n"])
        argv = ["run", str(SCENARIOS / f"{self.pick(list(self.scenarios))}.yaml"), "--runs", "5", "--out",
                "{d}/o", "--quiet", "--jobs", "1", "--overlay", name]
        return self.case("overlay", argv)

    # --------------------------------------------------------------- sweep
    def sweep(self) -> Case:
        base = self.pick(self.sweeps)
        r = self.rng.random()
        if r < 0.15:
            text = self.pick(SCENARIO_TEXTS + BINARY)
        elif r < 0.45:
            doc = copy.deepcopy(base)
            edits = [
                lambda: doc.update(seed=self.pick([-1, 2**63, 2**64, "1", 1.5, True])),
                lambda: doc.update(common_random_numbers=self.pick(["no", "false", 0, 1, "yes"])),
                lambda: doc.update(runs_per_point=self.pick([0, -5, 10**9, "5", 2.5])),
                lambda: doc.update(until_ci=self.pick([0, 0.5, -1, "0.01", float("nan")])),
                lambda: doc.update(chunk_size=self.pick([0, -1, "100", 1.5])),
                lambda: doc.update(events=self.pick(["yes", 1, "true"])),
                lambda: doc.update(scenario=self.pick(["nowhere.yaml", "/dev/null", "", "../" * 30 + "etc/passwd",
                                                       "a\x00b"])),
                lambda: doc.update(set={self.pick(["parameters.fog", "turns.max"]): self.pick(["x", 9.9, [1]])}),
                lambda: doc.update(set={self.pick(["fog", "../x", "a..b", ""]): 0.1}),
                lambda: doc.update(levers=[self.pick(["teleport", ""])]),
                lambda: doc.update(overlays=[self.pick(["nope", "../../x"])]),
                lambda: doc.update(design={"type": "factorial", "factors": {
                    "parameters.fog": [0.1, self.pick([3.0, -1, "x", float("nan"), [1]])]}}),
                lambda: doc.update(design={"type": "factorial", "factors": {
                    "parameters.fog": [i / 1000 for i in range(400)],
                    "parameters.stress": [i / 1000 for i in range(400)]}}),
                lambda: doc.update(design={"type": "factorial",
                                           "factors": {"levers": [[], [self.pick(["teleport", 5])]]}}),
                lambda: doc.update(design={"type": "factorial", "factors": {self.pick(["fog", "x.", ".x"]): [0.1]}}),
                lambda: doc.update(design={"type": "factorial", "factors": {"parameters.fog": []}}),
                lambda: doc.update(design={"type": self.pick(["sobol", "", 5])}),
                lambda: doc.update(design={"type": "latin_hypercube", "samples": self.pick([0, -1, 10**6, "4"]),
                                           "factors": {"parameters.fog": [0.05, 0.4]}}),
                lambda: doc.update(design={"type": "latin_hypercube", "samples": 4,
                                           "seed": self.pick([-1, 2**63, "3"]),
                                           "factors": {"parameters.fog": [0.05, 0.4]}}),
                lambda: doc.update(design={"type": "latin_hypercube", "samples": 4, "factors": {
                    "parameters.fog": self.pick([[0.4, 0.1], [0.1], [0.1, 0.2, 0.3], ["a", "b"],
                                                 [float("-inf"), float("inf")], [0.1, float("nan")]])}}),
                lambda: doc.update(design={"type": "latin_hypercube", "samples": 4,
                                           "factors": {"levers": [0, 1]}}),
            ]
            self.pick(edits)()
            text = _dump(doc)
        else:
            text = None
            while text is None:
                text = mutate_doc(self.rng, base, self.SweepFile,
                                  lambda path, model, fname: model.__name__ in ("Factorial", "Choice")
                                  and fname in ("factors", "values") and len(path) > 2)
        return self.case("sweep", ["sweep", "{d}/sw.yaml", "--out", "{d}/o", "--quiet", "--jobs", "1"],
                         files={"sw.yaml": text})

    # --------------------------------------------------------------- backtest
    def backtest(self) -> Case:
        doc = copy.deepcopy(self.cases)
        c = doc["crises"][0]
        r = self.rng.random()
        extra: list[str] = []
        if r < 0.25:
            text = self.pick(SCENARIO_TEXTS + BINARY)
        else:
            edits = [
                lambda: c.update(scenario=self.pick(["nowhere.yaml", "", "/dev/null", "../" * 20 + "etc/hostname"])),
                lambda: c.update(setup={"levers": [self.pick(["teleport", "x" * 300])]}),
                lambda: c.update(setup={"overlays": [self.pick(["nope", "../x"])]}),
                lambda: c.update(setup={"overrides": [{"path": self.pick(["parameters.fog", "turns.max"]),
                                                       "value": self.pick([3.0, -1, "x", [1]])}]}),
                lambda: c.update(setup={"overrides": [{"path": "parameters.nonexistent", "value": 1}]}),
                lambda: c.update(setup={"colour": "red"}),
                lambda: c["peak"].update(mid_hostility=self.pick([0, 9, "x", None, [4]])),
                lambda: c["outcome"].update(model_class=self.pick(["banana", 5, ""])),
                lambda: c.pop(self.pick(["id", "peak", "outcome", "scenario", "name"])),
                lambda: doc.update(crises=self.pick([[], "x", 5, [5]])),
                lambda: doc.pop("crises"),
            ]
            self.pick(edits)()
            text = _dump(doc)
            if self.rng.random() < 0.3:
                text = text.replace("mid_hostility: 4", "mid_hostility: " + self.pick(["036", "1:30", "&a 4"]), 1)
        if self.rng.random() < 0.15:  # a valid file, hostile arguments
            text = _dump(self.cases)
            extra = self.pick([["--runs", "0"], ["--runs", "-3"], ["--runs", "10000000000"], ["--seed", "-1"],
                               ["--seed", str(2**63)], ["--out", "{d}/f.txt/sub"], ["--out", "{d}/f.txt"]])
        return self.case("backtest", ["backtest", "{d}/cases.yaml", "--runs", "20", *extra],
                         files={"cases.yaml": text, "f.txt": "x"})

    # --------------------------------------------------------------- MSEL import and export
    def msel_import(self) -> Case:
        from sim.inputs.loader import load
        from sim.inputs.msel import COLUMNS, to_csv

        name = self.pick(["senkaku", "korean_peninsula", "taiwan_strait"])
        spath = SCENARIOS / f"{name}.yaml"
        import csv as csvmod

        text = to_csv(load(self.ScenarioFile, spath))
        table = list(csvmod.reader(io.StringIO(text)))
        cols = table[0]
        pools = {
            "Move": ["one", "1.5", "\uff11", "-1", "501", "9" * 30, "1e3"],
            "Trigger": ["sometimes", "=1+1", "Scheduled", "'=x"],
            "Condition": ["{oops", "[" * 5000 + "]" * 5000, '{"flag": 1}', '{"crisis_rung_at_least": "armageddon"}',
                          '{"turn_at_least": 1, "flag": "x"}', '{"not": ' * 100 + '{"flag": "x"}' + "}" * 100, "[1]"],
            "Probability": ["abc", "NaN", "inf", "2", "-0.5", "1e999", "0,5"],
            "Inject Type": ["carrier pigeon", "=cmd|' /C calc'!A0"],
            "Delivery Method": ["telepathy"],
            "To": ["XX", "US, XX", "all, nobody"],
            "Effects": ["{bad", '{"stress": 5}', '{"force_action": {"actor": "PRC", "action": "teleport"}}',
                        '{"unknown": 1}', '{"flags": "x"}', "[" * 3000 + "]" * 3000],
            "Location": ["nowhere"],
        }
        r = self.rng.random()
        files: dict = {}
        scen_arg = str(spath)
        if r < 0.75:
            row = self.rng.randrange(1, len(table))
            col = self.pick(list(pools))
            value = self.pick(pools[col])
            if col == "Condition":
                table[row][cols.index("Trigger")] = "conditional"
            table[row][cols.index(col)] = value
            out = io.StringIO()
            csvmod.writer(out, lineterminator="\n").writerows(table)
            body = out.getvalue()
        elif r < 0.85:
            row = self.rng.randrange(1, len(table))
            col = self.pick([c for c, f in COLUMNS.items() if f in ("title", "text", "objective", "controller")])
            table[row][cols.index(col)] = self.pick(["a\x00b", "\x07", "x" * 140_000, "a\x1bb", "\x0c"])
            out = io.StringIO()
            csvmod.writer(out, lineterminator="\n").writerows(table)
            body = out.getvalue()
        elif r < 0.93:
            body = self.pick([
                "", "Serial,Move\n1,2\n", text.replace("Serial,", "Number,", 1),
                text + text.splitlines()[1] + "\n",  # a duplicate serial
                '"unterminated\n' + text, "\x00" * 10,
            ])
            if isinstance(body, str) and self.rng.random() < 0.3:
                body = body.encode("utf-16")
        else:
            body = text
            scen_arg = "{d}/s.yaml"
            files["s.yaml"] = self.pick(["", "[1, 2]\n", "just text\n", "id: x\nid: y\n", "a: &a 1\nb: *a\n"])
        files["m.csv"] = body
        out_arg = self.pick(["{d}/new.yaml", "{d}/new.yaml", "{d}", "{d}/missing/new.yaml"]) if r >= 0.75 \
            else "{d}/new.yaml"
        return self.case("msel", ["msel", "import", scen_arg, "--csv", "{d}/m.csv", "--out", out_arg], files=files)

    def msel_export(self) -> Case:
        spath = str(SCENARIOS / f"{self.pick(list(self.scenarios))}.yaml")
        target = self.pick(["{d}", "{d}/missing/x.csv", "{d}/f.txt/x.csv", "/proc/x.csv", "{d}/x\x00.csv",
                            "{d}/fifo", "{d}/dev-link", "{d}/" + "x" * 300 + ".csv"])
        return self.case("msel", ["msel", "export", spath, "--csv", target], files={"f.txt": "x"}, **SPECIAL)

    # --------------------------------------------------------------- --set
    def set_override(self) -> Case:
        name = self.pick(list(self.scenarios))
        doc = self.scenarios[name]
        leaves = [n for n in walk(self.ScenarioFile, doc) if n[0] == "leaf" and n[1] and n[2] in WRONG
                  and not self._skip_lever_values(n[1], n[4], n[5])]
        r = self.rng.random()
        if r < 0.55:
            _, path, kind, cons, _, _ = self.pick(leaves)
            key = ".".join(map(str, path))
            how, value = bad_value(self.rng, kind, cons)
            raw = value if how == "text" else json.dumps(value, allow_nan=True).replace("NaN", ".nan") \
                .replace("-Infinity", "-.inf").replace("Infinity", ".inf")
        elif r < 0.75:
            key = self.pick(["parameters.fog", "turns.max", "summary", "actors.0.id", "levers.0.set.0.value",
                             "postures.US.weights.cost.value", "baseline.temperature.value"])
            raw = self.pick([*HOSTILE_VALUE_TEXT, "x" * 100001, "l1: &l1 [x,x,x,x,x,x,x,x,x,x]\nl2: [*l1,*l1,*l1]"])
        else:
            key = self.pick(["parameters.nonexistent", "actors.9.id", "actors.-1.id", "../x", "", "a..b",
                             "postures.XX.weights.cost.value", "postures.US", "baseline", "x" * 400,
                             "turns.max.deeper", "injects.999.title", "a.b\x00c", ".".join(["a"] * 40),
                             "postures.US.nonexistent.value", "baseline.nonexistent"])
            raw = self.pick(["1", "0.5", "x"])
        pair = f"{key}={raw}" if self.rng.random() < 0.97 else key  # a few without '='
        argv = ["run", str(SCENARIOS / f"{name}.yaml"), "--runs", "5", "--out", "{d}/o", "--quiet", "--jobs", "1",
                "--set", pair]
        return self.case("set", argv)

    # --------------------------------------------------------------- command-line arguments
    def cli(self) -> Case:
        scen = str(SCENARIOS / f"{self.pick(list(self.scenarios))}.yaml")
        run = ["run", scen, "--out", "{d}/o", "--quiet"]
        options = [
            [*run, "--runs", self.pick(["0", "-1", "100000001", "lots", "1.5", ""])],
            [*run, "--seed", self.pick(["-1", str(2 ** 63), str(2 ** 64), "-9223372036854775809", "x", "1e3"])],
            [*run, "--jobs", self.pick(["0", "-3", "100000", "x"])],
            [*run, "--chunk-size", self.pick(["0", "-1", "x"])],
            [*run, "--batch-size", self.pick(["0", "-5"])],
            [*run, "--until-ci", self.pick(["0", "0.5", "-1", "nan", "inf", "x"])],
            [*run, "--backend", self.pick(["bogus", "", "threads"])],
            [*run, "--backend", "dask", "--scheduler",
             self.pick(["not a url", "tcp://", "tcp://host", "host:0", "host:99999", ":8786", "tcp://a b:1", "\x00:1",
                        "http://[::1", "x" * 300])],
            [*run, "--scheduler", "tcp://127.0.0.1:8786"],
            [*run, "--lever", self.pick(["teleport", "", "x" * 5000, "../x"])],
            [*run, "--bogus-flag"],
            ["validate"], ["describe"], ["validate", "{d}"], ["describe", "{d}/missing.yaml"],
            ["schema", "--out", self.pick(["{d}/f.txt", "{d}/f.txt/sub", "/proc/schemas", "{d}/a\x01b"])],
            ["postures", "--markdown", self.pick(["{d}/f.txt/x.md", "{d}", "/proc/x.md", "{d}/x\x00.md"])],
            ["check-claims", "--runs", self.pick(["0", "-1", "10000000000"])],
            ["check-claims", "--seed", self.pick(["-1", str(2**63)])],
            ["check-claims", "--markdown", "{d}/f.txt/x.md"],
            ["check-claims", "{d}/missing.yaml"],
            ["check-claims", "{d}/claims.yaml"],
            ["calibration", "--runs", self.pick(["0", "-2", "10000000000"])],
            ["calibration", "--seed", "-1"],
            ["calibration", "--markdown", "{d}"],
            ["backtest", "{d}/missing.yaml"],
            ["facilitate"],
            ["facilitate", scen, "--seed", self.pick(["-1", str(2**63)]), "--terminal", "--session", "{d}/s"],
            ["facilitate", scen, "--port", self.pick(["-1", "70000"]), "--session", "{d}/s"],
            ["facilitate", scen, "--session", "{d}/f.txt", "--terminal"],
            ["facilitate", "--session", "{d}/none", "--terminal"],
            ["report", self.pick(["{d}/missing", "{d}/f.txt", "{d}", "{d}/x\x00y"])],
            ["report", "{results}", "--lever-runs", self.pick(["-1", "10000000000"])],
            ["report", "{results}", "--out", self.pick(["{d}", "{d}/f.txt/r.html", "/proc/r.html"])],
            ["compare", "{results}", self.pick(["{d}/missing", "{d}/f.txt", "{d}"])],
            ["compare", "{results}", "{results}", "--out", "{d}/f.txt/c.html"],
            ["msel"], ["msel", "export", scen], ["msel", "import", scen, "--csv", "{d}/missing.csv", "--out",
                                                 "{d}/n.yaml"],
            ["msel", "import", scen, "--csv", "{d}", "--out", "{d}/n.yaml"],
            ["msel", "import", "{d}/s.yaml", "--csv", "{d}/f.txt", "--out", "{d}/s.yaml"],  # never the input
            ["sweep", "{d}/missing.yaml"], ["sweep"],
            ["bogus-command", "x"],
        ]
        return self.case("cli", self.pick(options), files={"f.txt": "x", "claims.yaml": "claims: &a [*a]\n",
                                                           "s.yaml": (SCENARIOS / "senkaku.yaml").read_text()})

    def out_path(self) -> Case:
        scen = str(SCENARIOS / f"{self.pick(list(self.scenarios))}.yaml")
        target = self.pick(["{d}/f.txt", "{d}/f.txt/sub", "{d}/o\x00x", "{d}/o\x01x", "{d}/o\nx", "{d}/fifo",
                            "{d}/dev-link", "/proc/crisis-sim-out", "{d}/" + "o" * 300, "{d}/" + "a/" * 2100,
                            "", "{d}/link/sub"])
        cmd = self.pick([["run", scen, "--runs", "5", "--quiet", "--jobs", "1", "--out", target],
                         ["sweep", str(ROOT / "sweeps" / "senkaku_lhs.yaml"), "--quiet", "--jobs", "1", "--out",
                          target]])
        return self.case("out", cmd, files={"f.txt": "x"}, links={"link": "{d}/f.txt", **SPECIAL["links"]},
                         fifos=SPECIAL["fifos"])

    # --------------------------------------------------------------- report and compare
    def results(self) -> Case:
        garbage = self.pick([b"garbage\n", b"", b"PAR1", b"PAR1" + b"\x00" * 100 + b"PAR1", bytes(range(256))])
        edits: dict[str, str | bytes | None] = self.pick([
            {"runs.parquet": garbage},
            {"runs.parquet": "TRUNCATE"},
            {"manifest.json": self.pick(["{", "[]", "null", "\xff", b"\xff\xfe", '{"seed": -1}', '{"seed": "x"}',
                                         '{"levers": 5}', '{"overrides": "x"}', '{"runs": "many"}',
                                         '{"title": [1]}', "[" * 100000 + "]" * 100000])},
            {"job.json": '{"job_id": "another", "identity": {"seed": 2}}'},
            {"manifest.json": "RUNS+1"},
            {"manifest.json": "RUNS-7"},
            {"runs.parquet": None, "manifest.json": None},
            {"runs.parquet": "EVENTS"},
        ])
        cmd = self.pick([["report", "{results}", "--lever-runs", "0", "--out", "{d}/r.html"],
                         ["compare", "{results}", "{results}", "--out", "{d}/c.html"]])
        return self.case("results", cmd, results=edits)

    # --------------------------------------------------------------- all
    MIX = (("scenario_mutation", 0.24), ("scenario_text", 0.06), ("scenario_reference", 0.08),
           ("scenario_file_kind", 0.02), ("posture", 0.07), ("overlay", 0.02), ("sweep", 0.12),
           ("backtest", 0.05), ("msel_import", 0.10), ("msel_export", 0.02), ("set_override", 0.13),
           ("cli", 0.05), ("out_path", 0.02), ("results", 0.02))


def generate(n: int, seed: int = 20240611) -> list[Case]:
    """``n`` hostile cases (the same ones for the same ``n`` and ``seed``)."""
    g = Gen(seed)
    names, weights = zip(*Gen.MIX, strict=True)
    out = []
    for _ in range(n):
        out.append(getattr(g, g.rng.choices(names, weights)[0])())
    return out


# ============================================================================ running a case

_RESULTS: Path | None = None


def results_fixture(base: Path) -> Path:
    """A finished results folder (made once per process) that cases copy and corrupt."""
    global _RESULTS
    if _RESULTS is None or not _RESULTS.exists():
        from sim.cli import main

        out = base / "_results_fixture"
        shutil.rmtree(out, ignore_errors=True)
        with contextlib.redirect_stdout(io.StringIO()):
            assert main([str(SCENARIOS / "senkaku.yaml"), "--runs", "30", "--seed", "3", "--out", str(out),
                         "--quiet", "--jobs", "1"]) == 0
        _RESULTS = out
    return _RESULTS


def _fill(text: str, d: Path, results: Path | None) -> str:
    text = text.replace("{d}", str(d))
    return text.replace("{results}", str(results)) if results is not None else text


def prepare(case: Case, d: Path, base: Path) -> list[str]:
    """Create the case's files in ``d``; return its argv."""
    needs_results = any("{results}" in a for a in case.argv)
    results = d / "results" if needs_results else None
    if results is not None:
        shutil.copytree(results_fixture(base), results)
        for name, content in case.results.items():
            p = results / name
            if content is None:
                p.unlink()
            elif content == "TRUNCATE":
                p.write_bytes(p.read_bytes()[: p.stat().st_size // 2])
            elif content == "EVENTS":
                shutil.copy(results / "events.parquet", p)
            elif isinstance(content, str) and content.startswith("RUNS"):
                man = json.loads((results / "manifest.json").read_text())
                man["runs"] += int(content[4:])
                p.write_text(json.dumps(man))
            elif isinstance(content, bytes):
                p.write_bytes(content)
            else:
                p.write_text(content, encoding="utf-8", errors="surrogateescape")
    for name, content in case.files.items():
        p = d / name
        p.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            p.write_bytes(content)
        else:
            p.write_text(content, encoding="utf-8", errors="surrogateescape")
    for name, target in case.links.items():
        (d / name).symlink_to(_fill(target, d, results))
    for name in case.fifos:
        os.mkfifo(d / name)
    return [_fill(a, d, results) for a in case.argv]


def snapshot(d: Path) -> dict[str, str]:
    """Every entry under ``d``: a file's hash, a folder, a link's target, a FIFO."""
    out = {}
    for root, dirs, files in os.walk(d):
        for name in dirs + files:
            p = Path(root) / name
            rel = str(p.relative_to(d))
            if p.is_symlink():
                out[rel] = "link:" + os.readlink(p)
            elif p.is_dir():
                out[rel] = "dir"
            elif p.is_fifo():
                out[rel] = "fifo"
            else:
                out[rel] = hashlib.sha256(p.read_bytes()).hexdigest()
    return out


class _Timeout(BaseException):
    pass


def _alarm(signum, frame):
    raise _Timeout()


def run(case: Case, d: Path, base: Path) -> tuple[list[str], dict]:
    """Run one case in-process; return the problems found (empty: the case passed) and what happened."""
    from sim.cli import main

    argv = prepare(case, d, base)
    before = snapshot(d)
    out, err = io.StringIO(), io.StringIO()
    problems: list[str] = []
    rc: Any = None
    old = signal.signal(signal.SIGALRM, _alarm)
    signal.alarm(TIMEOUT)
    stdin = sys.stdin
    try:
        sys.stdin = io.StringIO("")
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            rc = main(argv)
    except _Timeout:
        problems.append(f"hang: no answer within {TIMEOUT} s")
    except SystemExit as exc:  # argparse
        rc = exc.code
    except BaseException as exc:
        problems.append(f"traceback: {type(exc).__name__}: {str(exc)[:300]}")
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)
        sys.stdin = stdin
    text = err.getvalue()
    if not problems:
        if rc == 0:
            problems.append("silent acceptance: exit 0")
        elif rc != 2:
            problems.append(f"wrong exit code {rc}")
        lines = text.strip("\n").split("\n")
        if len(lines) != 1 or not lines[0].strip():
            problems.append(f"stderr is {len(lines)} lines, not one: {text[:300]!r}")
        if "Traceback" in text or "Traceback" in out.getvalue():
            problems.append("a traceback was printed")
    if (d / CANARY).exists() or Path(CANARY).exists():
        problems.append("code executed: the canary file appeared")
    after = snapshot(d)
    if after != before:
        changed = sorted(k for k in set(before) | set(after) if before.get(k) != after.get(k))
        problems.append(f"files changed: {changed[:5]}")
    return problems, {"rc": rc, "stderr": text.strip()[:300], "argv": argv}


def run_subprocess(case: Case, d: Path, base: Path) -> tuple[int, str] | None:
    """The same case through a real ``run_sim.py`` process (exit code and stderr); ``None`` if no process can
    be given its arguments (execve refuses a NUL byte in argv: the in-process case covers those)."""
    argv = prepare(case, d, base)
    if any("\x00" in a for a in argv):
        return None
    r = subprocess.run([sys.executable, str(ROOT / "run_sim.py"), *argv], capture_output=True, text=True,
                       stdin=subprocess.DEVNULL, timeout=TIMEOUT * 4, cwd=d, errors="replace")
    return r.returncode, r.stderr
