"""The per-run Mesa model: one crisis, one state actor per agent.

This is the readable reference path used by notebooks and workshops. Each
:class:`StateActor` decides for itself by calling :func:`sim.engine.rules.decide` on its own
row; the model then resolves all moves simultaneously with :func:`sim.engine.rules.resolve`.
Those are the same functions the ensemble path uses, so run *i* of seed *s* here is
identical to run *i* of seed *s* in any ensemble.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd
from mesa import Agent, Model
from mesa.experimental.scenarios import Scenario

from sim.engine import rng, rules
from sim.engine.ensemble import runs_frame
from sim.engine.outcomes import EventLog, summarise
from sim.inputs.compile import Spec, compile_scenario
from sim.inputs.library import DEFAULT_SCENARIO


class CrisisScenario(Scenario):
    """Typed parameters of one run: which scenario file, which seed, which run."""

    scenario_file: str = str(DEFAULT_SCENARIO)
    seed: int = 0
    run_index: int = 0
    overrides: tuple = ()


@lru_cache(maxsize=32)
def _compiled(path: str, overrides: tuple) -> Spec:
    return compile_scenario(path, list(overrides) or None)


class StateActor(Agent):
    """A government: reads its (perceived) situation and picks one move a turn."""

    def __init__(self, model: CrisisModel, index: int, actor_id: str):
        super().__init__(model)
        self.index = index
        self.actor_id = actor_id
        self.decision: rules.Decision | None = None

    def decide(self) -> None:
        """Score admissible moves and draw one (the same rule as the ensemble)."""
        self.decision = rules.decide(self.model.spec, self.model.state, np.array([self.index]))

    @property
    def level(self) -> str:
        """The rung of this actor's latest move."""
        return self.model.spec.catalogue.rungs[int(self.model.state.level[0, self.index])].id

    def perceived_threat(self) -> dict[str, float]:
        """How threatening this actor finds each other actor right now."""
        H = self.model.state.H[0, self.index]
        return {b: float(H[j]) for j, b in enumerate(self.model.spec.actor_ids) if j != self.index}


class CrisisModel(Model):
    """One run of a crisis scenario."""

    def __init__(self, scenario: CrisisScenario | None = None, spec: Spec | None = None, **kwargs):
        scenario = scenario or CrisisScenario(**kwargs)
        key = rng.run_keys(scenario.seed, [scenario.run_index])
        scenario.rng = int(key[0])
        super().__init__(scenario=scenario)
        self.spec = spec or _compiled(str(Path(scenario.scenario_file)), tuple(scenario.overrides))
        self.state = rules.State.initial(self.spec, key, np.array([scenario.run_index]))
        self.log = EventLog(self.spec)
        self.summary: dict | None = None
        self.headlines: list[str] = []
        for i, a in enumerate(self.spec.actor_ids):
            StateActor(self, i, a)
        self.actors = sorted(self.agents_by_type[StateActor], key=lambda x: x.index)

    def step(self) -> None:
        """One turn: injects, simultaneous decisions, resolution."""
        st, spec = self.state, self.spec
        self.log.record_injects(rules.begin_turn(spec, st), st.turn)
        self.agents_by_type[StateActor].do("decide")
        dec = rules.merge([a.decision for a in self.actors])
        out = rules.resolve(spec, st, dec)
        self.log.record(st, dec, out)
        if st.end[0] > 0:
            self.summary = summarise(spec, st, self.scenario.seed)
            self.running = False

    def run(self) -> CrisisModel:
        """Play the crisis to its end."""
        while self.running:
            self.step()
        return self

    def runs_row(self) -> pd.DataFrame:
        """This run's row of the runs table (after it has ended)."""
        if self.summary is None:
            raise RuntimeError("the run has not ended yet")
        return runs_frame(self.summary)

    def events(self) -> pd.DataFrame:
        """This run's event log so far: one row per actor per turn, with reasons."""
        return self.log.frame()
