"""HTML reports: every section present, figures embedded, self-contained; the CLI commands."""

from __future__ import annotations

import base64
import re

import pytest

from sim.analysis import report
from sim.cli import main

RUNS = 400


@pytest.fixture(scope="module")
def results(tmp_path_factory):
    """Two results directories written by the CLI: default settings and a lever (same seed)."""
    root = tmp_path_factory.mktemp("results")
    a, b = root / "default", root / "lever"
    assert main(["scenarios/senkaku.yaml", "--runs", str(RUNS), "--seed", "5", "--out", str(a), "--quiet"]) == 0
    assert main(["scenarios/senkaku.yaml", "--runs", str(RUNS), "--seed", "5", "--out", str(b), "--quiet",
                 "--lever", "cooperative_frame"]) == 0
    return a, b


def sections(text: str) -> dict[str, str]:
    found = re.findall(r'<section id="([a-z_]+)">(.*?)</section>', text, flags=re.S)
    return dict(found)


def check_self_contained(text: str) -> None:
    assert text.startswith("<!DOCTYPE html>") and text.rstrip().endswith("</html>")
    assert not re.search(r'(src|href)="(https?:|//)', text), "external resource"
    imgs = re.findall(r'src="data:image/png;base64,([^"]+)"', text)
    assert imgs
    for data in imgs:
        assert base64.b64decode(data)[:8] == b"\x89PNG\r\n\x1a\n"


def test_report_has_every_section(results):
    out = report.build_report(results[0], lever_runs=300)
    assert out == results[0] / "report.html"
    text = out.read_text()
    check_self_contained(text)
    found = sections(text)
    assert list(found) == [sid for sid, _ in report.REPORT_SECTIONS]
    for sid, body in found.items():
        assert len(body) > 200, sid
    assert found["outcomes"].count("<img") >= 1 and "use of force (MID 4+)" in found["outcomes"]
    for sid in ("peaks", "escalation", "timing", "paths", "transitions", "levers"):
        assert "<img" in found[sid], sid
    assert "Kaplan" in found["timing"] and "status_quo" in found["paths"]
    levers = found["levers"]
    for lever in ("coast_guard_rules", "cooperative_frame", "validated_mechanisms"):
        assert lever in levers
    assert '"seed": 5' in found["manifest"] or "&quot;seed&quot;: 5" in found["manifest"]


def test_report_without_levers_and_escaping(results, tmp_path):
    out = report.build_report(results[1], tmp_path / "r.html", lever_runs=0, title="<b>A & B</b>")
    text = out.read_text()
    assert "&lt;b&gt;A &amp; B&lt;/b&gt;" in text and "<b>A & B</b>" not in text
    assert "switched off" in sections(text)["levers"]


def test_compare_report(results, tmp_path):
    out = report.build_compare(results[0], results[1], tmp_path / "c.html")
    text = out.read_text()
    check_self_contained(text)
    found = sections(text)
    assert list(found) == [sid for sid, _ in report.COMPARE_SECTIONS]
    assert "cooperative_frame" in found["settings"] and "risk ratio" in found["measures"]
    assert found["measures"].count("<tr>") >= 8  # header + seven measures


def test_cli_report_and_compare(results, tmp_path, capsys):
    out = tmp_path / "cli.html"
    assert main(["report", str(results[0]), "--out", str(out), "--lever-runs", "0"]) == 0
    assert out.exists() and "wrote" in capsys.readouterr().out
    assert main(["compare", str(results[0]), str(results[1]), "--out", str(tmp_path / "cmp.html"),
                 "--labels", "baseline", "cooperative"]) == 0
    assert "baseline" in (tmp_path / "cmp.html").read_text()
    assert main(["report", str(tmp_path / "nowhere")]) == 2
    assert "not a results directory" in capsys.readouterr().err
