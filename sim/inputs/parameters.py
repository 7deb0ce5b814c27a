"""Parameter sets: named values overlaying ``actors/baseline.yaml`` and the scenarios' parameters.

A parameter set (``sim.inputs.schema.ParameterSet``) is a list of dotted override paths and values
(``baseline.<path>.value`` or ``parameters.<knob>``) with its provenance; the calibrated one is
``actors/parameters/calibrated.yaml``, written by ``run_sim.py calibrate --write-set``. It is applied
before a condition's overlays, levers and overrides, so any of those still wins. Which set a run
uses: ``--parameters FILE`` (``Condition.parameters``), ``--parameters baseline`` for none, else the
default: the calibrated set when its file says ``default: true`` (only a credible calibration
does), otherwise none (the baseline constants as written).
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sim.inputs.library import ACTORS_DIR, ROOT
from sim.inputs.loader import load_shared
from sim.inputs.schema import ParameterSet

if TYPE_CHECKING:
    from sim.analysis.calibrate import Calibration

PARAMETERS_DIR = ACTORS_DIR / "parameters"
CALIBRATED = PARAMETERS_DIR / "calibrated.yaml"
#: ``--parameters baseline``: no parameter set, the constants as written.
BASELINE = "baseline"


def resolve(choice: str | Path | None) -> Path | None:
    """The parameter-set file a condition uses (None: the baseline constants as written)."""
    if choice is None or str(choice) == "":
        return CALIBRATED if CALIBRATED.exists() and load_shared(ParameterSet, CALIBRATED).default else None
    if str(choice) == BASELINE:
        return None
    return Path(choice)


def pairs(choice: str | Path | None) -> list[tuple[str, Any]]:
    """The set's (path, value) changes, in its order (none for the baseline)."""
    path = resolve(choice)
    return [] if path is None else [(v.path, v.value) for v in load_shared(ParameterSet, path).set]


def entry(choice: str | Path | None) -> dict[str, Any]:
    """The manifest's ``parameter_set`` entry: which set, its hash and where it came from."""
    path = resolve(choice)
    if path is None:
        return {"name": BASELINE, "file": None}
    ps = load_shared(ParameterSet, path)
    try:
        shown = str(path.resolve().relative_to(ROOT))
    except ValueError:
        shown = str(path)
    return {"name": ps.name, "file": shown, "sha256": hashlib.sha256(path.read_bytes()).hexdigest(),
            "values": {v.path: v.value for v in ps.set},
            "provenance": {k: ps.provenance.get(k) for k in ("commit", "command", "data", "calibration_file",
                                                            "created", "credible") if k in ps.provenance}}


def _verdict(d: dict) -> str:
    """Why the set is (not) the default, in the words of the calibration's own diagnostics, so that nobody
    has to edit the written file to say it (MODEL.md 6.3 gives the mechanisms of the misses)."""
    fit, dist = f"{d['patterns_inside_90']} of {d['patterns']} observed patterns", d["distance"]
    if d["credible"]:
        return f"The default: {fit} lie inside their 90% posterior-predictive intervals."
    return (f"Not the default: {fit} lie inside their 90% posterior-predictive intervals, and the distance is "
            f"{dist['calibrated']:.0f} against the baseline's {dist['baseline']:.0f} (MODEL.md 6.3).")


def write_parameter_set(res: Calibration, path: str | Path) -> Path:
    """The calibrated set from a finished calibration (posterior medians), with its provenance; default
    only when the calibration was credible."""
    import yaml

    from sim.analysis.calibrate import CALIBRATION_FILE
    from sim.experiments.store import atomic_write
    from sim.inputs.loader import load
    from sim.inputs.schema import CalibrationFile

    d = res.diagnostics
    spec = load(CalibrationFile, ROOT / d["calibration_file"] if not Path(d["calibration_file"]).is_absolute()
                else Path(d["calibration_file"]) if Path(d["calibration_file"]).exists() else CALIBRATION_FILE)
    paths = {p.id: p.path for p in spec.parameters}
    data = {
        "schema_version": 1, "name": "calibrated",
        "description": "Posterior medians of the ABC-SMC calibration to ICB/MID patterns "
                       f"(validation/calibration.yaml). {_verdict(d)} Regenerate after behaviour changes: "
                       "python run_sim.py calibrate --write-set actors/parameters/calibrated.yaml",
        "default": bool(res.credible),
        "set": [{"id": k, "path": paths[k], "value": round(float(v), 4)} for k, v in d["point"].items()],
        "provenance": {k: d[k] for k in ("commit", "command", "calibration_file", "calibration_sha256", "data", "seed",
                                         "budget", "distance", "patterns_inside_90", "patterns", "credible",
                                         "created")},
    }
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    post = res.posterior.rename(columns=paths)  # columns by override path, for --posterior
    atomic_write(path.with_name(path.stem + "_posterior.csv"), lambda p: post.to_csv(p, index=False))
    header = ("# Calibrated parameter set (written by run_sim.py calibrate --write-set; do not edit by hand).\n"
              f"# Fitted on commit {d['commit']}; the model changes after it make this set stale: regenerate it.\n")
    atomic_write(path, lambda p: p.write_text(header + yaml.safe_dump(data, sort_keys=False, width=110)))
    return path
