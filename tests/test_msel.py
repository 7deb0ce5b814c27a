"""MSEL spreadsheet round trip: export to CSV and import back loses nothing."""

from __future__ import annotations

import pytest

from sim.cli import main
from sim.inputs.library import SCENARIOS_DIR
from sim.inputs.loader import load
from sim.inputs.schema import ScenarioFile

SCENARIOS = sorted(SCENARIOS_DIR.glob("*.yaml"))


@pytest.mark.parametrize("path", SCENARIOS, ids=lambda p: p.stem)
def test_round_trip_is_lossless(path, tmp_path):
    csv_path, out = tmp_path / "msel.csv", tmp_path / "back.yaml"
    assert main(["msel", "export", str(path), "--csv", str(csv_path)]) == 0
    header = csv_path.read_text().splitlines()[0]
    for column in ("Serial", "Move", "Day", "Inject Type", "Delivery Method", "From", "To", "Title", "Description",
                   "Expected Player Action", "Objective", "Responsible Controller", "Controller Note", "Status"):
        assert column in header
    assert main(["msel", "import", str(path), "--csv", str(csv_path), "--out", str(out)]) == 0
    assert load(ScenarioFile, out) == load(ScenarioFile, path)


def test_edited_spreadsheet_comes_back(tmp_path):
    path = SCENARIOS_DIR / "senkaku.yaml"
    csv_path, out = tmp_path / "msel.csv", tmp_path / "edited.yaml"
    main(["msel", "export", str(path), "--csv", str(csv_path)])
    text = csv_path.read_text().replace("Coast-guard collision near Uotsuri", "Collision near Uotsuri (edited)")
    csv_path.write_text(text)
    assert main(["msel", "import", str(path), "--csv", str(csv_path), "--out", str(out)]) == 0
    assert load(ScenarioFile, out).injects[0].title == "Collision near Uotsuri (edited)"


@pytest.mark.parametrize("edit,expect", [
    (lambda t: t.replace(",,1,0,scheduled,", ",,one,0,scheduled,"), "column 'Day'"),
    (lambda t: t.replace("scheduled", "sometimes", 1), "column 'Trigger'"),
    (lambda t: t.replace('"{""crisis_rung_at_least""', '"{oops', 1), "column 'Condition'"),
    (lambda t: t.replace("grey_zone", "teleport", 1), "teleport"),
    (lambda t: t.replace("Serial,", "Number,", 1), "missing columns"),
])
def test_bad_spreadsheet_rows_are_named(tmp_path, capsys, edit, expect):
    path = SCENARIOS_DIR / "senkaku.yaml"
    csv_path = tmp_path / "msel.csv"
    main(["msel", "export", str(path), "--csv", str(csv_path)])
    csv_path.write_text(edit(csv_path.read_text()))
    assert main(["msel", "import", str(path), "--csv", str(csv_path), "--out", str(tmp_path / "x.yaml")]) == 2
    err = capsys.readouterr().err
    assert expect in err and "Traceback" not in err and not (tmp_path / "x.yaml").exists()


def test_import_never_overwrites_the_input(tmp_path, capsys):
    src = tmp_path / "s.yaml"
    src.write_text((SCENARIOS_DIR / "senkaku.yaml").read_text())
    main(["msel", "export", str(src), "--csv", str(tmp_path / "m.csv")])
    assert main(["msel", "import", str(src), "--csv", str(tmp_path / "m.csv"), "--out", str(src)]) == 2
    assert "refusing to overwrite" in capsys.readouterr().err
