"""A fresh clone runs check-claims, backtest and calibrate: the validation data ship with the project
(validation/data/, read by paths relative to the checkout), nothing is read from beside it."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent


def _tracked() -> list[str]:
    try:
        out = subprocess.run(["git", "-C", str(ROOT), "ls-files", "-z"], capture_output=True, check=True, timeout=30)
    except (OSError, subprocess.SubprocessError):
        pytest.skip("not a git checkout")
    return [p for p in out.stdout.decode().split("\0") if p]


@pytest.fixture(scope="module")
def clone(tmp_path_factory) -> Path:
    """The tracked files (what a clone holds) copied to a folder with no sibling 'shared' folder."""
    dest = tmp_path_factory.mktemp("fresh") / "crisis-sim"
    for rel in _tracked():
        src = ROOT / rel
        if src.is_file():
            (dest / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dest / rel)
    return dest


def _run(clone: Path, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(clone), "MPLBACKEND": "Agg"}
    env.pop("CRISIS_SIM_PAPERS", None)
    env.pop("CRISIS_SIM_ACTORS", None)
    return subprocess.run([sys.executable, str(clone / "run_sim.py"), *args], cwd=clone.parent, env=env,
                          capture_output=True, text=True, timeout=300)


def test_validation_reads_only_the_checkout(clone):
    code = ("import sim.analysis.validation as v, sim.analysis.calibrate as c; "
            "print(v.DATA_DIR); print(c.DATA_DIR); print(v.CLAIMS_FILE)")
    env = {**os.environ, "PYTHONPATH": str(clone)}
    out = subprocess.run([sys.executable, "-c", code], env=env, cwd=clone.parent, capture_output=True, text=True,
                         timeout=60, check=True).stdout.split()
    assert all(Path(p).is_relative_to(clone) for p in out), out
    assert (clone / "validation" / "data" / "icb" / "icb2v15.csv").exists()


def test_fresh_clone_runs_the_three_commands(clone, tmp_path):
    claims = yaml.safe_load((clone / "validation" / "claims.yaml").read_text())
    claims["claims"] = [c for c in claims["claims"] if c["id"] == "C21-rules"]
    (clone / "validation" / "one_claim.yaml").write_text(yaml.safe_dump(claims))
    r = _run(clone, "check-claims", "crisis-sim/validation/one_claim.yaml", "--runs", "200")
    assert r.returncode == 0, r.stderr
    assert "C21-rules" in r.stdout
    cases = yaml.safe_load((clone / "validation" / "cases.yaml").read_text())
    cases["crises"] = [c for c in cases["crises"] if c["id"] == "japan_korea_2019"]
    (clone / "validation" / "one_case.yaml").write_text(yaml.safe_dump(cases))
    r = _run(clone, "backtest", "crisis-sim/validation/one_case.yaml", "--runs", "50")
    assert r.returncode == 0, r.stderr
    assert "japan_korea_2019" in r.stdout and "coded 3" in r.stdout
    cal = yaml.safe_load((clone / "validation" / "calibration.yaml").read_text())
    cal["scenarios"] = [s for s in cal["scenarios"] if "intercept" in s["file"]]
    cal["patterns"] = [p for p in cal["patterns"] if p.get("trigger", "any") in ("violent", "any")][:2]
    (clone / "validation" / "tiny_cal.yaml").write_text(yaml.safe_dump(cal))
    pytest.importorskip("pyabc")
    r = _run(clone, "calibrate", "crisis-sim/validation/tiny_cal.yaml", "--budget", "tiny", "--population", "2",
             "--generations", "1", "--runs", "4", "--quiet", "--out", str(tmp_path / "cal"))
    assert r.returncode == 0, r.stderr
    assert (tmp_path / "cal" / "diagnostics.json").exists()
