"""README's speed figures are BENCHMARKS.md's (both written by benchmarks/make_doc.py from saved output)."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BEGIN, END = "<!-- speed:begin (benchmarks/make_doc.py) -->", "<!-- speed:end -->"


def test_readme_speed_paragraph_is_the_one_in_benchmarks():
    readme = (ROOT / "README.md").read_text()
    assert BEGIN in readme and END in readme
    para = readme.split(BEGIN)[1].split(END)[0].strip()
    assert para, "run python benchmarks/make_doc.py"
    assert para in (ROOT / "BENCHMARKS.md").read_text()
