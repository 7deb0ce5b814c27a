"""Fuzzing the scenario loader: malformed or hostile input gives a clear error, never a
traceback or a hang.

Two generators: structural mutations of a valid scenario (wrong types, missing keys, unknown
actors, dangling or cyclic inject references, huge numbers) and raw YAML text (tags,
anchors and aliases, billion-laughs documents, deep nesting, binary junk). Every document
must either compile or raise ``InputError``; nothing else may escape.
"""

from __future__ import annotations

import copy
import tempfile
from pathlib import Path

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sim.errors import InputError
from sim.inputs.compile import compile_scenario
from sim.inputs.library import SCENARIOS_DIR
from sim.inputs.loader import read_yaml

BASE = yaml.safe_load((SCENARIOS_DIR / "senkaku.yaml").read_text())
TMP = Path(tempfile.mkdtemp(prefix="fuzz-"))

junk = st.one_of(
    st.none(), st.booleans(), st.integers(min_value=-(10**30), max_value=10**30),
    st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=30),
    st.sampled_from(["US", "RUS", "PRC", "teleport", "status_quo", "nuclear_use", "", "S1", "S99"]),
    st.lists(st.integers(), max_size=4), st.dictionaries(st.text(max_size=5), st.integers(), max_size=3),
)


def paths(obj, prefix=()):
    """Every path into a nested dict/list document."""
    yield prefix
    if isinstance(obj, dict):
        for k, v in obj.items():
            yield from paths(v, (*prefix, k))
    elif isinstance(obj, list):
        for i, v in enumerate(obj):
            yield from paths(v, (*prefix, i))


ALL_PATHS = [p for p in paths(BASE) if p]


def mutate(doc, path, op, value):
    doc = copy.deepcopy(doc)
    parent = doc
    for k in path[:-1]:
        parent = parent[k]
    key = path[-1]
    if op == "replace":
        parent[key] = value
    elif op == "delete":
        if isinstance(parent, dict):
            del parent[key]
        else:
            parent.pop(key)
    elif op == "unknown_key" and isinstance(parent, dict):
        parent[f"unknown_{key}"] = value
    elif op == "duplicate" and isinstance(parent, list):
        parent.append(copy.deepcopy(parent[key]))
    return doc


def check_scenario(doc) -> None:
    path = TMP / "case.yaml"
    path.write_text(yaml.safe_dump(doc, sort_keys=False) if isinstance(doc, dict | list) else str(doc))
    try:
        compile_scenario(path)
    except InputError as exc:
        text = str(exc)
        assert str(path) in text and "\n" not in text.strip()


mutation = st.tuples(st.sampled_from(ALL_PATHS), st.sampled_from(["replace", "delete", "unknown_key", "duplicate"]),
                     junk)


@settings(max_examples=1000, deadline=2000, suppress_health_check=[HealthCheck.too_slow], derandomize=True)
@given(st.lists(mutation, min_size=1, max_size=3))
def test_mutated_scenarios_fail_cleanly(mutations):
    doc = BASE
    for path, op, value in mutations:
        try:
            doc = mutate(doc, path, op, value)
        except (KeyError, IndexError, TypeError):
            continue  # an earlier mutation removed this path
    check_scenario(doc)


REFS = st.sampled_from(["S1", "S2", "S3", "S4", "nope"])


@settings(max_examples=200, deadline=2000, derandomize=True)
@given(st.lists(st.tuples(st.sampled_from([0, 1, 2]), REFS), min_size=1, max_size=4))
def test_inject_references_dangling_or_cyclic(links):
    """Injects waiting on other injects: unknown ids and cycles are errors, not hangs."""
    doc = copy.deepcopy(BASE)
    for i, ref in links:
        doc["injects"][i]["kind"] = "conditional"
        doc["injects"][i]["when"] = {"inject_fired": ref}
        doc["injects"][i].pop("turn", None)
    check_scenario(doc)


YAML_TEXT = st.one_of(
    st.text(max_size=200),
    st.binary(max_size=200).map(lambda b: b.decode("latin-1")),
    st.sampled_from([
        "a: &a [1,2]\nb: [*a,*a]\n",
        "lol1: &l1 [x,x,x,x,x,x,x,x,x]\nlol2: &l2 [*l1,*l1,*l1,*l1,*l1,*l1,*l1,*l1,*l1]\nlol3: [*l2,*l2,*l2]\n",
        "x: !!python/object/apply:os.system ['true']\n",
        "x: !!binary aGVsbG8=\n",
        "[" * 5000 + "]" * 5000,
        "{a: " * 2000 + "1" + "}" * 2000,
        "id: x\n" * 3,
        "- - - - -\n",
        "%YAML 1.1\n---\na: 1\n...\n---\nb: 2\n",
        "a: 1e999999\n",
    ]),
)


@settings(max_examples=400, deadline=2000, derandomize=True)
@given(YAML_TEXT)
def test_hostile_yaml_text(text):
    path = TMP / "text.yaml"
    path.write_text(text, encoding="utf-8", errors="surrogatepass")
    try:
        read_yaml(path)
        compile_scenario(path)
    except InputError as exc:
        assert str(path) in str(exc)
