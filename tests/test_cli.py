"""The command line: sane exit codes, one clear line on bad input, deterministic outputs."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import yaml

from sim.cli import main

ROOT = Path(__file__).resolve().parent.parent
SCEN = ROOT / "scenarios" / "senkaku.yaml"


def run_cli(*args, cwd=ROOT):
    return subprocess.run([sys.executable, str(ROOT / "run_sim.py"), *map(str, args)], cwd=cwd,
                          capture_output=True, text=True, timeout=300)


def variant(tmp_path, edit, name="bad.yaml"):
    data = yaml.safe_load(SCEN.read_text())
    edit(data)
    p = tmp_path / name
    p.write_text(yaml.safe_dump(data, sort_keys=False))
    return p


def test_help_is_quick_and_lists_commands():
    r = run_cli("--help")
    assert r.returncode == 0 and "validate" in r.stdout and "--help" in r.stdout
    r = run_cli("run", "--help")
    assert r.returncode == 0 and "--runs" in r.stdout and "--seed" in r.stdout


def test_run_writes_tables_manifest_and_summary(tmp_path):
    r = run_cli(SCEN, "--runs", 300, "--seed", 3, "--out", tmp_path / "o")
    assert r.returncode == 0, r.stderr
    assert "Outcome probabilities" in r.stdout and "%" in r.stdout and "escalation paths" in r.stdout
    runs = pd.read_parquet(tmp_path / "o" / "runs.parquet")
    ev = pd.read_parquet(tmp_path / "o" / "events.parquet")
    man = json.loads((tmp_path / "o" / "manifest.json").read_text())
    assert len(runs) == 300 and runs.run.tolist() == list(range(300))
    assert {"outcome", "peak_rung", "peak_mid_hostility", "turns", "path"} <= set(runs.columns)
    assert {"action", "target", "rung_intended", "rung_realised", "rung_perceived", "driver1"} <= set(ev.columns)
    assert man["seed"] == 3 and man["runs"] == 300 and len(man["content_hash"]) == 64
    assert "senkaku.yaml" in man["file_hashes"] and "jpn.yaml" in man["file_hashes"]


def test_same_seed_gives_byte_identical_parquet(tmp_path):
    for d in ("a", "b"):
        assert main([str(SCEN), "--runs", "400", "--seed", "9", "--out", str(tmp_path / d), "--quiet"]) == 0
    for f in ("runs.parquet", "events.parquet", "injects.parquet"):
        assert (tmp_path / "a" / f).read_bytes() == (tmp_path / "b" / f).read_bytes(), f
    assert main([str(SCEN), "--runs", "400", "--seed", "10", "--out", str(tmp_path / "c"), "--quiet"]) == 0
    assert (tmp_path / "a" / "runs.parquet").read_bytes() != (tmp_path / "c" / "runs.parquet").read_bytes()


def test_overrides_change_the_scenario(tmp_path):
    assert main([str(SCEN), "--runs", "200", "--out", str(tmp_path / "a"), "--quiet",
                 "--set", "parameters.fog=0.9"]) == 0
    man = json.loads((tmp_path / "a" / "manifest.json").read_text())
    assert man["overrides"] == [["parameters.fog", 0.9]]


BAD = [
    ("malformed yaml", None, "malformed YAML"),
    ("unknown field", lambda d: d.update(colour="red"), "colour: unknown field"),
    ("wrong type", lambda d: d["turns"].update(max="many"), "turns.max"),
    ("out of range", lambda d: d["parameters"].update(fog=3.0), "parameters.fog"),
    ("unknown actor", lambda d: d["actors"].append({"id": "RUS"}), "actors.3.id"),
    ("unknown adversary", lambda d: d["actors"][0].update(adversaries=["DPRK"]), "DPRK"),
    ("unknown action in inject", lambda d: d["injects"][0]["effects"].update(
        force_action={"actor": "PRC", "action": "teleport"}), "injects.0.effects.force_action.action"),
    ("inadmissible forced action", lambda d: d["injects"][0]["effects"].update(
        force_action={"actor": "JPN", "action": "nuclear_use"}), "preconditions"),
    ("collision blamed on an absent actor", lambda d: d["injects"][0]["effects"].update(
        collision={"by": "DPRK", "against": "JPN"}), "injects.0.effects.collision.by"),
    ("collision with oneself", lambda d: d["injects"][0]["effects"].update(
        collision={"by": "JPN", "against": "JPN"}), "injects.0.effects.collision.against"),
    ("unknown rung in condition", lambda d: d["injects"][1]["when"].update(
        crisis_rung_at_least="armageddon"), "armageddon"),
    ("too many turns", lambda d: d["turns"].update(max=10_000), "turns.max"),
    ("unknown variant", lambda d: d["actors"][0].update(variant="ninja"), "actors.0.variant"),
    ("unknown channel", lambda d: d["channels"].update(red_phone="open"), "channels.red_phone"),
]


@pytest.mark.parametrize("label,edit,expect", BAD, ids=[b[0] for b in BAD])
def test_bad_scenarios_exit_2_with_one_line(tmp_path, label, edit, expect, capsys):
    if edit is None:
        p = tmp_path / "bad.yaml"
        p.write_text("id: x\nactors: [\n  - {id: US\n")
    else:
        p = variant(tmp_path, edit)
    assert main(["validate", str(p)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "Traceback" not in err
    assert str(p) in err and expect in err, err


def test_error_names_the_line(tmp_path, capsys):
    p = tmp_path / "line.yaml"
    text = SCEN.read_text().replace("  fog: 0.15", "  fog: 7.0")
    p.write_text(text)
    assert main(["validate", str(p)]) == 2
    err = capsys.readouterr().err
    line = next(i for i, ln in enumerate(text.splitlines(), 1) if "fog: 7.0" in ln)
    assert f"{p}:{line}: parameters.fog" in err


def test_bad_input_leaves_earlier_results_intact(tmp_path):
    out = tmp_path / "o"
    assert main([str(SCEN), "--runs", "100", "--out", str(out), "--quiet"]) == 0
    before = {f.name: f.read_bytes() for f in out.iterdir()}
    bad = variant(tmp_path, lambda d: d["parameters"].update(fog="thick"))
    r = run_cli(bad, "--runs", 100, "--out", out)
    assert r.returncode == 2 and "Traceback" not in r.stderr
    assert {f.name: f.read_bytes() for f in out.iterdir()} == before


@pytest.mark.parametrize("args,expect", [
    (["--runs", "0"], "--runs"),
    (["--set", "nonsense"], "KEY=VALUE"),
    (["--set", "actors.9.id=US"], "actors.9.id"),
    (["missing.yaml"], "file not found"),
])
def test_bad_arguments(args, expect, capsys, tmp_path):
    argv = [a if a != "missing.yaml" else str(tmp_path / a) for a in args]
    if argv[0].startswith("--"):
        argv = [str(SCEN), *argv]
    assert main([*argv, "--out", str(tmp_path / "o"), "--quiet"]) == 2
    assert expect in capsys.readouterr().err


def test_unwritable_output(tmp_path, capsys):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    assert main([str(SCEN), "--runs", "10", "--out", str(blocker / "sub"), "--quiet"]) == 2
    assert "output directory" in capsys.readouterr().err


def test_argparse_errors_exit_2():
    r = run_cli("run", "--runs", "lots")
    assert r.returncode == 2 and "invalid int value" in r.stderr


def test_list_and_describe():
    r = run_cli("list")
    assert r.returncode == 0 and "senkaku" in r.stdout and "taiwan_strait" in r.stdout
    r = run_cli("describe", SCEN)
    assert r.returncode == 0 and "Injects:" in r.stdout and "jpn_prc_macm" in r.stdout


def test_prog_is_the_name_typed_and_unknown_commands_are_invalid_choices(tmp_path):
    r = subprocess.run([str(Path(sys.executable).parent / "crisis-sim"), "--help"], capture_output=True, text=True)
    assert r.returncode == 0 and r.stdout.startswith("usage: crisis-sim")
    r = run_cli("nosuchcmd", cwd=tmp_path)
    assert r.returncode == 2
    assert "invalid choice: 'nosuchcmd'" in r.stderr and "file not found" not in r.stderr


def test_completed_results_are_not_replaced_without_force(tmp_path):
    out = tmp_path / "res"
    assert run_cli(SCEN, "--runs", "40", "--out", out, "--quiet").returncode == 0
    before = (out / "runs.parquet").read_bytes()
    r = run_cli(SCEN, "--runs", "10", "--out", out, "--quiet")
    assert r.returncode == 2 and "--force" in r.stderr and "40 runs" in r.stderr
    assert (out / "runs.parquet").read_bytes() == before
    assert run_cli(SCEN, "--runs", "10", "--out", out, "--quiet", "--force").returncode == 0
    assert (out / "runs.parquet").read_bytes() != before


def test_interrupt_says_how_to_resume(monkeypatch, capsys, tmp_path):
    from sim import cli

    def interrupted(*a, **k):
        raise KeyboardInterrupt

    monkeypatch.setattr("sim.experiments.jobs.run_job", interrupted)
    code = cli.main(["run", str(SCEN), "--out", str(tmp_path / "x"), "--quiet"])
    err = capsys.readouterr().err
    assert code == 130 and "--resume" in err and str(tmp_path / "x") in err


def test_verbose_names_inputs_and_quiet_prints_nothing(tmp_path):
    r = run_cli(SCEN, "--runs", "20", "--out", tmp_path / "v", "--verbose")
    assert r.returncode == 0 and "postures:" in r.stderr and "chunks computed" in r.stderr
    r = run_cli(SCEN, "--runs", "20", "--out", tmp_path / "q", "--quiet")
    assert r.returncode == 0 and r.stdout == ""


def test_init_copies_the_library_and_refuses_a_full_folder(tmp_path):
    r = run_cli("init", tmp_path / "lib", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert (tmp_path / "lib" / "actors" / "baseline.yaml").exists()
    assert (tmp_path / "lib" / "scenarios" / "overlays" / "pandemic.yaml").exists()
    r = run_cli("init", tmp_path / "lib", cwd=tmp_path)
    assert r.returncode == 2 and "not an empty folder" in r.stderr
