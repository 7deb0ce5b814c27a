"""The one registry of results columns: every column of every Parquet file, its type, unit and nulls.

``docs/data.md`` (the data dictionary) is generated from :data:`COLUMNS`
(``python -m sim.experiments.columns > docs/data.md``), and ``tests/test_columns.py`` checks
the registry against real files, so a column cannot be added, retyped or start holding nulls
without the dictionary saying so. Types are the Arrow types a reader sees (pandas, DuckDB,
Dask, Polars): ``ordered category`` is an Arrow dictionary with ``ordered=true``, read by pandas
as an ordered ``Categorical``; DuckDB reads any dictionary as VARCHAR, so each ordinal column
also has an integer ``*_index`` column to compare or average in SQL.

Missing values are real nulls (Arrow null, pandas ``NA``/``NaN``), never ``-1`` or ``''``.
Results written before format 2 used such sentinels; :func:`upgrade` turns them into nulls
when a folder is read (``sim.experiments.store.read_table``), so old results load the same way.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pandas as pd
    import pyarrow as pa

TABLES = ("runs", "events", "injects", "design")


@dataclass(frozen=True)
class Column:
    """One column (or a family, e.g. ``tried_<CHANNEL>``): type, unit, what a null means, meaning."""

    table: str
    name: str
    type: str
    description: str
    unit: str = ""
    nulls: str = ""  # what a null means; empty: never null
    sweeps_only: bool = False

    @property
    def pattern(self) -> re.Pattern:
        """``<ACTOR>``, ``<CHANNEL>`` and ``<FACTOR>`` stand for any id."""
        return re.compile("^" + re.sub(r"<[A-Z]+>", ".+", re.escape(self.name).replace(r"\<", "<").replace(r"\>", ">"))
                          + "$")


_RUNG_CATS = "rung ids of sim/data/ladder.yaml, in ladder order"
_RUNS = [
    ("point", "int32", "design point of a sweep (joins design.parquet)", "", "", True),
    ("run", "int64", "run index within the job (or design point); with seed, it fixes every draw", "", "", False),
    ("seed", "int64", "root seed of the job (or design point)", "", "", False),
    ("outcome", "category", "outcome class (deescalated_agreement, frozen_stalemate, contained_clash, coercive_gain, "
     "major_war, nuclear_use)", "", "", False),
    ("end_reason", "category", "why the run ended (agreement, faded, time_limit, war ...)", "", "", False),
    ("end_form", "category", "how the crisis ended, in ICB FOROUT terms", "", "", False),
    ("turns", "int16", "turns played", "turns", "", False),
    ("duration_hours", "float64", "simulated duration", "hours", "", False),
    ("duration_days", "float64", "simulated duration", "days", "", False),
    ("peak_rung", "ordered category", f"highest rung the crisis reached ({_RUNG_CATS})", "", "", False),
    ("peak_rung_index", "int8", "peak_rung as its position on the ladder (0 = lowest): compare and average this in SQL",
     "ladder position", "", False),
    ("peak_rung_label", "category", "peak_rung in words (the ladder's label)", "", "", False),
    ("peak_unit", "ordered category", "ladder unit (between firebreaks) of peak_rung, in ladder order", "", "", False),
    ("peak_unit_index", "int8", "peak_unit as its position (0 = lowest unit)", "unit position", "", False),
    ("peak_mid_hostility", "int8", "highest COW MID hostility level of any move (1..5)", "MID level", "", False),
    ("peak_icb_viol", "int8", "highest ICB violence level (1 none .. 4 full-scale war)", "ICB VIOL", "", False),
    ("use_of_force", "bool", "some actor used force (MID hostility 4+)", "", "", False),
    ("first_force_turn", "int16", "turn in which force was first used", "turns", "force was never used", False),
    ("first_force_day", "float64", "day on which force was first used", "days", "force was never used", False),
    ("first_force_cause", "category", "how the first use of force came about", "", "force was never used", False),
    ("first_force_actor", "category", "who first used force", "", "force was never used", False),
    ("war_cause", "category", "how the crisis reached war", "", "no war", False),
    ("war_actor", "category", "who crossed into war", "", "no war", False),
    ("war_target", "category", "against whom", "", "no war", False),
    ("nuclear_dyad_war", "bool", "the war was between two nuclear-armed actors", "", "", False),
    ("incidents", "int16", "incidents at sea or in the air", "count", "", False),
    ("casualty_incidents", "int16", "incidents with casualties", "count", "", False),
    ("mediation_requested", "bool", "a third party was asked to mediate", "", "", False),
    ("mediation_occurred", "bool", "mediation took place", "", "", False),
    ("coercive_winner", "category", "actor who gained by coercion (an adversary principal conceded)", "",
     "nobody won by coercion", False),
    ("path", "string", "the sequence of new crisis peaks, rung ids joined by '>'", "", "", False),
    ("icb_outcome_<ACTOR>", "category", "ICB outcome for the actor (victory, compromise, stalemate, defeat)", "", "",
     False),
    ("conceded_<ACTOR>", "bool", "the actor conceded", "", "", False),
    ("tried_<CHANNEL>", "int16", "calls made on the crisis channel", "count", "", False),
    ("answered_<CHANNEL>", "int16", "calls answered on the crisis channel", "count", "", False),
]
_EVENTS = [
    ("point", "int32", "design point of a sweep", "", "", True),
    ("run", "int64", "run (joins runs.parquet on run, and point in a sweep)", "", "", False),
    ("turn", "int16", "turn of the move", "turns", "", False),
    ("day", "float32", "day of the move", "days", "", False),
    ("actor", "category", "actor moving", "", "", False),
    ("action", "category", "action id (sim/data/actions.yaml)", "", "", False),
    ("action_label", "category", "the action in words", "", "", False),
    ("target", "category", "actor the move is aimed at", "", "the move has no target", False),
    ("rung_intended", "ordered category", f"rung the actor meant ({_RUNG_CATS})", "", "", False),
    ("rung_intended_index", "int8", "rung_intended as its ladder position", "ladder position", "", False),
    ("rung_realised", "ordered category", "rung the move came to (an accident or slip can raise it)", "", "", False),
    ("rung_realised_index", "int8", "rung_realised as its ladder position", "ladder position", "", False),
    ("rung_perceived", "ordered category",
     "rung the target read the move at (a collision the actor is blamed for raises rung_realised only)", "",
     "nobody perceived the move", False),
    ("rung_perceived_index", "int8", "rung_perceived as its ladder position", "ladder position",
     "nobody perceived the move", False),
    ("mid_hostility", "int8", "COW MID hostility level of the move (1..5)", "MID level", "", False),
    ("incident", "bool", "the move caused an incident", "", "", False),
    ("channel_answered", "category", "whether a crisis-channel call was answered (no, yes)", "",
     "no call was made", False),
    ("slipped", "bool", "the move went higher than intended", "", "", False),
    ("scripted", "bool", "forced by an inject (not a choice)", "", "", False),
    ("p_choice", "float32", "probability the decision rule gave the move", "probability", "", False),
    ("long_odds", "bool", "a chosen move the rule gave less than 5%", "", "", False),
    ("cause_actor", "category", "actor whose move this answers", "", "it answers no one's move", False),
    ("cause_action", "category", "the move it answers, or the incident (collision)", "", "it answers no one's move",
     False),
    ("cause_turn", "int16", "turn of the move it answers", "turns", "it answers no one's move", False),
    ("driver1", "category", "strongest reason for the choice", "", "a scripted move (nobody chose it)", False),
    ("driver1_weight", "float32", "its weight in the choice", "utility", "a scripted move", False),
    ("driver2", "category", "second reason", "", "a scripted move", False),
    ("driver2_weight", "float32", "its weight", "utility", "a scripted move", False),
    ("restraint", "category", "strongest reason against escalating", "", "a scripted move", False),
    ("restraint_weight", "float32", "its weight", "utility", "a scripted move", False),
]
_INJECTS = [
    ("point", "int32", "design point of a sweep", "", "", True),
    ("run", "int64", "run in which the inject fired", "", "", False),
    ("turn", "int16", "turn it fired", "turns", "", False),
    ("inject", "category", "inject id (the scenario's MSEL)", "", "", False),
]
_DESIGN = [
    ("point", "int32", "design point", "", "", True),
    ("seed", "int64", "seed of the point's runs", "", "", True),
    ("<FACTOR>", "any", "a factor's value at the point, named by its dotted path (e.g. parameters.fog); "
     "quote it in SQL", "", "", True),
]

COLUMNS: tuple[Column, ...] = tuple(
    Column(table, name, typ, desc, unit, nulls, sweeps)
    for table, rows in (("runs", _RUNS), ("events", _EVENTS), ("injects", _INJECTS), ("design", _DESIGN))
    for name, typ, desc, unit, nulls, sweeps in rows)


def lookup(table: str, name: str) -> Column | None:
    """The registry entry for a column of a table (exact names first, then families)."""
    exact = [c for c in COLUMNS if c.table == table and c.name == name]
    return exact[0] if exact else next((c for c in COLUMNS if c.table == table and c.pattern.match(name)), None)


def arrow_kind(t: pa.DataType) -> str:
    """The registry's word for an Arrow type."""
    import pyarrow as pa

    if pa.types.is_dictionary(t):
        return "ordered category" if t.ordered else "category"
    if pa.types.is_string(t) or pa.types.is_large_string(t):
        return "string"
    names = {"float": "float32", "double": "float64", "bool": "bool"}
    return names.get(str(t), str(t))


# ============================================================================ old files


_ORDINAL = {"runs": ("peak_rung", "peak_unit"), "events": ("rung_intended", "rung_realised", "rung_perceived")}
_EMPTY_IS_NULL = {"runs": ("coercive_winner",), "events": ("target", "rung_perceived", "channel_answered")}


def upgrade(df: pd.DataFrame, table: str) -> pd.DataFrame:
    """A table as format 2 has it, whichever format wrote it: ``''`` categories and the ``-1``
    of ``first_force_turn`` become nulls, rung columns ordered. A format-2 table is unchanged."""
    import pandas as pd

    for c in _EMPTY_IS_NULL.get(table, ()):
        if c in df and isinstance(df[c].dtype, pd.CategoricalDtype) and "" in df[c].cat.categories:
            df[c] = df[c].cat.remove_categories("")
    for c in _ORDINAL.get(table, ()):
        if c in df and isinstance(df[c].dtype, pd.CategoricalDtype) and not df[c].cat.ordered:
            df[c] = df[c].cat.as_ordered()
    if table == "runs" and "first_force_turn" in df and df["first_force_turn"].dtype.kind == "i":
        df["first_force_turn"] = df["first_force_turn"].astype("Int16").mask(df["first_force_turn"] < 0)
    return df


# ============================================================================ the data dictionary


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("<", "&lt;").replace(">", "&gt;") if text else ""


def markdown() -> str:
    """``docs/data.md``: every column of every results file, from :data:`COLUMNS`."""
    files = {"runs": "runs.parquet: one row per run", "events": "events.parquet: one row per actor and turn",
             "injects": "injects.parquet: one row per inject fired",
             "design": "design.parquet (sweeps): one row per design point"}
    out = ["# Results data dictionary", "",
           "<!-- generated by `python -m sim.experiments.columns > docs/data.md` from sim/experiments/columns.py; "
           "tests/test_columns.py checks it against real files -->", "",
           "Every results folder holds Parquet files read directly by pandas, DuckDB, Dask or Polars, and "
           "`manifest.json` (what produced them: inputs and content hashes, seed, parameter set, package "
           "version and git commit, the exact command; `crisis-sim rerun DIR` reproduces the folder).", "",
           "- **Missing values are nulls** (Arrow null; pandas `NA` or `NaN`), never `-1` or `''`. The "
           "*null means* column says what a null stands for; a blank there means the column is never null. "
           "So `avg(first_force_turn)` in SQL is the mean over runs that used force.",
           "- **Ordinal scales are ordered**: `ordered category` columns are Arrow dictionaries with "
           "`ordered=true` (pandas: ordered `Categorical`, so `runs.peak_rung > 'mobilise'` compares in "
           "ladder order). DuckDB reads dictionaries as text, so compare the `*_index` column there: "
           "`WHERE peak_rung_index > 5`.",
           "- Sweeps add `point` to runs, events and injects; join them to `design.parquet` on `point`.",
           "- `<ACTOR>` stands for each actor id of the scenario (e.g. `icb_outcome_PRC`), `<CHANNEL>` for each "
           "crisis channel id.",
           "- Files written before format 2 used `-1`/`''` for missing values; `sim.experiments.store.read_runs` "
           "(and `load_results`) read them as nulls.", ""]
    for table in TABLES:
        out += [f"## {files[table]}", "", "| column | type | unit | null means | description |",
                "|---|---|---|---|---|"]
        for c in (c for c in COLUMNS if c.table == table):
            name = f"`{c.name}`" + (" (sweeps)" if c.sweeps_only and table != "design" else "")
            out.append(f"| {_cell(name)} | {c.type} | {_cell(c.unit)} | {_cell(c.nulls)} | {_cell(c.description)} |")
        out.append("")
    return "\n".join(out)


if __name__ == "__main__":  # pragma: no cover
    print(markdown(), end="")
