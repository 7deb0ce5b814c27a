"""crisis-sim: a crisis-management simulation engine for Northeast-Asian flashpoints.

The public API, in one namespace::

    import sim
    from sim import analysis as an

    base = sim.Condition("scenarios/senkaku.yaml")
    res = sim.perform({"default": base, "rules": base.plus(levers=["coast_guard_rules"])}, runs=2000, seed=1)
    an.compare(res["default"].runs, res["rules"].runs, "use_of_force")

Each name is imported from its room on first use, so ``import sim`` loads nothing heavy and
``run_sim.py --help`` stays fast. The rooms (``sim.inputs``, ``sim.engine``,
``sim.experiments``, ``sim.analysis``, ``sim.workshop``) are described in
``docs/dev/architecture.md``.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

#: Public name -> the module that defines it.
_API = {
    "Condition": "sim.inputs.condition",
    "InputError": "sim.errors",
    "Session": "sim.workshop.session",
    "compile_scenario": "sim.inputs.compile",
    "load_results": "sim.analysis.results",
    "perform": "sim.experiments.perform",
    "run_job": "sim.experiments.jobs",
    "run_sweep": "sim.experiments.jobs",
    "simulate": "sim.engine.ensemble",
}

__all__ = [
    "Condition",
    "InputError",
    "Session",
    "compile_scenario",
    "load_results",
    "perform",
    "run_job",
    "run_sweep",
    "simulate",
]

if TYPE_CHECKING:  # for type checkers and editors; at run time names are imported on first use
    from sim.analysis.results import load_results
    from sim.engine.ensemble import simulate
    from sim.errors import InputError
    from sim.experiments.jobs import run_job, run_sweep
    from sim.experiments.perform import perform
    from sim.inputs.compile import compile_scenario
    from sim.inputs.condition import Condition
    from sim.workshop.session import Session


def __getattr__(name: str) -> Any:
    """Import a public name from its module the first time it is asked for (PEP 562)."""
    module = _API.get(name)
    if module is None:  # also how ``from sim import analysis`` falls through to the submodule
        raise AttributeError(f"module 'sim' has no attribute {name!r}")
    value = getattr(import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
