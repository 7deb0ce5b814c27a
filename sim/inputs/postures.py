"""Read the posture files a scenario's actors use, with a condition's posture changes applied.

Each actor's posture is ``actors/<id>.yaml`` unless the scenario names another file; a named
variant (e.g. the US ``cash_cows`` posture) replaces the values it lists. A value changed by an
experiment override is no longer what its source said, so it becomes an assumption naming the
override.
"""

from __future__ import annotations

import copy
import hashlib
from pathlib import Path
from typing import Any

from sim.errors import InputError
from sim.inputs import library
from sim.inputs.condition import set_path
from sim.inputs.loader import load_shared, read_yaml, validate
from sim.inputs.schema import Baseline, Posture, ScenarioFile


def hash_bytes(*blobs: bytes) -> str:
    """Digest of several byte strings (each hashed first, so boundaries cannot shift)."""
    h = hashlib.sha256()
    for b in blobs:
        h.update(hashlib.sha256(b).digest())
    return h.hexdigest()


def posture_path(scenario_path: Path, posture: str | None, actor: str) -> Path:
    if posture:
        return (scenario_path.parent / posture).resolve()
    return library.ACTORS_DIR / f"{actor.lower()}.yaml"


def apply_variant(posture: Posture, name: str | None, where: str, field: str) -> Posture:
    if name is None:
        return posture
    if name not in posture.variants:
        known = ", ".join(sorted(posture.variants)) or "none"
        raise InputError(where, field, f"unknown variant {name!r} for {posture.actor} (known: {known})")
    v = posture.variants[name]
    upd: dict[str, Any] = {
        "weights": {**posture.weights, **v.weights},
        "stakes": {**posture.stakes, **v.stakes},
        "affinity": {**posture.affinity, **v.affinity},
    }
    if v.alliances is not None:
        upd["alliances"] = v.alliances
    if v.temperature is not None:
        upd["temperature"] = v.temperature
    if v.repertoire:
        upd["repertoire"] = {**(posture.repertoire or {}), **v.repertoire}
    return posture.model_copy(deep=True).model_copy(update=upd)


def read_with(path: Path, model, changes: list[tuple[str, Any]] | None):
    """Read and validate a file after applying dotted-path changes."""
    if not changes:
        return load_shared(model, path)
    data, node = read_yaml(path)
    if changes:
        if not isinstance(data, dict):
            raise InputError(path, "", "expected a mapping at the top level")
        data = copy.deepcopy(data)
        for key, value in changes:
            if key.endswith(".value"):
                key, value = key[: -len(".value")], {"value": value,
                                                     "assumption": f"experiment override: {key} = {value!r}"}
            set_path(data, key, value, str(path))
        node = None
    return validate(model, data, path, node)


def load_postures(scen: ScenarioFile, path: Path, changes: dict[str, list[tuple[str, Any]]]):
    """The baseline, each actor's posture (variant applied) and the hash of every file read."""
    where = str(path)
    changes = dict(changes)
    base_path = library.ACTORS_DIR / "baseline.yaml"
    baseline = read_with(base_path, Baseline, changes.pop("baseline", None))
    hashes = {str(base_path.name): hash_bytes(base_path.read_bytes())}
    ids = {a.id for a in scen.actors}
    for actor in changes:
        if actor not in ids:
            raise InputError(where, f"postures.{actor}", "actor is not in the scenario")
    postures: dict[str, Posture] = {}
    for i, sa in enumerate(scen.actors):
        ppath = posture_path(path, sa.posture if sa.posture else None, sa.id)
        p = read_with(ppath, Posture, changes.get(sa.id))
        if p.actor != sa.id:
            raise InputError(where, f"actors.{i}.posture", f"posture file is for {p.actor}, not {sa.id}")
        postures[sa.id] = apply_variant(p, sa.variant, where, f"actors.{i}.variant")
        hashes[ppath.name] = hash_bytes(ppath.read_bytes())
    return baseline, postures, hashes
