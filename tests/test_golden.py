"""Golden outputs: the bytes the engine writes, pinned so a restructuring cannot change them.

Pinned through the command line and the session log, the two interfaces that stay fixed
when the code moves: two scenario ensembles (runs, events, injects), a factorial sweep and
a Latin-hypercube sweep, a replayed workshop session and an HTML report. Parquet bytes
depend on the pyarrow version that wrote them, so each table is pinned twice: by its bytes
(checked when the recorded pyarrow version is installed) and by its content (always).

When behaviour changes on purpose, regenerate and review the diff of ``expected.json``:
``CRISIS_SIM_UPDATE_GOLDEN=1 pytest tests/test_golden.py``.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
from pathlib import Path

import pandas as pd
import pyarrow
import pytest

from sim.cli import main

HERE = Path(__file__).resolve().parent / "golden"
ROOT = HERE.parent.parent
EXPECTED = HERE / "expected.json"
UPDATE = os.environ.get("CRISIS_SIM_UPDATE_GOLDEN") == "1"
TABLES = ("runs", "events", "injects", "design")


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _content(path: Path) -> str:
    df = pd.read_parquet(path)
    cols = ",".join(f"{c}:{df[c].dtype}" for c in df.columns)
    rows = pd.util.hash_pandas_object(df.astype({c: str for c in df.columns if df[c].dtype == object}),
                                      index=False).to_numpy()
    return _sha(cols.encode() + rows.tobytes())


def _tables(out: Path) -> dict:
    return {t: {"bytes": _sha((out / f"{t}.parquet").read_bytes()), "content": _content(out / f"{t}.parquet")}
            for t in TABLES if (out / f"{t}.parquet").exists()}


def _check(name: str, got: dict) -> None:
    expected = json.loads(EXPECTED.read_text()) if EXPECTED.exists() else {}
    if UPDATE:
        expected[name] = got
        expected["_pyarrow"] = pyarrow.__version__
        EXPECTED.write_text(json.dumps(expected, indent=1, sort_keys=True) + "\n")
        return
    assert name in expected, f"no golden record for {name}; regenerate with CRISIS_SIM_UPDATE_GOLDEN=1"
    want = expected[name]
    same_arrow = expected.get("_pyarrow") == pyarrow.__version__
    for key, value in want.items():
        if isinstance(value, dict) and "content" in value:
            assert got[key]["content"] == value["content"], f"{name}/{key}: content changed"
            if same_arrow:
                assert got[key]["bytes"] == value["bytes"], f"{name}/{key}: bytes changed"
        else:
            assert got[key] == value, f"{name}/{key} changed"


def test_golden_session_record_is_current():
    """The recorded session is regenerated with the golden record (same scripted play)."""
    if UPDATE:
        from test_workshop import scripted

        tmp = HERE / "_rec"
        shutil.rmtree(tmp, ignore_errors=True)
        scripted(tmp)
        events = [json.loads(x) for x in (tmp / "session.jsonl").read_text().splitlines()]
        for ev in events:  # recorded in the old format (no digests): the replay proves old logs load
            ev.pop("digest", None)
        events[0]["scenario"] = "scenarios/senkaku.yaml"
        (HERE / "session.jsonl").write_text("".join(json.dumps(ev, sort_keys=True) + "\n" for ev in events))
        shutil.rmtree(tmp)
    assert (HERE / "session.jsonl").exists()


@pytest.mark.parametrize(("scenario", "runs", "seed"), [("korean_peninsula", 400, 5), ("senkaku", 400, 9)])
def test_golden_ensemble(tmp_path, scenario, runs, seed):
    out = tmp_path / scenario
    assert main([str(ROOT / "scenarios" / f"{scenario}.yaml"), "--runs", str(runs), "--seed", str(seed),
                 "--out", str(out), "--quiet", "--jobs", "1"]) == 0
    _check(f"ensemble_{scenario}", _tables(out))


SWEEPS = {
    "factorial": {"runs_per_point": 150, "seed": 3, "events": True,
                  "design": {"type": "factorial", "factors": {"parameters.fog": [0.05, 0.3],
                                                              "levers": [[], ["coast_guard_rules"]]}}},
    "lhs": {"runs_per_point": 120, "seed": 2,
            "design": {"type": "latin_hypercube", "samples": 4, "seed": 3,
                       "factors": {"parameters.stress": [0.1, 0.7],
                                   "postures.PRC.weights.threat.value": [0.5, 1.5]}}},
}


@pytest.mark.parametrize("kind", list(SWEEPS))
def test_golden_sweep(tmp_path, kind):
    import yaml

    sweep = {"scenario": str(ROOT / "scenarios" / "senkaku.yaml"), **SWEEPS[kind]}
    path = tmp_path / "sweep.yaml"
    path.write_text(yaml.safe_dump(sweep))
    out = tmp_path / "out"
    assert main(["sweep", str(path), "--out", str(out), "--quiet", "--jobs", "1"]) == 0
    _check(f"sweep_{kind}", _tables(out))


def test_golden_workshop_replay(tmp_path):
    """A recorded three-move session (every facilitator action) replays to the same world."""
    from sim.workshop.documents import aar_markdown
    from sim.workshop.session import Session

    folder = tmp_path / "s"
    folder.mkdir()
    events = [json.loads(x) for x in (HERE / "session.jsonl").read_text().splitlines()]
    for ev in events:  # the fixture is a log of the old format (no integrity digests), which must keep loading
        ev.pop("digest", None)
    first = events[0]
    first["scenario"] = str(ROOT / "scenarios" / "senkaku.yaml")
    (folder / "session.jsonl").write_text("".join(json.dumps(ev, sort_keys=True) + "\n" for ev in events))
    s = Session.load(folder)
    headlines = [str(m) for m in s.state.moves]
    aar = aar_markdown(s).replace(first["scenario"], "SCENARIO")
    _check("workshop", {"state": s.hash(), "headlines": _sha("\n".join(headlines).encode()),
                        "aar": _sha(aar.encode())})


_VOLATILE = re.compile(r"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[^<\"\s]*|sha256 [0-9a-f]{12,}|[0-9a-f]{64})")


def test_golden_report(tmp_path):
    out = tmp_path / "res"
    assert main([str(ROOT / "scenarios" / "taiwan_visit.yaml"), "--runs", "300", "--seed", "2", "--out", str(out),
                 "--quiet", "--jobs", "1"]) == 0
    assert main(["report", str(out), "--lever-runs", "100", "--out", str(tmp_path / "r.html")]) == 0
    html = (tmp_path / "r.html").read_text()
    html = html.replace(str(tmp_path), "TMP").replace(str(ROOT), "ROOT")
    # the manifest section shows when and by which command; everything else is pinned
    html = re.sub(r"<h2[^>]*>Manifest.*", "", html, flags=re.S)
    _check("report", {"html": _sha(_VOLATILE.sub("X", html).encode())})
