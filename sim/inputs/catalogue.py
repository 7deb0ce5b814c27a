"""The ladder, action catalogue and channel table, loaded once and cross-checked.

These three files are the engine's authoritative tables. This module reads them,
checks the references between them (every action's rung exists, every channel
trigger names a real action, ...) and exposes lookups used by the compiler.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path

from sim.errors import InputError
from sim.inputs.library import DATA_DIR
from sim.inputs.loader import load
from sim.inputs.schema import Action, ActionCatalogue, Channel, ChannelTable, Ladder, Rung
from sim.names import INCIDENTS, Threshold

#: MID 5.0 action code -> hostility level (escalation_frameworks.md, section 2).
MID_ACTION_HOSTILITY = {0: 1, **dict.fromkeys(range(1, 7), 2), **dict.fromkeys(range(7, 13), 3),
                        **dict.fromkeys(range(13, 20), 4), 20: 5, 21: 5}


@dataclass(frozen=True)
class Catalogue:
    """The three tables plus index lookups."""

    ladder: Ladder
    actions: tuple[Action, ...]
    channels: tuple[Channel, ...]
    folder: Path = DATA_DIR  # where the three files were read (their bytes go into a spec's content hash)

    @property
    def rungs(self) -> tuple[Rung, ...]:
        return tuple(self.ladder.rungs)

    def rung_index(self, rung_id: str) -> int:
        for i, r in enumerate(self.ladder.rungs):
            if r.id == rung_id:
                return i
        raise KeyError(rung_id)

    def action_index(self, action_id: str) -> int:
        for i, a in enumerate(self.actions):
            if a.id == action_id:
                return i
        raise KeyError(action_id)

    def trigger_index(self, line) -> int:
        """A red line's trigger as one index: its action's, or ``len(actions) + i`` for incident ``i``
        (``sim.names.INCIDENTS``), so tables keyed by action carry incidents in trailing slots."""
        if line.incident is not None:
            return len(self.actions) + INCIDENTS.index(line.incident)
        return self.action_index(line.action)

    def unit_index(self, unit_id: str) -> int:
        for i, u in enumerate(self.ladder.units):
            if u.id == unit_id:
                return i
        raise KeyError(unit_id)

    def threshold(self, name: Threshold | str) -> int:
        """Index of the rung that plays a role in the rules (``thresholds`` in ladder.yaml)."""
        return self.rung_index(self.ladder.thresholds[Threshold(name).value])

    def firebreak_unit(self, action: Action) -> int:
        """Index of the ladder unit whose firebreak ``action`` crosses: the one it names, else its rung's."""
        return self.unit_index(action.firebreak_unit or self.ladder.rungs[self.rung_index(action.rung)].unit)

    def score_points(self, rung: Rung) -> float:
        return next(c.points for c in self.ladder.score_categories if c.id == rung.score_category)

    def channel(self, channel_id: str) -> Channel:
        for c in self.channels:
            if c.id == channel_id:
                return c
        raise KeyError(channel_id)


def _check(cat: Catalogue, paths: dict[str, Path]) -> None:
    lad = paths["ladder"]
    units = {u.id for u in cat.ladder.units}
    cats = {c.id for c in cat.ladder.score_categories}
    rung_ids = [r.id for r in cat.ladder.rungs]
    if len(set(rung_ids)) != len(rung_ids):
        raise InputError(lad, "rungs", "rung ids must be unique")
    last_unit = -1
    for i, r in enumerate(cat.ladder.rungs):
        if r.unit not in units:
            raise InputError(lad, f"rungs.{i}.unit", f"unknown unit {r.unit!r}")
        if r.score_category not in cats:
            raise InputError(lad, f"rungs.{i}.score_category", f"unknown category {r.score_category!r}")
        u = cat.unit_index(r.unit)
        if u < last_unit:
            raise InputError(lad, f"rungs.{i}.unit", "units must appear in ladder order")
        last_unit = u
    for name, rung in cat.ladder.thresholds.items():
        if rung not in rung_ids:
            raise InputError(lad, f"thresholds.{name}", f"unknown rung {rung!r}")
    act = paths["actions"]
    ids = [a.id for a in cat.actions]
    if len(set(ids)) != len(ids):
        raise InputError(act, "actions", "action ids must be unique")
    for i, a in enumerate(cat.actions):  # the event log's cause_action names actions and incidents alike
        if a.id in INCIDENTS:
            raise InputError(act, f"actions.{i}.id", f"{a.id!r} names an incident: choose another action id")
    for i, a in enumerate(cat.actions):
        if a.rung not in rung_ids:
            raise InputError(act, f"actions.{i}.rung", f"unknown rung {a.rung!r}")
        if MID_ACTION_HOSTILITY[a.mid_action] != a.mid_hostility:
            raise InputError(act, f"actions.{i}.mid_hostility",
                             f"MID action {a.mid_action} implies hostility {MID_ACTION_HOSTILITY[a.mid_action]}")
        for key in ("min_crisis_rung", "min_own_rung"):
            val = getattr(a.requires, key)
            if val is not None and val not in rung_ids:
                raise InputError(act, f"actions.{i}.requires.{key}", f"unknown rung {val!r}")
        if a.firebreak_unit is not None:
            if a.firebreak_unit not in units:
                raise InputError(act, f"actions.{i}.firebreak_unit", f"unknown unit {a.firebreak_unit!r}")
            if cat.firebreak_unit(a) > cat.unit_index(cat.ladder.rungs[cat.rung_index(a.rung)].unit):
                raise InputError(act, f"actions.{i}.firebreak_unit",
                                 f"{a.firebreak_unit!r} is above the unit of rung {a.rung!r}: a move cannot cross "
                                 "a firebreak beyond its own rung's")
        if a.rivera_category is not None and a.rivera_category not in cats:
            raise InputError(act, f"actions.{i}.rivera_category", f"unknown category {a.rivera_category!r}")
    for i, c in enumerate(cat.channels):
        for k in c.suspend_on:
            if k not in ids:
                raise InputError(paths["channels"], f"channels.{i}.suspend_on", f"unknown action {k!r}")


@cache
def load_catalogue(data_dir: str | None = None) -> Catalogue:
    """Load and cross-check the three tables (cached per directory)."""
    base = Path(data_dir) if data_dir else DATA_DIR
    paths = {"ladder": base / "ladder.yaml", "actions": base / "actions.yaml", "channels": base / "channels.yaml"}
    cat = Catalogue(
        ladder=load(Ladder, paths["ladder"]),
        actions=tuple(load(ActionCatalogue, paths["actions"]).actions),
        channels=tuple(load(ChannelTable, paths["channels"]).channels),
        folder=base,
    )
    _check(cat, paths)
    return cat
