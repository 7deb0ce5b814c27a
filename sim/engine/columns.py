"""The columns of the event log (``events.parquet``): type, precision and meaning, in one place.

Why one dict: the event log is the largest output (one row per actor per turn: ~13 M rows for
100,000 Korean Peninsula runs), so each column's storage is chosen here, and the data dictionary
(``docs/data.md``) and the writer read it from here instead of repeating it.

Precision. Floats are stored as float32 whose mantissa is rounded to ``bits`` significant bits
(round half to even): a relative error of at most 2**-bits, far below what a probability or a
weight read from a log is used for, and the low mantissa bytes become zeros that the Parquet
writer (byte-stream split + zstd) stores almost for free. Readers still get plain float32.
Categories (actors, actions, rungs, terms) are dictionary-encoded: a small index per row.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class EventColumn:
    """One column of the event log: its pandas dtype, its precision (floats), what it means."""

    dtype: str  # "category" (dictionary-encoded), or a numpy / pandas dtype name
    meaning: str
    bits: int | None = None  # floats: significant bits kept (relative error <= 2**-bits)
    nullable: bool = False


EVENT_COLUMNS: dict[str, EventColumn] = {
    "run": EventColumn("int64", "run index within the job"),
    "turn": EventColumn("int16", "engine step (day) the move was made"),
    "day": EventColumn("float32", "days elapsed at the end of the step"),
    "actor": EventColumn("category", "the actor that moved"),
    "action": EventColumn("category", "the catalogue action taken"),
    "action_label": EventColumn("category", "the action in words"),
    "target": EventColumn("category", "whom the move addressed (null for none)", nullable=True),
    "rung_intended": EventColumn("category", "escalation rung of the chosen move (ordered)"),
    "rung_intended_index": EventColumn("Int8", "its ladder position"),
    "rung_realised": EventColumn("category", "rung after friction, incidents and accidents (ordered)"),
    "rung_realised_index": EventColumn("Int8", "its ladder position"),
    "rung_perceived": EventColumn("category", "rung the target read the move at, a collision aside (null without a "
                                              "target)", nullable=True),
    "rung_perceived_index": EventColumn("Int8", "its ladder position", nullable=True),
    "mid_hostility": EventColumn("int8", "COW MID hostility level of the realised move"),
    "incident": EventColumn("bool", "the actor was responsible for a collision"),
    "channel_answered": EventColumn("category", "a call or forum was answered: 'yes', 'no', null (none placed)",
                                     nullable=True),
    "slipped": EventColumn("bool", "friction carried the move one rung higher than chosen"),
    "scripted": EventColumn("bool", "an inject scripted the move (no choice, no reasons)"),
    "p_choice": EventColumn("float32", "probability the chosen move had this turn (1 if scripted)", bits=8),
    "long_odds": EventColumn("bool", "a chosen move with p_choice below 0.05 (decided before rounding)"),
    "cause_actor": EventColumn("category", "whose earlier move this one answers (null: none)", nullable=True),
    "cause_action": EventColumn("category", "that earlier move's action, or the incident it answers (collision; "
                                "null: none)", nullable=True),
    "cause_turn": EventColumn("Int16", "the step it was made (null: none)", nullable=True),
    "driver1": EventColumn("category", "term that most favoured the move over holding (null if scripted)",
                           nullable=True),
    "driver1_weight": EventColumn("float32", "its contribution to utility relative to holding", bits=6,
                                  nullable=True),
    "driver2": EventColumn("category", "the second such term", nullable=True),
    "driver2_weight": EventColumn("float32", "its contribution", bits=6, nullable=True),
    "restraint": EventColumn("category", "term that most held the move back", nullable=True),
    "restraint_weight": EventColumn("float32", "its contribution (negative)", bits=6, nullable=True),
}

#: Float columns stored with reduced precision: the writer uses byte-stream-split encoding for them.
ROUNDED = tuple(k for k, c in EVENT_COLUMNS.items() if c.bits is not None)


def round_bits(x: np.ndarray, bits: int) -> np.ndarray:
    """float32 values with the mantissa rounded to ``bits`` significant bits, half to even.

    Integer arithmetic on the IEEE bits, so the result is the same on every machine; NaN and
    infinities pass through, and a value that rounds up into the next binade stays correct.
    """
    f = np.ascontiguousarray(x, np.float32)
    u = f.view(np.uint32)
    drop = np.uint32(23 - bits)
    half = np.uint32(1) << (drop - np.uint32(1))
    odd = (u >> drop) & np.uint32(1)
    r = ((u + half - np.uint32(1) + odd) >> drop) << drop
    finite = np.isfinite(f)
    return np.where(finite, r, u).view(np.float32)
