"""The developer guide's how-tos, run as written (``docs/dev/*.md``), and the README's Python examples.

Each worked example is a fenced block directly after a ``<!-- test: NAME -->`` comment; the
tests below take the blocks by name and do what the page tells a contributor to do: add the file
or the row, then compile, run and check. Nothing here edits the repository: actors, engine data
and scenarios are copied to a temporary folder, and code is added to a running (or a fresh)
interpreter, as if pasted into the module.
"""

from __future__ import annotations

import importlib
import json
import linecache
import os
import re
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pandas as pd
import pytest
import yaml

from sim.engine.ensemble import simulate
from sim.errors import InputError
from sim.inputs.catalogue import load_catalogue
from sim.inputs.compile import compile_scenario
from sim.inputs.library import DATA_DIR
from sim.names import ChannelStatus

ROOT = Path(__file__).resolve().parent.parent
DEV = ROOT / "docs" / "dev"
SENKAKU = ROOT / "scenarios" / "senkaku.yaml"
KOREA = ROOT / "scenarios" / "korean_peninsula.yaml"
PAPERS = Path(os.environ.get("CRISIS_SIM_PAPERS", ROOT.parent / "shared" / "seeds" / "000_78ff8fc81756eca7.txt"))
MARKED = re.compile(r"<!-- test: ([\w-]+) -->[ \t]*\n[ \t]*```[\w-]*\n(.*?)\n[ \t]*```", re.S)


def examples(page: Path) -> dict[str, str]:
    """The marked blocks of a page, by name, dedented (blocks inside list items are indented)."""
    found = MARKED.findall(page.read_text())
    names = [n for n, _ in found]
    assert len(set(names)) == len(names), f"{page.name}: a test marker is used twice"
    return {n: textwrap.dedent(b) + "\n" for n, b in found}


def fresh_python(code: str, env: dict[str, str] | None = None, cwd: Path = ROOT) -> dict:
    """Run ``code`` in a new interpreter (import-time registries are built anew); it prints JSON last."""
    r = subprocess.run([sys.executable, "-c", code], cwd=cwd, capture_output=True, text=True, timeout=120,
                       env={**os.environ, **(env or {})})
    assert r.returncode == 0, r.stderr[-3000:]
    return json.loads(r.stdout.strip().splitlines()[-1])


def norm(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


# =============================================================================== the pages themselves

_PATH = re.compile(r"`((?:sim|tests|docs|benchmarks|actors|scenarios|schemas|validation|sweeps|notebooks)/[\w./*<>-]+)")
_MODULE = re.compile(r"`(sim(?:\.\w+)+)")
NEW_IN_EXAMPLES = {"actors/rus.yaml"}  # files the how-tos create


def _resolves(dotted: str) -> bool:
    """``sim.a.b.name``: the longest module prefix exists and the rest are attributes of it."""
    parts = dotted.split(".")
    for n in range(len(parts), 0, -1):
        base = ROOT.joinpath(*parts[:n])
        if base.with_suffix(".py").exists() or (base / "__init__.py").exists():
            obj = importlib.import_module(".".join(parts[:n]))
            for attr in parts[n:]:
                if not hasattr(obj, attr):
                    return False
                obj = getattr(obj, attr)
            return True
    return False


PAGES = [*sorted(DEV.glob("*.md")), *sorted((ROOT / "docs").glob("*.md")), ROOT / "README.md", ROOT / "MODEL.md"]


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(ROOT)))
def test_architecture_names_real_files(page):
    """Every file path and ``sim.`` module the page names exists (no references to old modules)."""
    text = page.read_text()
    missing = []
    for p in sorted(set(_PATH.findall(text))):
        p = p.rstrip(".")
        if any(c in p for c in "*<") or p in NEW_IN_EXAMPLES:
            continue
        if not (ROOT / p).exists():
            missing.append(p)
    missing += [m for m in sorted(set(_MODULE.findall(text))) if not _resolves(m)]
    assert not missing, f"{page.name} names what does not exist: {missing}"


# =============================================================================== adding an actor


def test_adding_an_actor(tmp_path, capsys):
    ex = examples(DEV / "adding_an_actor.md")
    actors = tmp_path / "actors"
    shutil.copytree(ROOT / "actors", actors)
    (actors / "rus.yaml").write_text(ex["actor-posture"])
    scen = yaml.safe_load(KOREA.read_text())
    for key, items in yaml.safe_load(ex["actor-scenario"]).items():
        scen[key] = [*scen.get(key, []), *items]
    path = tmp_path / "korean_peninsula.yaml"
    path.write_text(yaml.safe_dump(scen, sort_keys=False, allow_unicode=True))

    # without the posture file, RUS is no actor: one line, exit 2, as the page shows
    from sim.cli import main

    assert main(["validate", str(path)]) == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err
    shown = next(line for line in ex["actor-error"].splitlines() if line.startswith("error:"))
    assert err.split(": ", 2)[2] == shown.split(": ", 2)[2]

    out = tmp_path / "out"
    code = textwrap.dedent(f"""
        import contextlib, io, json
        from sim.cli import main

        def cli(*argv):
            buf = io.StringIO()
            with contextlib.redirect_stdout(buf):
                rc = main(list(argv))
            return rc, buf.getvalue()

        scen, out = {str(path)!r}, {str(out)!r}
        validated = cli("validate", scen)
        ran = cli(scen, "--runs", "200", "--seed", "1", "--out", out, "--quiet", "--jobs", "1")
        postures = cli("postures")

        from sim.inputs.compile import compile_scenario
        from sim.inputs.jsonschema import schema_json
        from sim.inputs.library import ACTORS_DIR
        from sim.inputs.loader import load
        from sim.inputs.provenance import count, walk
        from sim.inputs.schema import Posture, Source
        from sim.names import ACTOR_IDS

        spec = compile_scenario(scen)
        i = spec.actor_index
        rel = spec.world.relation
        counts = [count(load(Posture, p)) for p in ACTORS_DIR.glob("*.yaml") if p.stem != "baseline"]
        rus = load(Posture, ACTORS_DIR / "rus.yaml")
        print(json.dumps({{
            "ids": list(ACTOR_IDS), "validated": validated, "ran": ran[0], "postures": postures,
            "camp": {{a: int(spec.dyads.camp[i(a)]) for a in spec.actor_ids}},
            "climate": spec.scenario.parameters.us_china_climate, "spill": spec.baseline.frame_spillover.value,
            "rel": {{b: float(rel[i("RUS"), i(b)]) for b in spec.actor_ids if b != "RUS"}},
            "pooled": sum(c.sourced for c in counts) / sum(c.total for c in counts),
            "locators": [s.locator for _, s in walk(rus) if isinstance(s, Source)],
            "posture_schema": schema_json("posture"),
        }}))
    """)
    got = fresh_python(code, env={"CRISIS_SIM_ACTORS": str(actors)})

    assert got["ids"] == ["US", "PRC", "JPN", "ROK", "DPRK", "TWN", "RUS"]  # the six in order, then the others
    assert got["validated"] == [0, f"{path}: ok (korean_peninsula, 6 actors, 5 injects)\n"]
    assert got["ran"] == 0
    runs = pd.read_parquet(out / "runs.parquet")
    assert len(runs) == 200 and {"icb_outcome_RUS", "conceded_RUS"} <= set(runs.columns)
    rc, listing = got["postures"]
    assert rc == 0 and re.search(r"^RUS\s+1\s+4\s+20%$", listing, re.M)

    # camp: RUS sits with the PRC, and the US-China frame spills into its cross-camp dyads only
    assert got["camp"]["RUS"] == got["camp"]["PRC"] == got["camp"]["DPRK"] == 1
    assert got["camp"]["US"] == got["camp"]["JPN"] == got["camp"]["ROK"] == 0
    frame = got["spill"] * got["climate"]
    assert got["rel"]["US"] == pytest.approx(-0.4 + frame)
    assert got["rel"]["JPN"] == pytest.approx(frame) and got["rel"]["ROK"] == pytest.approx(frame)
    assert got["rel"]["PRC"] == 0.0 and got["rel"]["DPRK"] == 0.0

    # provenance: shipping this file would keep tests/test_postures.py passing
    assert got["pooled"] >= 0.8, "the example posture would break the pooled 80% rule"
    assert got["locators"], "a shipped posture must cite at least one passage"
    if PAPERS.exists():
        text = norm(PAPERS.read_text(encoding="utf-8"))
        for loc in got["locators"] + [s["locator"] for s in yaml.safe_load(ex["actor-scenario"])["sources"]]:
            assert norm(loc) in text, f"not verbatim in the papers: {loc!r}"
    # the published schemas must be regenerated (run_sim.py schema): they list the actor ids
    assert '"RUS"' in got["posture_schema"]
    assert got["posture_schema"] != (ROOT / "schemas" / "posture.schema.json").read_text()


# =============================================================================== adding an action


def test_adding_an_action(tmp_path):
    ex = examples(DEV / "adding_an_action.md")
    data = tmp_path / "data"
    shutil.copytree(DATA_DIR, data)
    with (data / "actions.yaml").open("a") as f:
        f.write(textwrap.indent(ex["action-row"], "  "))
    cat = load_catalogue(str(data))
    assert cat.actions[-1].id == "expel_diplomats" and cat.folder == data

    spec = compile_scenario(SENKAKU, catalogue=cat)
    k = cat.action_index("expel_diplomats")
    assert not (spec.options.action == k).any()  # in no actor's repertoire yet: nobody takes it
    entry = {"weight": 1.0, "history": "Japan expelled a Chinese diplomat over espionage (May 2012)."}
    spec = compile_scenario(SENKAKU, [("postures.JPN.repertoire.expel_diplomats", entry)], catalogue=cat)
    assert (spec.options.action[spec.actor_index("JPN")] == k).any()
    assert spec.file_hashes["catalogue"] != compile_scenario(SENKAKU).file_hashes["catalogue"]
    res = simulate(spec, 1, 500)
    assert len(res.runs) == 500 and (res.events.action == "expel_diplomats").any()

    bad = tmp_path / "bad"
    shutil.copytree(DATA_DIR, bad)
    with (bad / "actions.yaml").open("a") as f:
        f.write(textwrap.indent(ex["action-row"].replace("mid_hostility: 1", "mid_hostility: 2"), "  "))
    with pytest.raises(InputError) as e:
        load_catalogue(str(bad))
    shown = ex["action-error"].strip().removeprefix("error: ")
    assert str(e.value) == shown.replace("sim/data/actions.yaml", str(bad / "actions.yaml"))


def test_every_action_effect_reaches_the_action_table():
    """A new kind of effect is a schema field AND an ActionTable column of the same name (no dead data)."""
    from dataclasses import fields

    from sim.inputs.schema import ActionEffects
    from sim.inputs.spec import ActionTable

    columns = {f.name for f in fields(ActionTable)}
    assert set(ActionEffects.model_fields) <= columns, set(ActionEffects.model_fields) - columns


# =============================================================================== adding a channel


def test_adding_a_channel(tmp_path):
    ex = examples(DEV / "adding_a_channel.md")
    data = tmp_path / "data"
    shutil.copytree(DATA_DIR, data)
    with (data / "channels.yaml").open("a") as f:
        f.write(textwrap.indent(ex["channel-row"], "  "))
    cat = load_catalogue(str(data))
    scen = yaml.safe_load(SENKAKU.read_text())
    lever = yaml.safe_load(ex["channel-lever"])[0]
    scen["levers"].append(lever)
    path = tmp_path / "senkaku.yaml"
    path.write_text(yaml.safe_dump(scen, sort_keys=False, allow_unicode=True))

    base = compile_scenario(path, catalogue=cat)
    c = base.channel_ids.index("jpn_prc_coast_guard")
    assert base.channels.status0[c] == ChannelStatus.NOT_OPERATIONAL
    on = compile_scenario(path, levers=["coast_guard_line"], catalogue=cat)
    assert on.channels.status0[c] == ChannelStatus.OPEN
    assert on.scenario.levers[-1].model_disagrees  # documented: the model does not show the effect

    off_runs = simulate(base, 1, 200, events=False).runs
    on_runs = simulate(on, 1, 200, events=False).runs
    assert off_runs["tried_jpn_prc_coast_guard"].sum() == 0 == off_runs["answered_jpn_prc_coast_guard"].sum()
    assert on_runs["tried_jpn_prc_coast_guard"].sum() > 0 and on_runs["answered_jpn_prc_coast_guard"].sum() > 0


# =============================================================================== adding a measure


def test_adding_a_measure(tmp_path):
    ex = examples(DEV / "adding_a_measure.md")
    entry = textwrap.indent(ex["measure-entry"], "    ")
    lever = yaml.safe_load(ex["measure-lever"])[0]
    scen = yaml.safe_load(SENKAKU.read_text())
    scen["levers"].append(lever)
    path = tmp_path / "senkaku.yaml"
    path.write_text(yaml.safe_dump(scen, sort_keys=False, allow_unicode=True))
    code = textwrap.dedent(f"""
        import importlib.util, json, sys
        from pathlib import Path
        import sim.experiments

        # measures.py with the entry added, as if edited, imported before anything reads the registry
        file = Path(sim.experiments.__file__).with_name("measures.py")
        src = file.read_text()
        assert src.count("_ALL = (\\n") == 1
        src = src.replace("_ALL = (\\n", "_ALL = (\\n" + {entry!r})
        spec = importlib.util.spec_from_loader("sim.experiments.measures", loader=None, origin=str(file))
        module = importlib.util.module_from_spec(spec)
        module.__file__ = str(file)
        sys.modules[spec.name] = module
        exec(compile(src, str(file), "exec"), module.__dict__)

        from sim import analysis as an
        from sim.engine.ensemble import simulate
        from sim.inputs.compile import compile_scenario
        from sim.inputs.jsonschema import schema_json
        from sim.inputs.schema import Claim

        claim = Claim.model_validate({{
            "id": "x", "claim": 1, "title": "x", "source": {{"paper": "p", "locator": "l"}},
            "scenario": "scenarios/senkaku.yaml", "condition": {{"levers": ["coast_guard_rules"]}},
            "measure": "casualties", "expect": "lower"}})
        spec = compile_scenario({str(path)!r})
        runs = simulate(spec, 1, 200, events=False).runs
        table = an.measure_table(runs)
        study = an.lever_study({str(path)!r}, runs=200, seed=1, levers=["coast_guard_rules_casualties"])
        print(json.dumps({{
            "lever": spec.scenario.levers[-1].measure, "claim": claim.measure,
            "label": table.loc["casualties", "label"],
            "p": float(table.loc["casualties", "share"]), "expected_p": float((runs["casualty_incidents"] > 0).mean()),
            "study": study.loc["coast_guard_rules_casualties", "measure"],
            "schema": json.loads(schema_json("scenario"))["$defs"]["Lever"]["properties"]["measure"]["enum"],
        }}))
    """)
    got = fresh_python(code)
    assert got["lever"] == got["claim"] == got["study"] == "casualties"
    assert got["label"] == "an incident that cost lives"
    assert got["p"] == pytest.approx(got["expected_p"])
    published = json.loads((ROOT / "schemas" / "scenario.schema.json").read_text())
    assert "casualties" in got["schema"]  # so the published schemas/scenario.schema.json must be regenerated
    assert "casualties" not in published["$defs"]["Lever"]["properties"]["measure"]["enum"]


def test_a_measure_added_at_run_time_is_not_in_the_schemas(monkeypatch):
    """The truth the page states: the registry is read at import. Named explicitly, a measure put into
    MEASURES at run time is found; lever files and the default lists do not know it."""
    from pydantic import ValidationError

    from sim import analysis as an
    from sim.experiments import measures
    from sim.inputs.schema import Lever

    ex = examples(DEV / "adding_a_measure.md")
    m = eval(ex["measure-entry"].strip().rstrip(","), vars(measures))
    monkeypatch.setitem(measures.MEASURES, m.name, m)
    runs = simulate(compile_scenario(SENKAKU), 1, 200, events=False).runs
    assert list(an.measure_table(runs, ["casualties"]).index) == ["casualties"]
    assert "casualties" not in an.measure_table(runs).index
    with pytest.raises(ValidationError, match="casualties"):
        Lever.model_validate(yaml.safe_load(ex["measure-lever"])[0])


# =============================================================================== adding a view


def _paste(module, code: str, monkeypatch) -> dict:
    """Run ``code`` in the module's namespace and add what it defines to the module (for this test)."""
    ns = dict(vars(module))
    filename = f"<docs/dev example for {module.__name__}>"
    linecache.cache[filename] = (len(code), None, code.splitlines(True), filename)  # so inspect finds the source
    exec(compile(code, filename, "exec"), ns)
    new = {k: v for k, v in ns.items() if k not in vars(module)}
    for name, value in new.items():
        monkeypatch.setattr(module, name, value, raising=False)
    return ns


def _html_of(widget) -> list[str]:
    """The HTML of every solara.HTML widget under a rendered widget tree."""
    found = [widget.unsafe_innerHTML] if hasattr(widget, "unsafe_innerHTML") else []
    for child in getattr(widget, "children", None) or ():
        if not isinstance(child, str):
            found += _html_of(child)
    return found


def test_adding_a_view(tmp_path, monkeypatch):
    from sim.workshop import render, server, views
    from sim.workshop.session import Session

    ex = examples(DEV / "adding_a_view.md")
    _paste(views, ex["view-model"], monkeypatch)
    _paste(render, ex["view-render"], monkeypatch)

    # the redaction pattern of tests/test_workshop.py: a secret move, a hybrid seat, unreleased injects
    s = Session.create(tmp_path / "press", SENKAKU, seed=4, seats={"JPN": "human", "PRC": "hybrid"})
    s.start_move()
    s.release("S1")
    s.set_phase("submission")
    s.submit("JPN", "coast_guard_patrol", "PRC", public=False, rationale="SECRET-RATIONALE-JPN")
    prop = s.advice("PRC")["draw"]
    s.submit("PRC", prop["action"], prop["target"])
    s.submit_ai()
    s.set_phase("adjudication")
    s.resolve()
    s.start_move()
    spec = s.state.spec
    released = {r["id"] for r in s.state.released}
    forbidden = [i.title for i in spec.scenario.injects if i.id not in released]
    forbidden += [i.controller_note for i in spec.scenario.injects if i.controller_note]
    forbidden += [i.expected_action for i in spec.scenario.injects if i.expected_action]
    forbidden += ["SECRET-RATIONALE-JPN", "Coast-guard patrols in contested waters", "controller",
                  "drivers", "restraint", "AI proposes", "AI adviser"]
    page = render.press_room_html(s)
    for text in forbidden:
        assert text not in page, f"the press room shows {text!r}"
    assert "Coast-guard collision near Uotsuri" in page  # what the page is for: the public news
    assert page.startswith("<!doctype html>")

    solara = pytest.importorskip("solara")
    from sim.workshop import app

    ns = _paste(app, ex["view-component"], monkeypatch)
    monkeypatch.setattr(server, "_session", s)
    box, rc = solara.render(ns["PressRoom"](), handle_error=False)
    try:
        shown = "".join(_html_of(box))
    finally:
        rc.close()
    assert "Coast-guard collision near Uotsuri" in shown and "SECRET-RATIONALE-JPN" not in shown


# =============================================================================== the public API and the README


def test_public_api_is_lazy():
    got = fresh_python(textwrap.dedent("""
        import json, sys
        import sim
        heavy = ("numpy", "pandas", "pyarrow", "pydantic", "yaml", "mesa")
        before = sorted(m for m in heavy if m in sys.modules)
        names = {n: getattr(sim, n).__module__ for n in sim.__all__}
        from sim import analysis as an
        try:
            sim.no_such_name
            missing = "no error"
        except AttributeError as exc:
            missing = str(exc)
        print(json.dumps({"before": before, "names": names, "an": an.__name__, "missing": missing,
                          "dir": sorted(set(sim.__all__) - set(dir(sim)))}))
    """))
    assert got["before"] == []  # import sim loads nothing heavy
    assert got["names"] == {
        "Condition": "sim.inputs.condition", "InputError": "sim.errors", "Session": "sim.workshop.session",
        "compile_scenario": "sim.inputs.compile", "load_results": "sim.analysis.results",
        "perform": "sim.experiments.perform", "run_job": "sim.experiments.jobs", "run_sweep": "sim.experiments.jobs",
        "simulate": "sim.engine.ensemble"}
    assert got["an"] == "sim.analysis" and "no_such_name" in got["missing"] and got["dir"] == []


def test_help_imports_nothing_heavy():
    code = ("import sys, runpy; sys.argv = ['run_sim.py', '--help']\n"
            "try:\n    runpy.run_path('run_sim.py', run_name='__main__')\nexcept SystemExit:\n    pass\n"
            "import json; print(json.dumps(sorted(m for m in ('numpy', 'pandas', 'pyarrow', 'mesa', 'pydantic', 'yaml')"
            " if m in sys.modules)))")
    r = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout.strip().splitlines()[-1]) == []


def test_readme_imports_resolve():
    """Every ``from sim... import name`` in the README's Python blocks (run or not) names something real."""
    import ast

    blocks = re.findall(r"```python\n(.*?)```", (ROOT / "README.md").read_text(), flags=re.S)
    assert blocks
    bad = [f"{node.module}.{a.name}" for block in blocks for node in ast.walk(ast.parse(block))
           if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("sim")
           for a in node.names if not _resolves(f"{node.module}.{a.name}")]
    assert not bad, bad


README_EXAMPLES = examples(ROOT / "README.md")
#: Blocks that read the README's results folder (results/senkaku/): run beside a small one made for them.
READS_RESULTS = {"readme-read-runs", "readme-events-columns"}


def test_readme_shows_reading_only_the_columns_needed():
    """The event log in pandas is big: the README shows reading a few columns, and DuckDB filtering first."""
    assert READS_RESULTS.issubset(README_EXAMPLES)
    block = README_EXAMPLES["readme-events-columns"]
    assert 'pd.read_parquet("results/senkaku/events.parquet",' in block and "columns=[" in block
    assert "WHERE" in block and ".df()" in block


@pytest.fixture(scope="module")
def senkaku_results(tmp_path_factory) -> Path:
    """A folder holding results/senkaku/ as the README's command writes it (fewer runs)."""
    from sim.experiments.jobs import run_job

    where = tmp_path_factory.mktemp("readme")
    run_job(SENKAKU, 300, 7, where / "results" / "senkaku", jobs=1)
    return where


@pytest.mark.parametrize("name", sorted(README_EXAMPLES))
def test_readme_example_runs(name, monkeypatch, request):
    """README blocks marked ``<!-- test: ... -->`` run as written, from the repository root (or, for
    those reading results, from a folder with results/senkaku/)."""
    monkeypatch.chdir(request.getfixturevalue("senkaku_results") if name in READS_RESULTS else ROOT)
    ns: dict = {}
    exec(compile(README_EXAMPLES[name], f"README:{name}", "exec"), ns)
    if name == "readme-events-columns":
        assert list(ns["ev"].columns) == ["run", "turn", "actor", "action", "rung_realised", "mid_hostility"]
        assert list(ns["force"].columns) == ["run", "turn", "actor", "action", "rung_realised_index"]
        assert (ns["force"].rung_realised_index.notna()).all() and ns["moves"].n.sum() == len(ns["ev"])
    if "res" in ns and isinstance(ns["res"], dict):
        assert all(len(r.runs) > 0 for r in ns["res"].values())
    if "m" in ns:
        assert not ns["m"].running and len(ns["m"].runs_row()) == 1
