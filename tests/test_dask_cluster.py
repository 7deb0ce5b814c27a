"""A job on a real multi-process Dask cluster (``dask scheduler`` + ``dask worker`` processes)
started in another folder than the client, with no copy of the client's scenario or postures:
the compiled inputs travel with each task, and the results are the bytes of a local run."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytest.importorskip("distributed")

from sim.experiments.jobs import run_job
from sim.experiments.worker import Task
from sim.inputs.condition import Condition
from sim.inputs.library import SCENARIOS_DIR

DASK = Path(sys.executable).parent / "dask"


@pytest.fixture
def cluster(tmp_path):
    """Scheduler and one worker process, run from ``tmp_path/cluster`` with a posture folder that
    holds nothing (so a worker compiling the inputs itself would fail)."""
    home = tmp_path / "cluster"
    (home / "no-actors").mkdir(parents=True)
    env = {**os.environ, "CRISIS_SIM_ACTORS": str(home / "no-actors"), "PYTHONPATH": ""}
    sched_file = home / "scheduler.json"
    procs = [subprocess.Popen([str(DASK), "scheduler", "--host", "127.0.0.1", "--port", "0", "--no-dashboard",
                               "--scheduler-file", str(sched_file)], cwd=home, env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)]
    try:
        deadline = time.monotonic() + 60
        while not sched_file.exists() and time.monotonic() < deadline:
            time.sleep(0.2)
        procs.append(subprocess.Popen([str(DASK), "worker", "--scheduler-file", str(sched_file), "--nworkers", "2",
                                       "--nthreads", "1", "--no-dashboard", "--host", "127.0.0.1"], cwd=home, env=env,
                                      stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        address = json.loads(sched_file.read_text())["address"]
        from distributed import Client

        with Client(address, timeout=60) as c:
            c.wait_for_workers(2, timeout=120)
        yield address
    finally:
        for p in reversed(procs):
            p.terminate()
        for p in procs:
            try:
                p.wait(timeout=30)
            except subprocess.TimeoutExpired:
                p.kill()


def test_job_on_a_real_cluster_without_a_shared_folder(cluster, tmp_path, monkeypatch):
    client_dir = tmp_path / "client"
    client_dir.mkdir()
    mine = client_dir / "my_senkaku.yaml"  # only the client has this file
    shutil.copy(SCENARIOS_DIR / "senkaku.yaml", mine)
    monkeypatch.chdir(client_dir)
    local = run_job(mine, 400, 7, client_dir / "local", chunk_size=100)
    remote = run_job(mine, 400, 7, client_dir / "remote", chunk_size=100, backend="dask", scheduler=cluster)
    assert remote.chunks_computed == 4
    for f in ("runs.parquet", "events.parquet", "injects.parquet"):
        assert (local.out / f).read_bytes() == (remote.out / f).read_bytes(), f


def test_tasks_have_readable_names():
    from sim.experiments.store import Chunk

    task = Task(Condition(str(SCENARIOS_DIR / "senkaku.yaml")), 0, Chunk(3, 2, 0, 10), True, 10)
    assert task.key == "senkaku-point3-chunk2"
