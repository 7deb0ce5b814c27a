"""Parallel jobs: identical results for any workers, chunk size or backend; planning; evaluators."""

from __future__ import annotations

import dataclasses
import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sim.cli import main
from sim.engine.ensemble import simulate
from sim.errors import InputError
from sim.experiments import forkserver
from sim.experiments.evaluators import DaskEvaluator, ProcessPoolEvaluator, SequentialEvaluator
from sim.experiments.jobs import run_job
from sim.experiments.measures import HEADLINE
from sim.experiments.stopping import CIPlanner, half_widths
from sim.experiments.store import Chunk, read_runs
from sim.experiments.worker import BLAS_VARS, Task, run_chunk
from sim.inputs.compile import compile_scenario
from sim.inputs.condition import Condition
from sim.inputs.library import SCENARIOS_DIR

SCEN = SCENARIOS_DIR / "senkaku.yaml"
FILES = ("runs.parquet", "events.parquet", "injects.parquet")
RUNS, SEED = 1_200, 21


def same_files(a: Path, b: Path, files=FILES) -> None:
    for f in files:
        assert (a / f).read_bytes() == (b / f).read_bytes(), f


@pytest.fixture(scope="module")
def reference(tmp_path_factory) -> Path:
    """In this process, chunks of 250: the job every other execution must reproduce bit for bit."""
    out = tmp_path_factory.mktemp("ref") / "o"
    res = run_job(SCEN, RUNS, SEED, out, jobs=1, chunk_size=250)
    assert res.workers == 1 and res.backend == "sequential" and res.chunks_computed == 5
    return out


def test_job_equals_the_in_memory_ensemble(reference):
    res = simulate(compile_scenario(SCEN), SEED, RUNS)
    pd.testing.assert_frame_equal(pd.read_parquet(reference / "runs.parquet"), res.runs)
    pd.testing.assert_frame_equal(pd.read_parquet(reference / "events.parquet"), res.events)
    pd.testing.assert_frame_equal(pd.read_parquet(reference / "injects.parquet"), res.injects)
    names = sorted(p.name for p in reference.iterdir())
    assert names == ["events.parquet", "injects.parquet", "manifest.json", "runs.parquet"]  # parts consolidated
    man = json.loads((reference / "manifest.json").read_text())
    assert man["runs"] == RUNS and man["job"]["chunk_size"] == 250 and man["events"] is True


def test_two_workers_and_other_chunk_sizes_give_identical_bytes(reference, tmp_path):
    assert main([str(SCEN), "--runs", str(RUNS), "--seed", str(SEED), "--out", str(tmp_path / "p"),
                 "--jobs", "2", "--chunk-size", "170", "--quiet"]) == 0
    man = json.loads((tmp_path / "p" / "manifest.json").read_text())
    assert man["execution"]["workers"] == 2 and man["execution"]["backend"] == "local"
    same_files(reference, tmp_path / "p")
    run_job(SCEN, RUNS, SEED, tmp_path / "one", jobs=1, chunk_size=RUNS, batch_size=97)
    same_files(reference, tmp_path / "one")


def test_dask_scheduler_gives_identical_bytes(reference, tmp_path):
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=False,
                                  dashboard_address=None) as cluster:
        res = run_job(SCEN, RUNS, SEED, tmp_path / "d", backend="dask", scheduler=cluster.scheduler_address,
                      chunk_size=300)
    assert res.backend == "dask" and res.workers == 2
    same_files(reference, tmp_path / "d")


def test_dask_local_cluster_from_the_cli(reference, tmp_path):
    pytest.importorskip("distributed")
    assert main([str(SCEN), "--runs", str(RUNS), "--seed", str(SEED), "--out", str(tmp_path / "d"),
                 "--backend", "dask", "--jobs", "2", "--chunk-size", "400", "--quiet"]) == 0
    same_files(reference, tmp_path / "d")


def blas_threads() -> list[int]:
    """Threads of every BLAS/OpenMP pool loaded in this process (run inside a worker)."""
    import numpy  # noqa: F401  (loads OpenBLAS)
    from threadpoolctl import threadpool_info

    return [p["num_threads"] for p in threadpool_info()]


def test_pool_workers_run_one_blas_thread():
    with ProcessPoolEvaluator(1) as ev:
        ev.start()
        env = {v: ev._ex.submit(os.getenv, v).result() for v in BLAS_VARS}
        threads = ev._ex.submit(blas_threads).result() if importlib.util.find_spec("threadpoolctl") else [1]
    assert env == dict.fromkeys(BLAS_VARS, "1")
    assert threads and set(threads) == {1}


def loaded_before_any_task() -> tuple[bool, int]:
    """In a worker: is the compiled turn imported already (the fork server's warm-up), and who is the parent."""
    return "sim.engine.resolve_kernel" in sys.modules and "sim.experiments.warm" in sys.modules, os.getppid()


@pytest.mark.skipif(not forkserver.available(), reason="no fork server on this platform")
def test_pool_workers_fork_from_a_warm_server_and_leave_the_callers_environment_alone():
    before = {v: os.environ.get(v) for v in BLAS_VARS}
    forkserver.prestart()
    assert {v: os.environ.get(v) for v in BLAS_VARS} == before
    with ProcessPoolEvaluator(2) as ev:
        ev.start()
        (warm_a, ppid_a), (warm_b, ppid_b) = (ev._ex.submit(loaded_before_any_task).result() for _ in range(2))
    assert warm_a and warm_b, "workers start without the model: the fork server did not preload sim.experiments.warm"
    assert ppid_a == ppid_b != os.getpid()  # forked by the server, not spawned by this process


class Recording(SequentialEvaluator):
    """A plug-in evaluator (what a user would write for another backend)."""

    def __init__(self, tamper: bool = False):
        super().__init__()
        self.seen: list[Chunk] = []
        self.tamper = tamper

    def submit(self, task: Task):
        self.seen.append(task.chunk)
        if self.tamper:  # as if the worker had another checkout
            task = dataclasses.replace(task, inputs={**task.inputs, "code": "0" * 64})
        return super().submit(task)


def test_custom_evaluator_and_progress(reference, tmp_path):
    ev, seen = Recording(), []
    res = run_job(SCEN, RUNS, SEED, tmp_path / "c", evaluator=ev, chunk_size=500, progress=seen.append)
    assert [c.start for c in ev.seen] == [0, 500, 1000] and sum(seen) == RUNS
    assert res.runs == RUNS
    same_files(reference, tmp_path / "c")


def test_workers_refuse_other_inputs(tmp_path):
    with pytest.raises(OSError, match="not the same checkout"):
        run_job(SCEN, 100, 1, tmp_path / "x", evaluator=Recording(tamper=True))


def test_code_hash_covers_every_module_a_worker_loads():
    code = ("import sys\nfrom sim.experiments.worker import MODEL_MODULES, Task, run_chunk\n"
            "from sim.experiments.store import Chunk\n"
            "from sim.inputs.condition import Condition\n"
            f"run_chunk(Task(Condition({str(SCEN)!r}), 0, Chunk(None, 0, 0, 20), True, 20))\n"
            "print(sorted(m[4:] for m in sys.modules if m.startswith('sim.') and m[4:] not in MODEL_MODULES))")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                       cwd=Path(__file__).resolve().parent.parent)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "[]", f"add to sim.experiments.worker.MODEL_MODULES: {r.stdout}"


def test_worker_reports_bad_input_instead_of_crashing():
    t = Task(Condition(str(SCEN), overrides=(("parameters.fog", 7.0),)), 0, Chunk(None, 0, 0, 10), False, 10)
    res = run_chunk(t)
    assert isinstance(res.error, InputError) and res.error.field == "parameters.fog" and not res.parts


@pytest.mark.parametrize("args,expect", [
    (["--scheduler", "tcp://127.0.0.1:1"], "needs --backend dask"),
    (["--jobs", "0"], "--jobs"),
    (["--chunk-size", "0"], "--chunk-size"),
    (["--until-ci", "0.7"], "--until-ci"),
])
def test_bad_execution_arguments_exit_2(args, expect, tmp_path, capsys):
    assert main([str(SCEN), "--runs", "10", "--out", str(tmp_path / "o"), "--quiet", *args]) == 2
    assert expect in capsys.readouterr().err


def test_unreachable_scheduler_is_a_clear_error(tmp_path):
    pytest.importorskip("distributed")
    ev = DaskEvaluator(scheduler="tcp://127.0.0.1:9", connect_timeout=0.5)
    with pytest.raises(OSError, match="cannot connect to the Dask scheduler"):
        run_job(SCEN, 10, 1, tmp_path / "o", evaluator=ev)


# ----------------------------------------------------------------------------- --until-ci


def test_planner_counts_in_run_order_whatever_the_arrival_order():
    rng = np.random.default_rng(5)
    outcome = rng.choice(6, size=9_000, p=[0.05, 0.7, 0.1, 0.1, 0.04, 0.01]).astype(np.int8)
    force = outcome >= 3
    stops = []
    for order in ([0, 1, 2, 3, 4, 5, 6, 7, 8], [8, 3, 1, 0, 7, 2, 6, 5, 4]):
        pl = CIPlanner(9_000, eps=0.015, step=500)
        for k in order:
            pl.add(k * 1000, outcome[k * 1000:(k + 1) * 1000], force[k * 1000:(k + 1) * 1000])
        stops.append(pl.stop_at)
    assert stops[0] == stops[1] and stops[0] % 500 == 0
    n = stops[0]
    counts = np.array([*(np.bincount(outcome[:n], minlength=6)), force[:n].sum()])
    assert np.all(half_widths(counts, n) < 0.015)
    prev = n - 500
    counts = np.array([*(np.bincount(outcome[:prev], minlength=6)), force[:prev].sum()])
    assert not np.all(half_widths(counts, prev) < 0.015)  # the first checkpoint that qualifies
    assert CIPlanner(100, eps=0.4).needs(200)  # undecided: every chunk may be needed


def test_until_ci_stops_at_the_same_run_for_any_chunking(tmp_path):
    kw = {"events": False, "until_ci": 0.02, "ci_step": 500}
    a = run_job(SCEN, 20_000, 3, tmp_path / "a", jobs=1, chunk_size=1_300, **kw)
    b = run_job(SCEN, 20_000, 3, tmp_path / "b", evaluator=Recording(), chunk_size=3_000, **kw)
    assert a.runs == b.runs and a.runs % 500 == 0 and a.runs < 20_000
    ci = a.until_ci
    assert ci["reached"] and ci["runs"] == a.runs and set(ci["half_widths"]) == set(HEADLINE)
    assert max(ci["half_widths"].values()) < 0.02
    plain = run_job(SCEN, a.runs, 3, tmp_path / "plain", jobs=1, events=False)
    same_files(tmp_path / "a", tmp_path / "b", ("runs.parquet", "injects.parquet"))
    same_files(tmp_path / "a", tmp_path / "plain", ("runs.parquet", "injects.parquet"))
    assert plain.runs == len(read_runs(tmp_path / "a"))


def test_until_ci_cap_is_reported(tmp_path, capsys):
    assert main([str(SCEN), "--runs", "1500", "--seed", "3", "--out", str(tmp_path / "c"), "--no-events",
                 "--until-ci", "0.001"]) == 0
    out = capsys.readouterr().out
    assert "NOT reached" in out and "1,500 runs" in out
    man = json.loads((tmp_path / "c" / "manifest.json").read_text())
    assert man["until_ci"]["runs"] == 1500 and man["until_ci"]["reached"] is False and man["runs"] == 1500


def test_input_errors_surface_before_any_work(tmp_path):
    with pytest.raises(InputError, match="unknown lever"):
        run_job(SCEN, 10, 0, tmp_path / "o", levers=["no_such_lever"])
    assert not (tmp_path / "o").exists()


def test_run_job_takes_a_condition(tmp_path):
    cond = Condition.of(SCEN, levers=["cooperative_frame"], overrides=[("parameters.fog", 0.2)])
    a = run_job(cond, 200, 4, tmp_path / "a", jobs=1, events=False)
    b = run_job(SCEN, 200, 4, tmp_path / "b", jobs=1, events=False, levers=["cooperative_frame"],
                overrides=[("parameters.fog", 0.2)])
    assert a.manifest["levers"] == ["cooperative_frame"] and ["parameters.fog", 0.2] in a.manifest["overrides"]
    assert a.manifest["content_hash"] == b.manifest["content_hash"]
    same_files(tmp_path / "a", tmp_path / "b", ("runs.parquet", "injects.parquet"))
