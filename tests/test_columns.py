"""The column registry (sim.experiments.columns) against real results files, docs/data.md, pandas
and DuckDB; old-format folders still load; ``rerun`` reproduces a folder byte for byte."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest

from sim.cli import main
from sim.experiments import columns
from sim.experiments.jobs import run_job, run_sweep
from sim.experiments.store import read_events, read_runs
from sim.inputs.library import SCENARIOS_DIR

ROOT = Path(__file__).resolve().parent.parent
SENKAKU = SCENARIOS_DIR / "senkaku.yaml"


@pytest.fixture(scope="module")
def job(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("cols") / "job"
    run_job(SENKAKU, 600, 3, out)
    return out


@pytest.fixture(scope="module")
def sweep(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("cols") / "sweep"
    run_sweep({"scenario": str(SENKAKU), "runs_per_point": 40, "seed": 1, "events": True,
               "design": {"type": "factorial", "factors": {"parameters.fog": [0.1, 0.3]}}}, out)
    return out


def test_data_dictionary_is_generated_from_the_registry():
    assert (ROOT / "docs" / "data.md").read_text() == columns.markdown(), \
        "regenerate: python -m sim.experiments.columns > docs/data.md"


def _files(*folders: Path) -> list[tuple[str, Path]]:
    return [(t, d / f"{t}.parquet") for d in folders for t in columns.TABLES if (d / f"{t}.parquet").exists()]


def test_every_column_of_every_file_is_registered_with_its_type_and_nulls(job, sweep):
    seen = set()
    for table, path in _files(job, sweep):
        t = pq.read_table(path)
        for f in t.schema:
            col = columns.lookup(table, f.name)
            assert col is not None, f"{path.name}: {f.name} is not in sim/experiments/columns.py"
            seen.add((table, col.name))
            if col.type != "any":
                assert columns.arrow_kind(f.type) == col.type, (path.name, f.name, f.type)
            if not col.nulls:
                assert t.column(f.name).null_count == 0, f"{path.name}: {f.name} has nulls; say what they mean"
    never = {(c.table, c.name) for c in columns.COLUMNS} - seen
    assert not never, f"registered but in no file: {sorted(never)}"


def test_missing_values_are_nulls_and_rungs_are_ordered(job):
    runs, ev = read_runs(job), read_events(job)
    assert runs.first_force_turn.isna().eq(~runs.use_of_force).all()
    assert runs.peak_rung.cat.ordered and ev.rung_realised.cat.ordered
    k = list(runs.peak_rung.cat.categories).index("mobilise")
    assert (runs.peak_rung > "mobilise").sum() == (runs.peak_rung_index > k).sum()
    assert "" not in ev.target.cat.categories and ev.target.isna().any()
    assert (ev.action_label.astype(str) != ev.action.astype(str)).any()


def test_duckdb_reads_the_files_as_pandas_does(job):
    duckdb = pytest.importorskip("duckdb")
    runs = read_runs(job)
    path = str(job / "runs.parquet")
    avg = duckdb.sql(f"SELECT avg(first_force_turn) FROM '{path}'").fetchall()[0][0]
    assert avg == pytest.approx(runs.first_force_turn.mean())
    assert avg > 1  # a -1 sentinel for the runs without force would pull it below 1
    k = list(runs.peak_rung.cat.categories).index("mobilise")
    n = duckdb.sql(f"SELECT count(*) FROM '{path}' WHERE peak_rung_index > {k}").fetchall()[0][0]
    assert n == (runs.peak_rung > "mobilise").sum()
    nulls = duckdb.sql(f"SELECT count(*) FROM '{path}' WHERE coercive_winner IS NULL").fetchall()[0][0]
    assert nulls == runs.coercive_winner.isna().sum()


def test_a_folder_in_the_old_sentinel_format_loads_with_nulls(job, tmp_path):
    old = tmp_path / "old"
    shutil.copytree(job, old)
    runs = pd.read_parquet(old / "runs.parquet")
    runs["first_force_turn"] = runs.first_force_turn.fillna(-1).astype("int16")
    runs["coercive_winner"] = runs.coercive_winner.cat.add_categories("").fillna("")
    runs["peak_rung"] = runs.peak_rung.cat.as_unordered()
    runs.to_parquet(old / "runs.parquet", index=False)
    got, want = read_runs(old), read_runs(job)
    pd.testing.assert_series_equal(got.first_force_turn, want.first_force_turn)
    pd.testing.assert_series_equal(got.coercive_winner, want.coercive_winner)
    assert got.peak_rung.cat.ordered


def test_manifest_records_code_version_parameters_and_command(job):
    man = json.loads((job / "manifest.json").read_text())
    assert man["code_hash"] and man["package_version"] and man["parameters"]["fog"] is not None
    assert "git_commit" in man or not (ROOT / ".git").exists()
    assert man["condition"]["overrides"] == [] and man["command_line"]


def test_rerun_reproduces_a_folder_byte_for_byte(tmp_path, capsys):
    out = tmp_path / "res"
    assert main(["run", str(SENKAKU), "--runs", "300", "--seed", "5", "--out", str(out), "--quiet",
                 "--lever", "coast_guard_rules", "--overlay", "pandemic", "--set", "parameters.fog=0.3"]) == 0
    assert main(["rerun", str(out), "--quiet"]) == 0
    printed = capsys.readouterr().out
    assert "runs.parquet: identical" in printed and "events.parquet: identical" in printed
    for f in ("runs.parquet", "events.parquet", "injects.parquet"):
        assert (out / f).read_bytes() == (tmp_path / "res-rerun" / f).read_bytes()


def test_rerun_refuses_when_an_input_changed(tmp_path, capsys):
    mine = tmp_path / "mine.yaml"
    shutil.copy(SENKAKU, mine)
    out = tmp_path / "res"
    assert main(["run", str(mine), "--runs", "50", "--out", str(out), "--quiet"]) == 0
    mine.write_text(mine.read_text().replace("fog:", "fog: 0.33 #", 1))
    assert main(["rerun", str(out), "--quiet"]) == 2
    assert "inputs changed" in capsys.readouterr().err
