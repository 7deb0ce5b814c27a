"""The built wheel, installed non-editable in a fresh venv, runs from a folder outside the checkout.

This is CI's packaging check (it runs in the normal suite): it builds the wheel from a copy of
the checkout, installs it without the checkout on any path, and runs what a new user runs
first: the default scenario, ``list``, ``check-claims``, a sweep, a user's own scenario and
postures, ``init`` and ``facilitate --help``. The fresh venv borrows the test venv's
third-party packages through a ``.pth`` file (so the check takes seconds, not a second
install of numpy, pandas and mesa); crisis-sim itself comes only from the wheel.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
import tomllib
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
IGNORE = shutil.ignore_patterns(".git", ".venv*", "results", "sessions", "build", "dist", "*.egg-info",
                                "__pycache__", ".pytest_cache", ".ruff_cache", ".hypothesis", "test-artifacts")


def test_every_subpackage_is_listed_in_pyproject():
    listed = set(tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"])
    found = {".".join(p.parent.relative_to(ROOT).parts) for p in (ROOT / "sim").rglob("__init__.py")}
    assert found <= listed, f"add to [tool.setuptools] packages: {sorted(found - listed)}"


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> dict:
    """A wheel built from a copy of the checkout, installed (no deps) into a fresh venv."""
    tmp = tmp_path_factory.mktemp("wheel")
    src = tmp / "src"
    shutil.copytree(ROOT, src, ignore=IGNORE)
    subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(tmp / "dist"), str(src)],
                   check=True, capture_output=True, timeout=600)
    wheel = next((tmp / "dist").glob("crisis_sim-*.whl"))
    venv = tmp / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=120)
    py = venv / "bin" / "python"
    subprocess.run([sys.executable, "-m", "pip", "--python", str(py), "install", "-q", "--no-deps", str(wheel)],
                   check=True, capture_output=True, timeout=300)
    site = Path(subprocess.run([str(py), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                               check=True, capture_output=True, text=True).stdout.strip())
    (site / "zz_test_deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    outside = tmp / "outside"
    outside.mkdir()
    shutil.rmtree(src)  # nothing of the checkout is left to find by accident
    return {"wheel": wheel, "bin": venv / "bin", "py": py, "cwd": outside, "site": site}


def run(inst: dict, *args: str, timeout: int = 300) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "CRISIS_SIM_ACTORS", "NUMBA_CACHE_DIR")}
    return subprocess.run([str(inst["bin"] / "crisis-sim"), *args], cwd=inst["cwd"], capture_output=True,
                          text=True, timeout=timeout, env={**env, "MPLBACKEND": "Agg"})


def test_wheel_holds_the_library_and_every_subpackage(installed):
    names = set(zipfile.ZipFile(installed["wheel"]).namelist())
    for f in ("sim/workshop/app.py", "sim/workshop/live.vue", "sim/data/ladder.yaml",
              "crisis_sim_library/scenarios/senkaku.yaml", "crisis_sim_library/scenarios/overlays/pandemic.yaml",
              "crisis_sim_library/actors/baseline.yaml", "crisis_sim_library/sweeps/senkaku_lhs.yaml",
              "crisis_sim_library/validation/claims.yaml", "crisis_sim_library/validation/scenarios/cheonan_2010.yaml",
              "crisis_sim_library/validation/data/mid/cow_mid5_disputes_abridged.csv"):
        assert f in names, f


def test_installed_package_finds_its_library_in_site_packages(installed):
    code = "from sim.inputs import library as l; print(l.SCENARIOS_DIR); print(l.ACTORS_DIR); import sim.workshop"
    r = subprocess.run([str(installed["py"]), "-c", code], cwd=installed["cwd"], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    for line in r.stdout.split():
        assert Path(line).is_relative_to(installed["site"]), line


def test_default_run_list_and_check_claims_from_outside(installed):
    r = run(installed, "--runs", "300", "--out", "default")
    assert r.returncode == 0, r.stderr
    assert "Taiwan" in r.stdout and (installed["cwd"] / "default" / "runs.parquet").exists()
    # the first run after installing compiles the turn kernel, and says so; the next one reuses the cache
    engine_cache = installed["site"] / "sim" / "engine" / "__pycache__"
    assert f"compiling the turn kernel once (about 30 s); later runs reuse Numba's cache in {engine_cache}" \
        in r.stderr, r.stderr
    r = run(installed, "--runs", "50", "--out", "again")
    assert r.returncode == 0 and "compiling" not in r.stderr, r.stderr
    r = run(installed, "list")
    assert r.returncode == 0 and "scenarios/senkaku.yaml" in r.stdout, r.stderr
    r = run(installed, "check-claims", "--runs", "200")
    assert r.returncode == 0, r.stderr
    assert "supported" in r.stdout


def test_sweep_user_scenario_init_and_facilitate_help_from_outside(installed):
    cwd = installed["cwd"]
    r = run(installed, "init", "lib")
    assert r.returncode == 0, r.stderr
    mine = cwd / "elsewhere" / "my_senkaku.yaml"
    mine.parent.mkdir()
    shutil.copy(cwd / "lib" / "scenarios" / "senkaku.yaml", mine)
    r = run(installed, "run", str(mine), "--runs", "100", "--out", "mine", "--quiet")  # shipped postures
    assert r.returncode == 0, r.stderr
    r = run(installed, "run", str(mine), "--runs", "100", "--out", "mine2", "--quiet", "--actors", "lib/actors")
    assert r.returncode == 0, r.stderr
    (cwd / "tiny.yaml").write_text("scenario: scenarios/senkaku.yaml\nruns_per_point: 50\nseed: 1\n"
                                   "design: {type: factorial, factors: {parameters.fog: [0.1, 0.3]}}\n")
    r = run(installed, "sweep", "tiny.yaml", "--out", "sw", "--quiet")
    assert r.returncode == 0, r.stderr
    assert (cwd / "sw" / "design.parquet").exists()
    r = run(installed, "facilitate", "--help")
    assert r.returncode == 0 and "--terminal" in r.stdout, r.stderr
