"""EMA Workbench drives the engine: ``model(scenario)`` is an ``ema_workbench.Model``.

EMA Workbench (``pip install 'crisis-sim[ema]'``) brings exploratory modelling that this
project does not rebuild: samplers, ``perform_experiments`` with its evaluators, PRIM with
pasting and categorical dimensions, feature scoring. The adapter declares what a scenario
can vary, in EMA's typed terms:

- **uncertainties**: the scenario's parameters as ``RealParameter`` ranges (by default the
  ranges of ``sim.analysis.sensitivity.PARAMETER_RANGES``), named ``fog`` for
  ``parameters.fog`` (EMA names are Python identifiers; ``ema_name`` gives the name of any
  dotted path, ``ScenarioFunction.paths`` the way back);
- **levers**: the scenario's ``levers:`` as ``BooleanParameter`` switches named by the lever's
  id (a lever that sets one of the uncertainties is left out: the sampled value would cancel it);
- **outcomes**: one ``ScalarOutcome`` per measure (``sim.experiments.measures``), the
  probability over ``runs`` runs.

Each EMA experiment runs ``runs`` runs of its condition with ``seed`` through
``sim.experiments.perform.perform`` (so common random numbers across experiments, and the
same numbers as a sweep or ``crisis-sim run`` of that condition). ::

    from ema_workbench import SequentialEvaluator, perform_experiments
    from sim import ema
    m = ema.model("senkaku", runs=400, seed=1)    # uncertainties fog, us_china_climate, ...
    experiments, outcomes = perform_experiments(m, scenarios=60, policies=4)
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from sim.inputs.condition import Condition

if TYPE_CHECKING:
    from ema_workbench import Model

    from sim.experiments.evaluators import Evaluator


def _require_ema() -> Any:
    """Import ema_workbench, or say which extra installs it."""
    try:
        import ema_workbench
    except ImportError:
        raise ImportError("sim.ema needs EMA Workbench: pip install 'crisis-sim[ema]'") from None
    return ema_workbench


@dataclass
class ScenarioFunction:
    """The model function EMA calls with one experiment's values (keyword arguments by EMA
    name); returns ``{measure: probability}``. A picklable object, not a closure, so EMA's
    ``MultiprocessingEvaluator`` can ship it to its workers."""

    base: Condition
    factors: dict[str, tuple[float, float]]
    paths: dict[str, str]
    runs: int
    seed: int
    measures: list[str]
    evaluator: Evaluator | None = field(default=None, repr=False)

    def condition(self, values: Mapping[str, Any]) -> Condition:
        """The condition of one experiment: levers switched on when True, values set."""
        from sim.analysis.sensitivity import point_condition

        point = {self.paths.get(k, k): (1.0 if v else 0.0) if isinstance(v, (bool, np.bool_)) else float(v)
                 for k, v in values.items()}
        return point_condition(self.base, point, self.factors)

    def __call__(self, **values: Any) -> dict[str, float]:
        from sim.experiments.measures import measure
        from sim.experiments.perform import perform

        runs = perform({"x": self.condition(values)}, self.runs, self.seed, evaluator=self.evaluator)["x"].runs
        return {m: float(measure(runs, m).mean()) for m in self.measures}


def ema_name(path: str) -> str:
    """The EMA name (a Python identifier) of a factor's dotted path: ``parameters.fog`` -> ``fog``,
    ``levers.coast_guard_rules`` -> ``coast_guard_rules``, else the path with ``__`` for dots."""
    head, _, rest = path.partition(".")
    name = rest if head in ("parameters", "levers") and "." not in rest else path.replace(".", "__")
    return re.sub(r"\W", "_", name)


def _uncertainties(uncertainties: Mapping[str, tuple[float, float]] | None) -> dict[str, tuple[float, float]]:
    from sim.analysis.sensitivity import PARAMETER_RANGES

    out = dict(PARAMETER_RANGES if uncertainties is None else uncertainties)
    if not out:
        raise ValueError("no uncertainties")
    return {k: (float(lo), float(hi)) for k, (lo, hi) in out.items()}


def _lever_ids(scenario: Condition, uncertain: Iterable[str], levers: Iterable[str] | None) -> list[str]:
    """The scenario's levers as switches, except those that set an uncertainty (or are already on)."""
    from sim.analysis.levers import scenario_levers

    defined = {lv.id: lv for lv in scenario_levers(scenario)}
    unknown = sorted(set(levers or ()) - set(defined))
    if unknown:
        raise ValueError(f"unknown lever(s) {', '.join(unknown)} (known: {', '.join(defined) or 'none'})")
    uncertain = set(uncertain)
    return [i for i in (levers if levers is not None else defined)
            if i not in scenario.levers and not any(st.path in uncertain for st in defined[i].set)]


def model(scenario: str | Path | Condition, uncertainties: Mapping[str, tuple[float, float]] | None = None,
          levers: Iterable[str] | None = None, runs: int = 200, seed: int = 0,
          measures: Iterable[str] | None = None, name: str | None = None, *,
          evaluator: Evaluator | None = None) -> Model:
    """An EMA Workbench ``Model`` of a scenario (a library id, a file, or a ``Condition``).

    ``uncertainties``: dotted path -> (low, high) (default: the scenario parameters'
    ``PARAMETER_RANGES``); ``levers``: which of the scenario's levers become switches (default:
    all that do not set an uncertainty); ``measures``: the outcomes (default: every measure).
    ``evaluator`` runs each experiment's runs (e.g. on Dask) while EMA's evaluator runs the
    experiments."""
    from sim.experiments.measures import MEASURE_NAMES
    from sim.inputs.library import find_scenario

    ema = _require_ema()
    base = scenario if isinstance(scenario, Condition) else Condition.of(find_scenario(scenario))
    unc = _uncertainties(uncertainties)
    switches = _lever_ids(base, unc, levers)
    outs = list(measures or MEASURE_NAMES)
    unknown = [o for o in outs if o not in MEASURE_NAMES]
    if unknown:  # say it now, not in the first of many experiments
        raise ValueError(f"unknown measure(s) {', '.join(unknown)} (known: {', '.join(MEASURE_NAMES)})")
    factors = {**unc, **{f"levers.{i}": (0.0, 1.0) for i in switches}}
    paths = {ema_name(p): p for p in factors}
    if len(paths) != len(factors):
        raise ValueError(f"two factors share an EMA name: {sorted(factors)}")
    fn = ScenarioFunction(base, factors, paths, int(runs), int(seed), outs, evaluator)
    m = ema.Model(name or re.sub(r"\W", "_", Path(str(base.scenario)).stem), function=fn)
    m.uncertainties = [ema.RealParameter(ema_name(k), lo, hi) for k, (lo, hi) in unc.items()]
    m.levers = [ema.BooleanParameter(ema_name(f"levers.{i}")) for i in switches]
    m.outcomes = [ema.ScalarOutcome(o, kind=ema.ScalarOutcome.INFO) for o in outs]
    return m
