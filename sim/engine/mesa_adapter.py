"""The Mesa adapter: one run of a condition as a Mesa ``Model``, for Mesa's own tools.

What it is for: stepping a single crisis turn by turn in a notebook or a Solara app, collecting
per-turn data with Mesa's ``DataCollector``, and ``mesa.batch_run`` over conditions and run
indices. What it is not: a second implementation. The state lives in one ``State`` batch of one
run; each :class:`StateActor` decides for its own row with the same rule function the ensemble
uses, and the model advances through the one turn loop (:mod:`sim.engine.loop`). Random draws
are keyed by (seed, run, turn, stream), so run *i* of seed *s* here equals run *i* of seed *s* in
any ensemble. For thousands of runs use :func:`sim.engine.ensemble.simulate`, which is two
orders of magnitude faster.

``mesa.batch_run(CrisisModel, {"scenario_file": path, "run_index": range(100)}, max_steps=200)``
plays 100 runs; parameters are the fields of :class:`CrisisScenario`.
"""

from __future__ import annotations

from dataclasses import fields

import numpy as np
import pandas as pd
from mesa import Agent, DataCollector, Model
from mesa.experimental.scenarios import Scenario

from sim.engine import loop, rng, rules
from sim.engine.ensemble import runs_frame
from sim.engine.outcomes import EventLog, summarise
from sim.inputs.compile import Spec, compiled
from sim.inputs.condition import Condition
from sim.inputs.library import DEFAULT_SCENARIO


class CrisisScenario(Scenario):
    """Typed parameters of one run: the condition (scenario, levers, overlays, overrides), seed, run."""

    scenario_file: str = str(DEFAULT_SCENARIO)
    levers: tuple = ()
    overlays: tuple = ()
    overrides: tuple = ()
    seed: int = 0
    run_index: int = 0

    @property
    def condition(self) -> Condition:
        return Condition.of(self.scenario_file, levers=self.levers, overlays=self.overlays,
                            overrides=[tuple(kv) for kv in self.overrides])


class StateActor(Agent):
    """A government: reads its (perceived) situation and picks one move a turn."""

    def __init__(self, model: CrisisModel, index: int, actor_id: str):
        super().__init__(model)
        self.index = index
        self.actor_id = actor_id
        self._decision: rules.Decision | None = None
        self._all: rules.Decision | None = None

    def decide(self) -> None:
        """Score admissible moves and draw one (the same rule as the ensemble), alone."""
        self.decision = rules.decide(self.model.spec, self.model.state, np.array([self.index]))

    def take(self, all_actors: rules.Decision) -> None:
        """This actor's row of the decision every actor made at once (see ``CrisisModel._agents_decide``),
        cut out when it is first read (most turns nobody reads it)."""
        self._all, self._decision = all_actors, None

    @property
    def decision(self) -> rules.Decision | None:
        """What this actor decided this turn."""
        if self._decision is None and self._all is not None:
            self._decision = rules.Decision(*(getattr(self._all, f.name)[:, self.index:self.index + 1]
                                              for f in fields(rules.Decision)))
        return self._decision

    @decision.setter
    def decision(self, value: rules.Decision | None) -> None:
        self._decision, self._all = value, None

    @property
    def level(self) -> str:
        """The rung of this actor's latest move."""
        return self.model.spec.catalogue.rungs[int(self.model.state.level[0, self.index])].id

    @property
    def top_threat(self) -> float:
        """How threatening this actor finds its most threatening counterpart."""
        return float(np.delete(self.model.state.H[0, self.index], self.index).max(initial=0.0))

    def perceived_threat(self) -> dict[str, float]:
        """How threatening this actor finds each other actor right now."""
        H = self.model.state.H[0, self.index]
        return {b: float(H[j]) for j, b in enumerate(self.model.spec.actor_ids) if j != self.index}


class CrisisModel(Model):
    """One run of a crisis condition; ``run_model()`` plays it to its end."""

    def __init__(self, scenario: CrisisScenario | None = None, spec: Spec | None = None, **kwargs):
        scenario = scenario or CrisisScenario(**kwargs)
        key = rng.run_keys(scenario.seed, [scenario.run_index])
        scenario.rng = int(key[0])  # Mesa's own generator is unused: draws come from the run key
        super().__init__(scenario=scenario)
        self.spec = spec or compiled(scenario.condition)
        self.state = rules.State.initial(self.spec, key, np.array([scenario.run_index]))
        self.log = EventLog(self.spec)
        self.summary: dict | None = None
        for i, a in enumerate(self.spec.actor_ids):
            StateActor(self, i, a)
        self.actors = sorted(self.agents_by_type[StateActor], key=lambda x: x.index)
        self.datacollector = DataCollector(
            model_reporters={"turn": lambda m: m.state.turn, "crisis_rung": "crisis_rung",
                             "peak_mid_hostility": lambda m: int(m.state.peak_mid[0]),
                             "incidents": lambda m: int(m.state.incidents[0])},
            agent_reporters={"actor": "actor_id", "rung": "level", "top_threat": "top_threat"},
        )
        self.datacollector.collect(self)

    @property
    def crisis_rung(self) -> str:
        """The highest rung the crisis has reached."""
        return self.spec.catalogue.rungs[int(self.state.crisis[0])].id

    def _agents_decide(self, spec: Spec, st: rules.State, reasons: bool = True) -> rules.Decision:
        """Every agent's decision of this turn, made in one call of the rules for all of them.

        Deciding agent by agent (``StateActor.decide``) gives the same moves (draws are keyed by
        actor, and nobody's decision reads another's this turn) but costs one pass of the array
        code per agent: on one run that overhead is the whole cost, so the model decides for all
        at once and hands each agent its row (``StateActor.take``).
        """
        dec = rules.decide(spec, st, reasons=reasons)
        self.agents_by_type[StateActor].do("take", dec)
        return dec

    def step(self) -> None:
        """One scenario turn through the shared loop: each of its days is injects, every agent's decision,
        resolution (a turn longer than a day is several engine steps)."""
        for _ in range(self.spec.constants.steps_per_turn):
            loop.advance(self.spec, self.state, self.log, decide=self._agents_decide)
            if self.state.end[0] > 0:
                self.summary = summarise(self.spec, self.state, self.scenario.seed)
                self.running = False
                break
        self.datacollector.collect(self)

    def runs_row(self) -> pd.DataFrame:
        """This run's row of the runs table (after it has ended)."""
        if self.summary is None:
            raise RuntimeError("the run has not ended yet")
        return runs_frame(self.summary)

    def events(self) -> pd.DataFrame:
        """This run's event log so far: one row per actor per turn, with reasons."""
        return self.log.frame()
