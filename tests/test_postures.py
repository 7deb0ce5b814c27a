"""Postures: valid, sourced, and describing what each state does.

Every sourced value's locator occurs verbatim in the papers; most values rest on a paper passage or
on the dated historical record; no default value rests on a recommendation or an accusation; every
state has a repertoire drawn from its record, whose actions and declared answers are catalogue
actions it can take; and the moves no government would make are absent.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
import yaml
from pydantic import BaseModel

from sim.errors import InputError
from sim.inputs.catalogue import load_catalogue
from sim.inputs.compile import check_postures, compile_scenario
from sim.inputs.library import ACTORS_DIR, SCENARIOS_DIR, VALIDATION_DIR
from sim.inputs.loader import load
from sim.inputs.provenance import reference, walk
from sim.inputs.schema import Baseline, Posture, Provenanced, ScenarioFile, Source, Value
from sim.names import ACTOR_IDS

ROOT = Path(__file__).resolve().parent.parent
PAPERS = Path(os.environ.get("CRISIS_SIM_PAPERS", ROOT.parent / "shared" / "seeds" / "000_78ff8fc81756eca7.txt"))
FILES = sorted(p for p in Path(ACTORS_DIR).glob("*.yaml") if p.name != "baseline.yaml")
SCENARIO_FILES = sorted(SCENARIOS_DIR.glob("*.yaml")) + sorted((VALIDATION_DIR / "scenarios").glob("*.yaml"))


def norm(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


@pytest.fixture(scope="module")
def source_text():
    if not PAPERS.exists():
        pytest.skip(f"papers not found at {PAPERS} (set CRISIS_SIM_PAPERS)")
    return norm(PAPERS.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def postures() -> dict[str, Posture]:
    return {p.stem.upper(): load(Posture, p) for p in FILES}


@pytest.fixture(scope="module")
def catalogue():
    return load_catalogue()


def provenanced(obj, path: str = "", variants: bool = False):
    """(dotted path, node) for every value with provenance (values and repertoire entries), by default
    outside the variants: what the default posture rests on."""
    if isinstance(obj, Provenanced):
        yield path, obj
    if isinstance(obj, BaseModel):
        for k in type(obj).model_fields:
            if k == "variants" and not variants:
                continue
            yield from provenanced(getattr(obj, k), f"{path}.{k}".lstrip("."), variants)
    elif isinstance(obj, dict):
        for k, v in obj.items():
            yield from provenanced(v, f"{path}.{k}", variants)
    elif isinstance(obj, list | tuple):
        for i, v in enumerate(obj):
            yield from provenanced(v, f"{path}.{i}", variants)


def sourced_share(posture: Posture) -> tuple[int, int]:
    """Values and repertoire entries resting on a paper passage or on the historical record, of all."""
    nodes = [n for _, n in provenanced(posture)]
    return sum(n.source is not None or n.history is not None for n in nodes), len(nodes)


# --------------------------------------------------------------------------- files and provenance


def test_every_actor_has_a_posture():
    assert {p.stem for p in FILES} == {a.lower() for a in ACTOR_IDS} >= {"us", "prc", "jpn", "rok", "dprk", "twn"}


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.stem)
def test_posture_validates_and_locators_are_verbatim(path, source_text):
    posture = load(Posture, path)
    sources = [s for _, s in walk(posture) if isinstance(s, Source)]
    assert sources
    for s in sources:
        assert norm(s.locator) in source_text, f"{path.name}: locator not in papers: {s.locator!r}"
        assert len(s.locator.split()) <= 15


def test_baseline_locators_are_verbatim(source_text):
    base = load(Baseline, ACTORS_DIR / "baseline.yaml")
    for _, s in walk(base):
        if isinstance(s, Source):
            assert norm(s.locator) in source_text


def test_unknown_posture_keys_are_errors(tmp_path):
    text = (ACTORS_DIR / "us.yaml").read_text() + "\nmood: cheerful\n"
    p = tmp_path / "us.yaml"
    p.write_text(text)
    with pytest.raises(InputError, match="mood: unknown field"):
        load(Posture, p)


def test_a_red_line_names_an_action_or_an_incident():
    from pydantic import ValidationError

    from sim.inputs.schema import RedLine

    base = {"by": "PRC", "threat": {"value": 0.1, "assumption": "test"}, "description": "x"}
    assert RedLine(**base, incident="collision").trigger == "collision"
    assert RedLine(**base, action="seizure").trigger == "seizure"
    for bad in ({}, {"action": "seizure", "incident": "collision"}):
        with pytest.raises(ValidationError, match="an 'action' or an 'incident'"):
            RedLine(**base, **bad)
    with pytest.raises(ValidationError):
        RedLine(**base, incident="meteor")
    with pytest.raises(ValidationError, match="at least 1 item"):  # [] was read as "nowhere" and "everywhere"
        RedLine(**base, action="seizure", flashpoints=[])
    line = RedLine(**base, action="seizure", flashpoints=["east_china_sea"])
    assert line.holds_at("east_china_sea") and not line.holds_at("korean_peninsula")
    assert RedLine(**base, action="seizure").holds_at("korean_peninsula")
    schema = RedLine.model_json_schema()  # the published schema says it too, not only the loader
    assert schema["oneOf"] == [{"required": ["action"]}, {"required": ["incident"]}]


def test_value_needs_exactly_one_provenance():
    with pytest.raises(ValueError):
        Value.model_validate({"value": 1.0})
    with pytest.raises(ValueError):
        Value.model_validate({"value": 1.0, "assumption": "x",
                              "source": {"paper": "p", "locator": "l", "implies": "i"}})
    with pytest.raises(ValueError):
        Value.model_validate({"value": 1.0, "assumption": "x", "history": "Yeonpyeong 2010"})
    with pytest.raises(ValueError, match="15 words"):
        Source.model_validate({"paper": "p", "locator": " ".join(["w"] * 16), "implies": "i"})


def test_mostly_sourced(postures):
    """>= 80% of the default postures' values and repertoire entries rest on a paper passage or on the
    dated record (not on an assumption); no actor below 75%."""
    shares = {a: sourced_share(p) for a, p in postures.items()}
    sourced, total = sum(s for s, _ in shares.values()), sum(n for _, n in shares.values())
    assert total > 250
    assert sourced / total >= 0.8, f"{sourced}/{total}"
    for actor, (s, n) in shares.items():
        assert s / n >= 0.75, f"{actor}: {s}/{n}"


def test_history_names_its_dates(postures):
    """A history provenance is a dated record ('Yeonpyeong, 23 Nov 2010 ...'), not a general claim."""
    for actor, p in postures.items():
        for path, node in provenanced(p, variants=True):
            if node.history is not None:
                assert re.search(r"\b(19|20)\d\d\b", node.history), f"{actor} {path}: no year in {node.history!r}"


def test_every_posture_describes_2020(postures):
    for actor, p in postures.items():
        assert p.as_of == 2020, actor


def test_posture_reference_is_current():
    path = ROOT / "docs" / "postures.md"
    expected = reference(markdown=True)
    assert path.read_text() == expected, "run: python run_sim.py postures --markdown"


def test_capabilities_are_dated(postures):
    """Capabilities whose existence changed carry the year they began, with the record."""
    def since(actor: str, cap: str) -> int | None:
        for c in postures[actor].capabilities:
            if not isinstance(c, str) and c.id == cap:
                assert c.history, f"{actor} {cap}: no record given"
                return c.since
        return None

    assert since("US", "nuclear") == 1945
    assert since("PRC", "nuclear") == 1964
    assert since("DPRK", "nuclear") == since("DPRK", "nuclear_test") == 2006
    assert since("DPRK", "long_range_missiles") is not None and since("DPRK", "long_range_missiles") <= 2017
    assert "nuclear" not in postures["DPRK"].capability_ids(2005) and "nuclear" in postures["DPRK"].capability_ids(2006)
    for actor in ("JPN", "ROK", "TWN"):
        assert not {"nuclear", "nuclear_test"} & postures[actor].capability_ids(2020), actor


# --------------------------------------------------------------------------- description, not prescription


def test_no_default_value_rests_on_a_recommendation_or_an_accusation(postures):
    """An author's prescription or another side's accusation is not what the state does: such passages
    belong to a named variant (or a scenario lever), never to the default posture."""
    for actor, p in postures.items():
        check_postures({actor: p}, p.as_of, "test", [])
        for path, node in provenanced(p):
            if node.source is not None:
                assert node.source.kind == "describes", f"{actor} {path}: {node.source.kind} in the default"


def test_prescriptions_named_by_the_review_are_variants(postures):
    assert postures["JPN"].variants["refrains"].source.kind == "recommends"  # Bader: Japan should avoid ...
    assert "sovereignty_assertion" in postures["JPN"].repertoire  # the 2012 step stays possible
    assert postures["ROK"].variants["conservative"].source.kind == "recommends"  # Kim, not the Moon government
    assert "sanctions_relief" not in postures["ROK"].affinity
    assert postures["PRC"].variants["stabilising"].source.kind == "recommends"  # Zhang's channel priority
    assert postures["PRC"].weights["channel"].history is not None
    assert postures["US"].variants["taiwan_card"].source.kind == "accuses"  # Zhang's reading of Washington
    assert "official_contact" not in postures["US"].affinity


def _with_recommendation_in_default(tmp_path: Path) -> Path:
    data = yaml.safe_load((ACTORS_DIR / "jpn.yaml").read_text())
    data["affinity"]["sovereignty_assertion"] = {
        "value": -0.6,
        "source": {"paper": "Bader, NCAFP Quadrilateral Videoconference",
                   "locator": "Japan should avoid unilateral steps that alter the situation on the islands",
                   "implies": "Unilateral steps are avoided.", "kind": "recommends"}}
    path = tmp_path / "jpn.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True))
    return path


def test_compiler_refuses_a_recommendation_in_the_default(tmp_path):
    posture_file = _with_recommendation_in_default(tmp_path)
    with pytest.raises(InputError, match="recommendation"):
        check_postures({"JPN": load(Posture, posture_file)}, 2020, "test", [])
    scen = yaml.safe_load((SCENARIOS_DIR / "senkaku.yaml").read_text())
    assert scen["actors"][0]["id"] == "JPN"
    scen["actors"][0]["posture"] = posture_file.name
    scen_file = tmp_path / "senkaku.yaml"
    scen_file.write_text(yaml.safe_dump(scen, sort_keys=False, allow_unicode=True))
    with pytest.raises(InputError, match=re.escape("affinity.sovereignty_assertion: rests on a recommendation")):
        compile_scenario(scen_file)


@pytest.mark.parametrize("path", sorted(SCENARIOS_DIR.glob("*.yaml")), ids=lambda p: p.stem)
def test_every_variant_compiles(path, postures):
    """Each actor's variants, and each lever, can be selected in every shipped scenario with that actor
    (a variant whose values cite a `recommends` passage would be refused once applied)."""
    scen = load(ScenarioFile, path)
    for i, sa in enumerate(scen.actors):
        for name in postures[sa.id].variants:
            compile_scenario(path, [(f"actors.{i}.variant", name)])
    for lever in scen.levers:
        compile_scenario(path, levers=[lever.id])


# --------------------------------------------------------------------------- repertoires


def test_every_posture_has_a_repertoire(postures):
    for actor, p in postures.items():
        assert p.repertoire, f"{actor} has no repertoire"


def test_repertoires_and_answers_are_actions_the_state_can_take(postures, catalogue):
    ids = {a.id: a for a in catalogue.actions}
    for actor, p in postures.items():
        held = p.capability_ids(p.as_of)
        for act in p.repertoire:
            assert act in ids, f"{actor}: repertoire names unknown action {act!r}"
            rq = ids[act].requires
            assert rq.actors is None or actor in rq.actors, f"{actor}: the catalogue never lets it take {act}"
            assert rq.capability is None or rq.capability in held, f"{actor}: {act} needs {rq.capability}"
        for rl in p.red_lines:
            assert rl.action is None or rl.action in ids, f"{actor}: red line on unknown action {rl.action!r}"
            assert rl.response, f"{actor}: red line {rl.by}:{rl.trigger} has no declared answer"
            for r in rl.response:
                assert r in ids, f"{actor}: unknown answer {r!r}"
                assert r in p.repertoire, f"{actor}: answer {r} to {rl.by}:{rl.trigger} is not in its repertoire"
        for key in p.affinity:
            if key in ids:
                assert key in p.repertoire, f"{actor}: affinity for {key}, which it never takes"


def test_scripted_moves_are_in_the_repertoire(postures):
    """Injects may only force, or shift the preference for, moves the state does."""
    for path in SCENARIO_FILES:
        for inj in load(ScenarioFile, path).injects:
            fa = inj.effects.force_action
            if fa is not None:
                assert fa.action in postures[fa.actor].repertoire, f"{path.name}:{inj.id}: {fa.actor} {fa.action}"
            for sh in inj.effects.affinity:
                assert sh.action in postures[sh.actor].repertoire, f"{path.name}:{inj.id}: {sh.actor} {sh.action}"


#: Moves no government would make (domain review, sections 0 and 4), with the reason.
NEVER = [
    ("TWN", "recall_ambassador", "Taipei has no ambassador in Beijing"),
    ("TWN", "sanctions", "Taipei does not coerce the market that takes over 40% of its exports"),
    ("TWN", "missile_test", "no declared ballistic missiles; Jiupeng firings are trials, not signals"),
    ("US", "missile_test", "no US ballistic-missile launch as a signal; a Minuteman III test was postponed in 2022"),
    ("US", "unsafe_intercept", "US crews fly under CUES and the 2014 MOUs"),
    ("PRC", "sanctions_relief", "Beijing never declares its coercion, so it has nothing to lift step for step"),
    ("PRC", "request_mediation", "Beijing rejects third parties in its disputes"),
    ("JPN", "missile_test", "Japan has no ballistic missiles"),
    ("DPRK", "humanitarian_offer", "Pyongyang rejects aid without relief"),
    ("DPRK", "recall_ambassador", "no ambassador in Seoul, Washington or Tokyo"),
]


@pytest.mark.parametrize("actor,action,why", NEVER, ids=[f"{a}:{b}" for a, b, _ in NEVER])
def test_implausible_moves_are_absent(postures, actor, action, why):
    assert action not in postures[actor].repertoire, why


def test_rok_fires_only_in_answer(postures):
    """The ROK has never struck first since 1953: a strike is its declared answer to a DPRK strike,
    otherwise held back (negative affinity), and never the answer to anything else."""
    rok = postures["ROK"]
    assert rok.affinity["limited_strike"].value < 0
    answers = {(rl.by, rl.action) for rl in rok.red_lines if "limited_strike" in rl.response}
    assert answers == {("DPRK", "limited_strike")}
    assert "major_strike" not in {r for rl in rok.red_lines for r in rl.response}


def test_dprk_test_tempo_fits_2020(postures, catalogue):
    """2020: short-range tests a few a month at most, long-range rare, a nuclear test rarer still."""
    rep, aff = postures["DPRK"].repertoire, postures["DPRK"].affinity
    rung = catalogue.actions[catalogue.action_index("nuclear_test")].rung
    mates = [a.id for a in catalogue.actions if a.rung == rung and a.id in rep]
    assert rep["nuclear_test"].per_year <= 1
    assert rep["nuclear_test"].weight <= 0.25 * max(rep[m].weight for m in mates if m != "nuclear_test")
    assert aff["nuclear_test"].value < 0 and aff["long_range_test"].value < 0
    assert rep["long_range_test"].per_year <= 5
    assert rep["missile_test"].per_year <= 40
