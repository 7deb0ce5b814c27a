"""Self-contained HTML reports over results directories (``run_sim.py report`` / ``compare``).

One HTML file, no external resources: figures are embedded as base64 PNG, styles inline,
every text taken from scenario files or manifests is escaped. ``build_report`` describes
one ensemble (scenario summary, outcomes, peaks, escalation over time, time to use of
force, paths, transitions, who crosses the threshold first and why, channels, per-actor
outcomes, levers, manifest); ``build_compare`` sets two ensembles (e.g. two lever
settings) side by side with differences, risk ratios and their intervals.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sim import analysis as an
from sim.analysis.html import esc, figure_html
from sim.inputs.condition import Condition, apply
from sim.inputs.schema import MODEL_DISAGREES_NOTE, ScenarioFile
from sim.names import ICB_OUTCOMES

CSS = """
body { font-family: system-ui, -apple-system, 'Segoe UI', Roboto, 'Helvetica Neue', Arial, sans-serif;
       max-width: 1100px; margin: 2em auto; padding: 0 1.2em; color: #1a1a1a; line-height: 1.45; font-size: 16px; }
h1 { font-size: 1.9em; margin-bottom: 0.2em; }
h2 { font-size: 1.45em; border-bottom: 2px solid #0072B2; padding-bottom: 0.15em; margin-top: 2.2em; }
h3 { font-size: 1.15em; margin-top: 1.4em; }
.meta { color: #555; font-size: 0.95em; }
nav ol { columns: 2; font-size: 0.95em; }
table { border-collapse: collapse; margin: 0.8em 0; font-size: 0.92em; }
th, td { border: 1px solid #ccc; padding: 0.25em 0.6em; text-align: right; vertical-align: top; }
th { background: #f0f4f8; }
td:first-child, th:first-child { text-align: left; }
td.text, th.text { text-align: left; }
figure { margin: 1em 0; }
figure img { max-width: 100%; height: auto; border: 1px solid #eee; }
figcaption { color: #444; font-size: 0.92em; margin-top: 0.3em; }
.note { background: #fff8e1; border-left: 4px solid #E69F00; padding: 0.5em 0.8em; margin: 0.8em 0; }
.key { font-size: 1.05em; }
.key td:first-child { font-weight: 600; }
pre { background: #f6f6f6; padding: 0.8em; overflow-x: auto; font-size: 0.85em; }
@media print { body { max-width: none; } h2 { page-break-before: auto; } figure { page-break-inside: avoid; } }
"""

#: Sections of a single-ensemble report, in order: (id, heading).
REPORT_SECTIONS = (
    ("summary", "Scenario"),
    ("outcomes", "Outcomes"),
    ("peaks", "How far crises escalate"),
    ("escalation", "Escalation over time"),
    ("timing", "Time to use of force"),
    ("paths", "Escalation paths"),
    ("transitions", "Turn-to-turn transitions"),
    ("reasons", "Who crosses into force first, and why"),
    ("channels", "Crisis channels"),
    ("actors", "Outcome per actor"),
    ("levers", "Levers"),
    ("manifest", "Manifest"),
)

#: Sections of a comparison report.
COMPARE_SECTIONS = (
    ("settings", "What differs"),
    ("measures", "Headline measures"),
    ("outcomes", "Outcomes"),
    ("timing", "Time to use of force"),
    ("escalation", "Escalation over time"),
    ("paths", "Escalation paths"),
    ("channels", "Crisis channels"),
    ("manifests", "Manifests"),
)


# =============================================================================== HTML helpers


def _safe_figure(make: Callable[[], Any], caption: str = "") -> str:
    """A figure, or a note saying why it could not be drawn (e.g. no event log)."""
    try:
        fig = make()
    except ValueError as exc:
        return note(f"Figure not drawn: {exc}.")
    return figure_html(fig, caption)


def note(text: str) -> str:
    """A highlighted paragraph: a caveat, or why something is missing."""
    return f'<p class="note">{esc(text)}</p>'


def pct(x: float, k: int | None = None, n: int | None = None) -> str:
    """A probability as a percentage ('–' when undefined); below 0.1% with its count
    (``sim.analysis.stats.fmt_share``: never a tail risk rounded to 0.0%)."""
    from sim.analysis.stats import fmt_share

    return fmt_share(x, k, n)


def interval(lo: float, hi: float) -> str:
    """An interval of probabilities as [low, high] in percent, from its true bounds."""
    from sim.analysis.stats import fmt_interval

    return fmt_interval(lo, hi, sep=", ")


def pp(x: float) -> str:
    """A difference of probabilities in signed percentage points (digits enough for small ones)."""
    from sim.analysis.stats import fmt_pp

    return fmt_pp(x)


def table_html(df: pd.DataFrame, index: bool = True, text_cols: tuple[str, ...] = ()) -> str:
    """A small table; every cell escaped. Columns named in ``text_cols`` align left."""
    cols = list(df.columns)
    head = "".join(f"<th class='text'>{esc(df.index.name or '')}</th>" for _ in [0] if index)
    head += "".join(f"<th{' class=text' if c in text_cols else ''}>{esc(c)}</th>" for c in cols)
    rows = []
    for idx, row in df.iterrows():
        cells = f"<td>{esc(idx)}</td>" if index else ""
        cells += "".join(f"<td{' class=text' if c in text_cols else ''}>{esc(row[c])}</td>" for c in cols)
        rows.append(f"<tr>{cells}</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"


def share_table(df: pd.DataFrame, label: str | None = None) -> pd.DataFrame:
    """count/share/ci_low/ci_high -> readable columns."""
    out = pd.DataFrame(index=df.index)
    if label and label in df:
        out["label"] = df[label]
    out["runs"] = [f"{int(c):,}" for c in df["count"]]
    # the runs behind the shares (rows may overlap, so not the sum of the counts)
    n = next((round(c / s) for c, s in zip(df["count"], df["share"], strict=True) if s > 0), None)
    out["share"] = [pct(s, c, n) for s, c in zip(df["share"], df["count"], strict=True)]
    out["95% interval"] = [interval(lo, hi) for lo, hi in zip(df["ci_low"], df["ci_high"], strict=True)]
    return out


def section(sid: str, heading: str, body: str) -> str:
    """A report section with an anchor (the table of contents links to it)."""
    return f'<section id="{esc(sid)}">\n<h2>{esc(heading)}</h2>\n{body}\n</section>'


def page(title: str, subtitle: str, sections: list[tuple[str, str, str]]) -> str:
    """The whole HTML page: head with the inline styles, table of contents, sections, footer."""
    nav = "".join(f'<li><a href="#{esc(sid)}">{esc(h)}</a></li>' for sid, h, _ in sections)
    body = "\n".join(section(*s) for s in sections)
    made = datetime.now(UTC).isoformat(timespec="seconds")
    return (f"<!DOCTYPE html>\n<html lang='en'>\n<head>\n<meta charset='utf-8'>\n"
            f"<meta name='viewport' content='width=device-width, initial-scale=1'>\n<title>{esc(title)}</title>\n"
            f"<style>{CSS}</style>\n</head>\n<body>\n<header><h1>{esc(title)}</h1>\n<p class='meta'>{subtitle}</p>\n"
            f"<nav><ol>{nav}</ol></nav></header>\n<main>\n{body}\n</main>\n"
            f"<footer><p class='meta'>Generated by crisis-sim on {esc(made)}.</p></footer>\n</body>\n</html>\n")


# =============================================================================== inputs


def _as_results(x: str | Path | an.ResultSet) -> an.ResultSet:
    rs = x if isinstance(x, an.ResultSet) else an.load_results(x)
    if "point" in rs.runs.columns:
        from sim.errors import InputError

        raise InputError(rs.path or "results", "", "these are a sweep's results (a 'point' column): report one "
                         "ensemble, or compare two (run_sim.py compare)")
    return rs


def _scenario_file(rs: an.ResultSet) -> Path | None:
    sf = rs.manifest.get("scenario_file")
    if not sf:
        return None
    from sim.inputs.library import ROOT

    cands = [Path(sf)]
    if not Path(sf).is_absolute():
        cands += [ROOT / sf, *([rs.path.parent / sf, rs.path / sf] if rs.path else [])]
    return next((c for c in cands if c.is_file()), None)


def _scenario(rs: an.ResultSet) -> ScenarioFile | None:
    p = _scenario_file(rs)
    if p is None:
        return None
    from sim.errors import InputError
    from sim.inputs.loader import load

    try:
        return load(ScenarioFile, p)
    except (InputError, OSError):
        return None


def _settings_of(rs: an.ResultSet) -> str:
    m = rs.manifest
    bits = []
    if m.get("levers"):
        bits.append("levers: " + ", ".join(m["levers"]))
    if m.get("overlays"):
        bits.append("overlays: " + ", ".join(m["overlays"]))
    return "; ".join(bits) or "default settings"


# =============================================================================== single report


def _summary_section(rs: an.ResultSet) -> str:
    m, runs = rs.manifest, rs.runs
    scen = _scenario(rs)
    parts = []
    if scen is not None:
        parts.append(f"<p><strong>{esc(scen.title)}</strong> ({esc(scen.id)}, flashpoint {esc(scen.flashpoint)})</p>")
        parts.append(f"<p>{esc(scen.summary.strip())}</p>")
        if scen.trigger:
            parts.append(f"<p><em>Trigger:</em> {esc(scen.trigger)}</p>")
        if scen.briefing:
            parts.append(f"<details><summary>Briefing</summary><p>{esc(scen.briefing.strip())}</p></details>")
        actors = pd.DataFrame({"adversaries": [", ".join(a.adversaries) or "–" for a in scen.actors],
                               "posture variant": [a.variant or "–" for a in scen.actors]},
                              index=pd.Index([a.id for a in scen.actors], name="actor"))
        parts.append(table_html(actors, text_cols=("adversaries", "posture variant")))
    else:
        parts.append(note("The scenario file named in the manifest was not found: summary from the manifest only."))
    hours = m.get("hours_per_turn")
    key = pd.DataFrame({"value": [
        f"{len(runs):,}", str(m.get("seed", "–")), _settings_of(rs),
        ", ".join(f"{k}={v}" for k, v in m.get("overrides", [])) or "–",
        f"{m.get('turns', '–')} turns" + (f" of {hours:g} h" if hours else ""),
        f"{runs['turns'].median():.0f} turns (mean {runs['turns'].mean():.1f})",
    ]}, index=pd.Index(["runs", "seed", "conditions", "settings changed", "turn limit", "median duration"], name=""))
    parts.append("<table class='key'>" + table_html(key, text_cols=("value",))[len("<table>"):])
    return "\n".join(parts)


def _outcomes_section(rs: an.ResultSet) -> str:
    from sim.analysis import figures as F

    runs = rs.runs
    mt = an.measure_table(runs)
    key = share_table(mt, "label")
    body = ["<h3>Headline measures</h3>", table_html(key, text_cols=("label",)),
            "<h3>Outcome classes</h3>", table_html(share_table(an.outcome_table(runs))),
            _safe_figure(lambda: F.outcome_bars(rs), "Outcome-class probabilities with 95% Wilson intervals. "
                         "Use of force = MID hostility 4 or more; it includes contained clashes and wars.")]
    return "\n".join(body)


def _peaks_section(rs: an.ResultSet) -> str:
    from sim.analysis import figures as F

    runs = rs.runs
    pk = an.peak_distribution(runs)
    pk = pk[pk["count"] > 0]
    return "\n".join([
        _safe_figure(lambda: F.peak_bars(rs), "Highest rung reached by any actor in the run (ladder order)."),
        "<h3>Peak rung</h3>", table_html(share_table(pk)),
        "<h3>Peak MID hostility</h3>", table_html(share_table(an.peak_hostility_distribution(runs), "label"),
                                                  text_cols=("label",)),
    ])


def _escalation_section(rs: an.ResultSet) -> str:
    from sim.analysis import figures as F

    if rs.events.empty:
        return note("No event log in these results (run without --no-events to get it).")
    return _safe_figure(lambda: F.fan_chart(rs), "Highest rung moved to each turn: median, 25–75% and 5–95% of the "
                        "runs still going (quantiles of the ordinal rung, never averages). Below: share of runs "
                        "still going.")


def _timing_section(rs: an.ResultSet) -> str:
    from sim.analysis import figures as F

    tt = an.time_to_threshold(rs.runs)
    pick = [t for t in (1, 2, 3, 5, 10, 15, 20, 30, 50) if t in tt.index] + [int(tt.index.max())]
    pick = sorted(set(pick))
    t = tt.loc[pick]
    tab = pd.DataFrame({"share of all runs": [pct(x) for x in t["crude"]],
                        "95% interval": [interval(lo, hi) for lo, hi in zip(t["crude_low"], t["crude_high"],
                                                                             strict=True)],
                        "Kaplan–Meier": [pct(x) for x in t["km"]],
                        "KM 95% interval": [interval(lo, hi) for lo, hi in zip(t["km_low"], t["km_high"], strict=True)],
                        "still at risk": [f"{int(x):,}" for x in t["at_risk"]]},
                       index=pd.Index(pick, name="by turn"))
    return "\n".join([
        _safe_figure(lambda: F.time_to_threshold_chart(rs, km=True), "Solid: share of all runs that had crossed "
                     "into use of force by turn t, with its pointwise 95% Wilson band. Dashed: Kaplan–Meier "
                     "estimate, which treats a run that ended (faded, settled) without force as censored at its "
                     "end turn."),
        note("Read the two curves differently. The solid curve is the probability of force within t turns in this "
             "scenario. The Kaplan–Meier curve answers 'if the crisis were still going at turn t' — crises that "
             "fade early are the ones least likely to turn violent, so it runs well above the solid curve and should "
             "not be quoted as the probability of force."),
        table_html(tab),
    ])


def _paths_section(rs: an.ResultSet) -> str:
    from sim.analysis import figures as F

    runs = rs.runs
    po = an.path_outcomes(runs, n=12, by="unit")
    unit_tab = pd.DataFrame({"runs": [f"{c:,}" for c in po["count"]], "share": [pct(s) for s in po["share"]],
                             "P(use of force | path)": [pct(p) for p in po["p_use_of_force"]],
                             "95% interval": [interval(lo, hi) for lo, hi in zip(po["ci_low"], po["ci_high"],
                                                                                 strict=True)]},
                            index=pd.Index([p.replace(">", " › ") for p in po.index], name="path (ladder units)"))
    tp = an.top_paths(runs, n=12)
    rung_tab = share_table(tp)
    rung_tab.index = [p.replace(">", " › ") for p in tp.index]
    rung_tab.index.name = "path (rungs)"
    parts = [
        "<p>A path is the sequence of new crisis peaks in a run (each step a rung not reached before).</p>",
        _safe_figure(lambda: F.path_tree_chart(rs), "Path tree over all runs: each box a path so far, coloured by how "
                     "often runs through it reached use of force."),
    ]
    if runs["use_of_force"].any():
        parts.append(_safe_figure(lambda: F.path_tree_chart(rs, condition="use_of_force", min_share=0.02),
                                  "Only the runs that reached use of force: how the clashes came about "
                                  "(heights proportional to runs, coloured by ladder unit)."))
    parts += ["<h3>Paths by ladder unit, and how often they end in force</h3>", table_html(unit_tab),
              "<h3>Most frequent paths by rung</h3>", table_html(rung_tab)]
    return "\n".join(parts)


def _transitions_section(rs: an.ResultSet) -> str:
    from sim.analysis import figures as F

    if rs.events.empty:
        return note("No event log in these results.")
    return _safe_figure(lambda: F.transition_heatmap(rs), "Row: the highest rung moved to in a turn; column: the "
                        "next turn's (or the run ended). Numbers are % of the row.")


def _reasons_section(rs: an.ResultSet) -> str:
    from sim.analysis import figures as F

    ev = rs.events
    if ev.empty:
        return note("No event log in these results.")
    parts = []
    fc = an.first_crossings(ev, "use_of_force")
    if fc.empty:
        parts.append(note("No run reached use of force."))
    else:
        n_runs = fc["run"].nunique()
        inc = fc.groupby("run")["incident"].any().mean()
        parts.append(f"<p>In {n_runs:,} runs with use of force, the first forceful move came from an incident "
                     f"(a collision or accident recorded as force) in <strong>{pct(inc)}</strong> of runs.</p>")
        cs = an.crossing_summary(ev, "use_of_force", n=12)
        tab = pd.DataFrame({"actor": cs["actor"], "move chosen": cs["action"], "strongest driver": cs["driver1"],
                            "strongest restraint": cs["restraint"], "moves": [f"{c:,}" for c in cs["count"]],
                            "share": [pct(s) for s in cs["share"]],
                            "incidents": [pct(s) for s in cs["incident_share"]]})
        parts.append(table_html(tab, index=False, text_cols=("actor", "move chosen", "strongest driver",
                                                            "strongest restraint")))
    parts.append(_safe_figure(lambda: F.reasons_heatmap(rs, rung_at_least="coerce"),
                              "Which decision term contributed most to each escalatory move (coercion or above), "
                              "relative to holding; scripted moves left out."))
    return "\n".join(parts)


def _channels_section(rs: an.ResultSet) -> str:
    from sim.analysis import figures as F

    ct = an.channel_table(rs.runs)
    if ct.empty or not (ct["calls"] > 0).any():
        return note("No crisis channel was tried in these runs.")
    ct = ct[ct["calls"] > 0]
    tab = pd.DataFrame({
        "runs tried": [f"{int(x):,} ({pct(s)})" for x, s in zip(ct["runs_tried"], ct["share_tried"], strict=True)],
        "calls": [f"{int(x):,}" for x in ct["calls"]],
        "answered": [f"{pct(a)} {interval(lo, hi)}" for a, lo, hi in zip(ct["answer_rate"], ct["answer_low"],
                                                                         ct["answer_high"], strict=True)],
        "P(force) answered": [pct(x) for x in ct["p_answered"]],
        "P(force) unanswered": [pct(x) for x in ct["p_unanswered"]],
        "P(force) not tried": [pct(x) for x in ct["p_not_tried"]],
    }, index=pd.Index([c.replace("_", " ") for c in ct.index], name="channel"))
    return "\n".join([
        table_html(tab),
        _safe_figure(lambda: F.channel_chart(rs), "P(use of force) in runs where the channel was answered, tried but "
                     "never answered, or not tried, with 95% intervals."),
        note("These are associations: a channel is called in the crises that are going badly, so runs in which it "
             "was tried differ from the rest before any call. To measure what a channel does, compare lever "
             "settings (below, or run_sim.py compare)."),
    ])


def _actors_section(rs: an.ResultSet) -> str:
    from sim.analysis import figures as F

    ao = an.actor_outcomes(rs.runs)
    if ao.empty:
        return note("No per-actor outcomes in these results.")
    wide = ao["share"].unstack("outcome").map(pct)
    wide = wide[[c for c in (*ICB_OUTCOMES, "conceded") if c in wide.columns]]
    return "\n".join([_safe_figure(lambda: F.actor_outcome_bars(rs), "ICB-style outcome for each actor: victory "
                                   "(an adversary conceded, it did not), defeat, compromise (agreement), else "
                                   "stalemate."), table_html(wide)])


def _condition_of(rs: an.ResultSet, path: Path) -> Condition:
    """The condition these results were run under. The manifest lists every setting applied
    (overlays' and levers' settings first): keep only the explicit overrides after them."""
    m = rs.manifest
    levers, overlays = list(m.get("levers", [])), list(m.get("overlays", []))
    settings = [list(x) for x in m.get("overrides", [])]
    prefix = [list(x) for x in apply(Condition.of(path, levers=levers, overlays=overlays)).applied.overrides]
    explicit = settings[len(prefix):] if settings[:len(prefix)] == prefix else settings
    return Condition.of(path, levers=levers, overlays=overlays, overrides=[(k, v) for k, v in explicit])


def lever_comparison(rs: an.ResultSet, lever_runs: int = 2000, *,
                     evaluator: object | None = None) -> tuple[pd.DataFrame | None, str]:
    """Each of the scenario's levers (not already on) against these results' settings, with the
    same seed, on ``lever_runs`` runs. Returns the lever table (or None) and a note."""
    m = rs.manifest
    path = _scenario_file(rs)
    if path is None:
        return None, "The scenario file is not available here, so the levers could not be run."
    if lever_runs <= 0:
        return None, "Lever comparison switched off (--lever-runs 0)."
    from sim.errors import InputError
    from sim.inputs.compile import compile_scenario

    try:
        condition = _condition_of(rs, path)
        base_spec = compile_scenario(condition)
        defined = [lv.id for lv in an.scenario_levers(path) if lv.id not in condition.levers]
        if not defined:
            return None, "Every lever the scenario defines is already on in these results."
        n = min(lever_runs, len(rs.runs))
        seed = int(m.get("seed", 0))
        runs = rs.runs
        base = None
        msg = (f"Each lever is added to these results' settings and run {n:,} times with the same seed "
               f"({seed}): run i meets the same random draws with and without the lever.")
        if base_spec.content_hash == m.get("content_hash") and set(range(n)) <= set(runs["run"].tolist()):
            base = runs[runs["run"] < n].sort_values("run").reset_index(drop=True)
        else:
            msg += (" The scenario or posture files changed since these results were made, so the baseline was "
                    "run afresh (its numbers can differ from the rest of this report).")
        table = an.lever_study(condition, runs=n, seed=seed, levers=defined, base_runs=base, evaluator=evaluator)
    except InputError as exc:
        return None, f"The levers could not be run: {exc}"
    return table, msg


def _difference_cells(t: pd.DataFrame) -> dict[str, list[str]]:
    """A comparison's difference [95% interval] and risk ratio [95% interval] as table cells."""
    paired = t["paired"] if "paired" in t else [False] * len(t)
    return {"95% interval": [f"[{100 * lo:+.1f}, {100 * hi:+.1f}]{' paired' if p else ''}"
                             for lo, hi, p in zip(t["diff_low"], t["diff_high"], paired, strict=True)],
            "unpaired 95%": [f"[{100 * lo:+.1f}, {100 * hi:+.1f}]" for lo, hi in zip(t["unpaired_low"],
                                                                                    t["unpaired_high"], strict=True)],
            "risk ratio": [("–" if np.isnan(r) else f"{r:.2f} [{lo:.2f}, {hi:.2f}]")
                           for r, lo, hi in zip(t["rr"], t["rr_low"], t["rr_high"], strict=True)]}


def lever_notes(table: pd.DataFrame) -> pd.Series:
    """Each lever's words in the scenario file: a recorded disagreement ("Model disagrees: ...")
    first, then the note; levers with neither are left out."""
    text = [" ".join(t for t in (f"{MODEL_DISAGREES_NOTE} {md}" if md else "", note) if t)
            for md, note in zip(table["model_disagrees"], table["note"], strict=True)]
    notes = pd.Series(text, index=table.index, dtype=object)
    return notes[notes.str.len() > 0]


def _levers_section(rs: an.ResultSet, lever_runs: int, evaluator: object | None = None) -> str:
    from sim.analysis import figures as F

    parts = [f"<p>Conditions of these results: <strong>{esc(_settings_of(rs))}</strong>.</p>"]
    table, msg = lever_comparison(rs, lever_runs, evaluator=evaluator)
    parts.append(f"<p>{esc(msg)}</p>")
    if table is not None and len(table):
        parts.append(figure_html(F.lever_forest(table), "Difference in the probability of each lever's measure "
                                 "(lever − without), with its 95% Newcombe interval. Marker: the direction the papers "
                                 "expect; colour: whether the model agrees. Hollow: a disagreement the scenario "
                                 "documents."))
        tab = pd.DataFrame({
            "what it does": table["label"], "measure": table["measure"].str.replace("_", " "),
            "papers expect": table["expect"], "without": [pct(x) for x in table["p_base"]],
            "with": [pct(x) for x in table["p_alt"]], "difference": [pp(x) for x in table["diff"]],
            **_difference_cells(table), "model": table["verdict"], "source": table["paper"]}, index=table.index)
        parts.append(table_html(tab, text_cols=("what it does", "measure", "papers expect", "model", "source")))
        notes = lever_notes(table)
        if len(notes):
            items = "".join(f"<li><strong>{esc(i)}</strong>: {esc(n)}</li>" for i, n in notes.items())
            parts.append(f"<h3>Notes in the scenario file</h3><ul>{items}</ul>")
    return "\n".join(parts)


def _manifest_section(rs: an.ResultSet) -> str:
    m = rs.manifest
    if not m:
        return note("No manifest.json in these results.")
    keys = ["scenario", "scenario_file", "title", "seed", "runs", "levers", "overlays", "overrides", "actors",
            "content_hash", "package_version", "python", "created", "command"]
    rows = {k: (" ".join(map(str, m[k])) if k == "command" and isinstance(m[k], list) else
                json.dumps(m[k]) if isinstance(m[k], (list, dict)) else str(m[k])) for k in keys if k in m}
    tab = pd.DataFrame({"value": list(rows.values())}, index=pd.Index(list(rows), name="field"))
    return "\n".join([table_html(tab, text_cols=("value",)),
                      "<details><summary>Full manifest (JSON)</summary><pre>"
                      f"{esc(json.dumps(m, indent=2, sort_keys=True, default=str))}</pre></details>"])


def _build_sections(builders: Mapping[str, Callable[[], str]],
                    order: Iterable[tuple[str, str]]) -> list[tuple[str, str, str]]:
    """Each section's HTML, its figures drawn in the built-in print style (figures otherwise
    follow the caller's rcParams; a report is a standalone document with its own look)."""
    from sim.analysis import figures as F

    with F.style():
        return [(sid, heading, builders[sid]()) for sid, heading in order]


def render_report(results: str | Path | an.ResultSet, lever_runs: int = 2000, title: str | None = None, *,
                  evaluator: object | None = None) -> str:
    """The HTML text of a report on one ensemble (``evaluator`` runs the lever comparison)."""
    rs = _as_results(results)
    builders: dict[str, Callable[[], str]] = {
        "summary": lambda: _summary_section(rs), "outcomes": lambda: _outcomes_section(rs),
        "peaks": lambda: _peaks_section(rs), "escalation": lambda: _escalation_section(rs),
        "timing": lambda: _timing_section(rs), "paths": lambda: _paths_section(rs),
        "transitions": lambda: _transitions_section(rs), "reasons": lambda: _reasons_section(rs),
        "channels": lambda: _channels_section(rs), "actors": lambda: _actors_section(rs),
        "levers": lambda: _levers_section(rs, lever_runs, evaluator), "manifest": lambda: _manifest_section(rs),
    }
    sections = _build_sections(builders, REPORT_SECTIONS)
    m = rs.manifest
    sub = (f"{len(rs.runs):,} runs · seed {esc(m.get('seed', '–'))} · {esc(_settings_of(rs))}"
           + (f" · results in <code>{esc(rs.path)}</code>" if rs.path else ""))
    return page(title or rs.title, sub, sections)


def _write(text: str, out: Path) -> Path:
    from sim.experiments.store import atomic_write

    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    atomic_write(out, lambda p: p.write_text(text, encoding="utf-8"))
    umask = os.umask(0)
    os.umask(umask)
    out.chmod(0o666 & ~umask)  # a report is for sharing: not the private mode of a temporary file
    return out


def build_report(results: str | Path | an.ResultSet, out: str | Path | None = None, lever_runs: int = 2000,
                 title: str | None = None, *, evaluator: object | None = None) -> Path:
    """Write the report on one ensemble (default ``<results>/report.html``); return its path."""
    rs = _as_results(results)
    if out is None:
        if rs.path is None:
            raise ValueError("out is required for in-memory results")
        out = rs.path / "report.html"
    return _write(render_report(rs, lever_runs, title, evaluator=evaluator), Path(out))


# =============================================================================== comparison


def _differs(a: an.ResultSet, b: an.ResultSet, la: str, lb: str) -> tuple[pd.DataFrame, list[str]]:
    keys = ["scenario", "seed", "runs", "levers", "overlays", "overrides", "content_hash", "events"]
    rows, warn = {}, []
    for k in keys:
        va, vb = a.manifest.get(k, "–"), b.manifest.get(k, "–")
        if k == "runs":
            va, vb = len(a.runs), len(b.runs)
        def show(v: Any, k: str = k) -> str:
            text = json.dumps(v) if isinstance(v, (list, dict)) else str(v)
            return text[:16] + "…" if k == "content_hash" and len(text) > 16 else text
        rows[k] = [show(va), show(vb), "yes" if va != vb else ""]
    if a.manifest.get("scenario") != b.manifest.get("scenario"):
        warn.append("The two results are of different scenarios: the comparison is of two situations, "
                    "not of a lever.")
    if a.manifest.get("seed") != b.manifest.get("seed"):
        warn.append("The seeds differ, so runs are not paired by common random numbers; the intervals (which "
                    "assume independent samples) are right, but differences will be noisier.")
    else:
        warn.append("The seeds are the same, so run i of A and run i of B met the same random draws: the "
                    "differences carry Newcombe's paired interval (marked 'paired'), the independent one beside it.")
    df = pd.DataFrame.from_dict(rows, orient="index", columns=[la, lb, "differs"])
    df.index.name = "setting"
    return df, warn


def _compare_measures_section(ra: an.ResultSet, rb: an.ResultSet, la: str, lb: str) -> str:
    from sim.analysis import figures as F

    mc = an.measure_comparison(ra.runs, rb.runs)
    cells = _difference_cells(mc)
    tab = pd.DataFrame({
        "what it counts": mc["label"], la: [pct(x, round(x * len(ra.runs)), len(ra.runs)) for x in mc["p_base"]],
        lb: [pct(x, round(x * len(rb.runs)), len(rb.runs)) for x in mc["p_alt"]],
        "difference B − A": [pp(x) for x in mc["diff"]], "95% interval": cells["95% interval"],
        "unpaired 95%": cells["unpaired 95%"], "risk ratio B/A": cells["risk ratio"],
        "change": [an.verdict(lo, hi, None) for lo, hi in zip(mc["diff_low"], mc["diff_high"], strict=True)],
    }, index=mc.index)
    return "\n".join([
        table_html(tab, text_cols=("what it counts", "change")),
        figure_html(F.lever_forest(mc, title=f"{lb} − {la}: headline measures (95% Newcombe interval)",
                                   xlabel="difference in probability, B − A (percentage points)"),
                    "Difference in each headline probability, B minus A, with its 95% interval."),
    ])


def _compare_escalation_section(ra: an.ResultSet, rb: an.ResultSet, la: str, lb: str) -> str:
    from sim.analysis import figures as F

    parts = []
    for rs, lab in ((ra, la), (rb, lb)):
        if rs.events.empty:
            parts.append(note(f"{lab}: no event log."))
        else:
            parts.append(_safe_figure(lambda rs=rs, lab=lab: F.fan_chart(rs, title=f"Escalation over time — {lab}"),
                                      lab))
    return "\n".join(parts)


def _compare_paths_section(ra: an.ResultSet, rb: an.ResultSet, la: str, lb: str) -> str:
    pa = an.top_paths(ra.runs, n=15, by="unit")
    pb = an.top_paths(rb.runs, n=15, by="unit")
    idx = list(dict.fromkeys([*pa.index, *pb.index]))
    sa = an.path_labels(ra.runs, "unit").value_counts() / len(ra.runs)
    sb = an.path_labels(rb.runs, "unit").value_counts() / len(rb.runs)
    ptab = pd.DataFrame({la: [pct(sa.get(p, 0.0)) for p in idx], lb: [pct(sb.get(p, 0.0)) for p in idx],
                         "difference": [pp(sb.get(p, 0.0) - sa.get(p, 0.0)) for p in idx]},
                        index=pd.Index([p.replace(">", " › ") for p in idx], name="path (ladder units)"))
    return table_html(ptab)


def _compare_channels_section(ra: an.ResultSet, rb: an.ResultSet, la: str, lb: str) -> str:
    ca, cb = an.channel_table(ra.runs), an.channel_table(rb.runs)
    chans = [c for c in dict.fromkeys([*ca.index, *cb.index])
             if (c in ca.index and ca.loc[c, "calls"] > 0) or (c in cb.index and cb.loc[c, "calls"] > 0)]
    if not chans:
        return note("No crisis channel was tried in either set of runs.")

    def cell(t: pd.DataFrame, c: str, col: str) -> str:
        return pct(t.loc[c, col]) if c in t.index else "–"

    ctab = pd.DataFrame({f"tried ({la})": [cell(ca, c, "share_tried") for c in chans],
                         f"tried ({lb})": [cell(cb, c, "share_tried") for c in chans],
                         f"answered ({la})": [cell(ca, c, "answer_rate") for c in chans],
                         f"answered ({lb})": [cell(cb, c, "answer_rate") for c in chans]},
                        index=pd.Index([c.replace("_", " ") for c in chans], name="channel"))
    return table_html(ctab) + "<p>Tried: share of runs with at least one call; answered: share of calls answered.</p>"


def render_compare(a: str | Path | an.ResultSet, b: str | Path | an.ResultSet,
                   labels: tuple[str, str] | None = None, title: str | None = None) -> str:
    """The HTML text of a report comparing two ensembles (A: reference, B: alternative)."""
    from sim.analysis import figures as F

    ra, rb = _as_results(a), _as_results(b)
    la, lb = labels or (f"A: {ra.label}", f"B: {rb.label}")
    if la == lb:
        la, lb = f"{la} (A)", f"{lb} (B)"
    groups = {la: ra.runs, lb: rb.runs}

    def settings() -> str:
        diff, warn = _differs(ra, rb, la, lb)
        return "\n".join([table_html(diff, text_cols=(la, lb))] + [note(w) for w in warn])

    builders: dict[str, Callable[[], str]] = {
        "settings": settings,
        "measures": lambda: _compare_measures_section(ra, rb, la, lb),
        "outcomes": lambda: _safe_figure(lambda: F.outcome_bars(groups),
                                         "Outcome-class probabilities, 95% Wilson intervals."),
        "timing": lambda: _safe_figure(
            lambda: F.time_to_threshold_chart(groups, km=False, hours_per_turn=ra.hours_per_turn),
            "Share of all runs that had crossed into use of force by turn t."),
        "escalation": lambda: _compare_escalation_section(ra, rb, la, lb),
        "paths": lambda: _compare_paths_section(ra, rb, la, lb),
        "channels": lambda: _compare_channels_section(ra, rb, la, lb),
        "manifests": lambda: "\n".join(f"<h3>{esc(lab)}</h3>" + _manifest_section(rs)
                                       for rs, lab in ((ra, la), (rb, lb))),
    }
    sections = _build_sections(builders, COMPARE_SECTIONS)
    sub = f"{esc(la)} ({len(ra.runs):,} runs) vs {esc(lb)} ({len(rb.runs):,} runs)"
    default = f"Comparison: {rb.title}" if ra.title == rb.title else f"{ra.title} vs {rb.title}"
    return page(title or default, sub, sections)


def build_compare(a: str | Path | an.ResultSet, b: str | Path | an.ResultSet, out: str | Path | None = None,
                  labels: tuple[str, str] | None = None, title: str | None = None) -> Path:
    """Write the comparison report (default ``<B>/compare-<A name>.html``); return its path."""
    ra, rb = _as_results(a), _as_results(b)
    if out is None:
        if rb.path is None or ra.path is None:
            raise ValueError("out is required for in-memory results")
        out = rb.path / f"compare-{ra.path.name}.html"
    return _write(render_compare(ra, rb, labels, title), Path(out))
