"""A first run that must compile the turn kernel says so (sim.engine.jit_cache); a warm cache says nothing."""

from __future__ import annotations

import importlib
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np

from sim.engine import jit_cache
from sim.engine.ensemble import simulate
from sim.inputs.compile import compile_scenario

ROOT = Path(__file__).resolve().parent.parent
SCEN = ROOT / "scenarios" / "senkaku.yaml"
NOTICE = "compiling the turn kernel once (about 30 s); later runs reuse Numba's cache in "


def _env(cache: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("NUMBA_DISABLE_JIT", "CRISIS_SIM_ACTORS")}
    return {**env, "NUMBA_CACHE_DIR": str(cache)}


def test_every_cached_kernel_module_is_checked():
    """KERNEL_MODULES holds every module with @njit(cache=True); OFF_RUN_PATH names real kernels."""
    cached = {".".join(p.relative_to(ROOT).with_suffix("").parts) for p in (ROOT / "sim").rglob("*.py")
              if re.search(r"^@njit\([^)]*cache=True", p.read_text(), re.M)}
    assert cached == set(jit_cache.KERNEL_MODULES)
    names = {jit_cache.qualified(d) for d in jit_cache.cached_dispatchers()}
    assert set(jit_cache.OFF_RUN_PATH) <= names
    assert len(jit_cache.cached_dispatchers(run_path=True)) == len(names) - len(jit_cache.OFF_RUN_PATH) > 10
    assert all(importlib.import_module(m) for m in jit_cache.KERNEL_MODULES)


def test_an_empty_cache_is_cold_and_finding_out_compiles_nothing(tmp_path):
    code = "from sim.engine.jit_cache import cold_cache; print(cold_cache())"
    r = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=_env(tmp_path), capture_output=True, text=True,
                       timeout=120)
    assert r.returncode == 0, r.stderr
    where = Path(r.stdout.strip())
    assert where.is_relative_to(tmp_path), where  # Numba's own locator, honouring NUMBA_CACHE_DIR
    assert not list(tmp_path.rglob("*.nbi")) and not list(tmp_path.rglob("*.nbc"))  # nothing was compiled


def test_after_a_run_the_cache_is_warm():
    """What a run compiles is all the check asks for (OFF_RUN_PATH is complete), in this process's cache."""
    with np.errstate(all="ignore"):
        simulate(compile_scenario(SCEN), 0, 3, events=True)
    assert jit_cache.cold_cache() is None


def test_disabled_jit_is_never_cold(tmp_path):
    code = "from sim.engine.jit_cache import cold_cache; print(cold_cache())"
    r = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env={**_env(tmp_path), "NUMBA_DISABLE_JIT": "1"},
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0 and r.stdout.strip() == "None", r.stderr


def test_the_notice_comes_once_before_computing_and_not_with_quiet(tmp_path, monkeypatch, capsys):
    from sim import cli

    monkeypatch.setattr(jit_cache, "cold_cache", lambda: tmp_path / "cache")
    args = [str(SCEN), "--runs", "20", "--chunk-size", "10"]
    assert cli.main([*args, "--out", str(tmp_path / "a")]) == 0
    err = capsys.readouterr().err
    assert err.count(NOTICE) == 1 and f"{NOTICE}{tmp_path / 'cache'}\n" in err
    assert cli.main([*args, "--out", str(tmp_path / "b"), "--quiet"]) == 0
    assert NOTICE not in capsys.readouterr().err
    assert cli.main([str(tmp_path / "missing.yaml"), "--out", str(tmp_path / "c")]) == 2  # bad input: one line
    assert capsys.readouterr().err.count("\n") == 1
    assert cli.main([*args, "--out", str(tmp_path / "a"), "--resume"]) == 0  # nothing to compute: nothing to say
    assert NOTICE not in capsys.readouterr().err


def test_first_run_with_an_empty_cache_says_it_compiles_then_never_again(tmp_path):
    """The real thing, with a pool: the fork server compiles, the command line says so once; the next
    run (in this process, from the cache the first one filled) says nothing."""
    cache = tmp_path / "numba-cache"
    cmd = [sys.executable, str(ROOT / "run_sim.py"), "run", str(SCEN), "--runs", "40", "--chunk-size", "20"]
    r = subprocess.run([*cmd, "--jobs", "2", "--out", str(tmp_path / "a")], cwd=ROOT, env=_env(cache),
                       capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr[-3000:]
    assert r.stderr.count(NOTICE) == 1, r.stderr[-3000:]
    assert Path(r.stderr.split(NOTICE)[1].splitlines()[0]).is_relative_to(cache)
    r = subprocess.run([*cmd, "--jobs", "1", "--out", str(tmp_path / "b")], cwd=ROOT, env=_env(cache),
                       capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr[-3000:]
    assert NOTICE not in r.stderr
