"""Each logged move in words a briefer can use: what was done, to whom, in answer to what, and why.

From an events table row: "PRC: military exercise against TWN, after TWN's sovereignty assertion
(day 1); driven by a red line crossed (credibility) (+1.35) and threat felt (+0.42); held back by
cost (-0.27)". A scripted move gets no reasons (nobody chose it); a draw with p < 5% is flagged
as long odds; a move friction carried one rung higher, or an incident, is said so.
"""

from __future__ import annotations

import pandas as pd

from sim.inputs.catalogue import load_catalogue
from sim.names import TERM_LABELS


def _label(action: str) -> str:
    """An action's label, or an incident's (a move answered may be a collision: ``sim.names.Incident``)."""
    from sim.names import INCIDENTS, Incident

    if action in INCIDENTS:
        return Incident(action).label
    cat = load_catalogue()
    return cat.actions[cat.action_index(action)].label.lower()


def _toward(action: str) -> str:
    """'against' for a hostile move, 'with' for a cooperative or allied one."""
    from sim.names import Threshold

    cat = load_catalogue()
    act = cat.actions[cat.action_index(action)]
    hostile = act.target == "adversary" and cat.rung_index(act.rung) > cat.threshold(Threshold.BASELINE)
    return "against" if hostile else "with"


def _day(row, turn) -> str:
    per_turn = float(row["day"]) / int(row["turn"]) if int(row["turn"]) else 1.0
    return f"day {float(turn) * per_turn:g}"


def _reason(term, weight) -> str:
    return f"{TERM_LABELS.get(str(term), str(term))} ({float(weight):+.2f})"


def sentence(row) -> str:
    """One event (a row of events.parquet) as a sentence."""
    actor, action = str(row["actor"]), str(row["action"])
    if action == "hold" and not bool(row.get("scripted", False)):
        return f"{actor}: holds ({_day(row, row['turn'])})"
    target = row.get("target")
    what = f"{actor}: {_label(action)}"
    if isinstance(target, str) and target:
        what += f" {_toward(action)} {target}"
    what += f" ({_day(row, row['turn'])})"
    if bool(row.get("scripted", False)):
        return what + ", scripted by an inject (not a choice)"
    cause = row.get("cause_actor")
    if isinstance(cause, str) and cause:
        what += f", after {cause}'s {_label(str(row['cause_action']))} ({_day(row, row['cause_turn'])})"
    what += (f"; driven by {_reason(row['driver1'], row['driver1_weight'])} and "
             f"{_reason(row['driver2'], row['driver2_weight'])}")
    held = float(row["restraint_weight"])
    what += f"; held back by {_reason(row['restraint'], held)}" if held < 0 else "; nothing held it back"
    if bool(row.get("long_odds", False)):
        what += f" [long odds: p = {float(row['p_choice']):.3f}]"
    if bool(row.get("slipped", False)):
        what += f"; friction carried it to {row['rung_realised']} (inadvertent)"
    if bool(row.get("incident", False)):
        what += "; a collision its forces were blamed for"
    return what


def explain(events: pd.DataFrame) -> pd.Series:
    """A sentence for every event row (same index)."""
    return events.apply(sentence, axis=1)
