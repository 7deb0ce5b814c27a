"""The one list of outcome measures: what a lever, a claim, a sensitivity study or a report can count.

Each :class:`Measure` maps the runs table to a yes/no per run, so every measure is a
probability with an interval. Adding a measure is one entry here: lever and claim files accept
its name (their schemas read :data:`MEASURE_NAMES`), and tables, figures and reports label it.
The ``--until-ci`` stopping rule watches the :data:`HEADLINE` indicators: every outcome class
and the use of force.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from sim.names import OUTCOMES, WAR_OUTCOMES, IcbViolence


@dataclass(frozen=True)
class Measure:
    """A yes/no outcome of one run, with a label a reader understands."""

    name: str
    label: str
    fn: Callable[[pd.DataFrame], np.ndarray]
    description: str = ""

    def __call__(self, runs: pd.DataFrame) -> np.ndarray:
        return np.asarray(self.fn(runs), bool)


def _war(r: pd.DataFrame) -> np.ndarray:
    return r["outcome"].isin(WAR_OUTCOMES).to_numpy()


def _display_or_worse(r: pd.DataFrame) -> np.ndarray:
    """Reached the military-display unit (grey-zone pressure) or above."""
    from sim.inputs.catalogue import load_catalogue
    from sim.names import Threshold

    cat = load_catalogue()
    display = cat.unit_index(cat.rungs[cat.threshold(Threshold.GREY)].unit)
    return (r["peak_unit"].cat.codes >= display).to_numpy()


_ALL = (
    Measure("use_of_force", "use of force (MID 4+)", lambda r: r["use_of_force"].to_numpy(bool),
            "Some actor used force: COW MID hostility 4 or 5 (Palmer et al. 2022)."),
    Measure("serious_clash", "serious clash (ICB violence 3+ or war)",
            lambda r: (r["peak_icb_viol"] >= IcbViolence.SERIOUS_CLASHES).to_numpy() | _war(r),
            "ICB VIOL 3 (serious clashes) or worse, or a major war."),
    Measure("major_war", "major war or nuclear use", _war),
    Measure("escalation", "military display or worse", _display_or_worse),
    Measure("deescalated_agreement", "de-escalated by agreement",
            lambda r: (r["outcome"] == "deescalated_agreement").to_numpy()),
    Measure("agreement", "ended by agreement", lambda r: (r["end_reason"] == "agreement").to_numpy()),
    Measure("incidents", "any incident at sea or in the air", lambda r: (r["incidents"] > 0).to_numpy()),
)

MEASURES: dict[str, Measure] = {m.name: m for m in _ALL}
MEASURE_NAMES: tuple[str, ...] = tuple(MEASURES)
MEASURE_LABELS: dict[str, str] = {m.name: m.label for m in _ALL}
#: Indicators the --until-ci rule watches: one per outcome class, then the use of force.
HEADLINE: tuple[str, ...] = (*OUTCOMES, "use_of_force")


def measure(runs: pd.DataFrame, which: str | Callable[[pd.DataFrame], np.ndarray]) -> np.ndarray:
    """A measure (by name, or any function of the runs table) as a boolean array per run."""
    if isinstance(which, str):
        if which not in MEASURES:
            raise KeyError(f"unknown measure {which!r} (known: {', '.join(MEASURE_NAMES)})")
        return MEASURES[which](runs)
    return np.asarray(which(runs), bool)
