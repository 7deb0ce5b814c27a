"""The event log's column registry: the log has exactly its columns, types and stated precision."""

from __future__ import annotations

import numpy as np
import pytest

from sim.engine.columns import EVENT_COLUMNS, ROUNDED, round_bits
from sim.engine.ensemble import simulate


@pytest.mark.parametrize("bits", [6, 8, 10])
def test_round_bits_keeps_the_stated_relative_precision(bits):
    x = np.random.default_rng(1).lognormal(0.0, 3.0, 10_000).astype(np.float32) * np.sign(
        np.random.default_rng(2).normal(size=10_000)).astype(np.float32)
    r = round_bits(x, bits)
    assert r.dtype == np.float32
    assert np.all(np.abs(r.astype(float) - x) <= np.abs(x) * 2.0 ** -bits)
    assert np.all((r.view(np.uint32) & np.uint32((1 << (23 - bits)) - 1)) == 0)  # the dropped bits are zeros


def test_round_bits_half_to_even_and_specials():
    # 1 + 2**-9 lies halfway between 1 and 1 + 2**-8 at 8 bits: goes to the even one (1.0); 1 + 3 * 2**-9 goes up
    x = np.array([1 + 2.0 ** -9, 1 + 3 * 2.0 ** -9, np.nan, np.inf, -np.inf, 0.0, 1.0], np.float32)
    r = round_bits(x, 8)
    assert r[0] == 1.0 and r[1] == np.float32(1 + 2 * 2.0 ** -8)
    assert np.isnan(r[2]) and r[3] == np.inf and r[4] == -np.inf and r[5] == 0.0 and r[6] == 1.0


def test_event_log_has_the_registered_columns_and_precision(specs):
    ev = simulate(specs["korean_peninsula"], 3, 200).events
    assert list(ev.columns) == list(EVENT_COLUMNS)
    for name, col in EVENT_COLUMNS.items():
        assert str(ev[name].dtype) == col.dtype, name
        assert col.nullable or not ev[name].isna().any(), f"{name} has nulls but is not declared nullable"
    for name in ROUNDED:
        bits = ev[name].to_numpy(np.float32).view(np.uint32)
        assert np.all((bits & np.uint32((1 << (23 - EVENT_COLUMNS[name].bits)) - 1)) == 0), name


def test_the_data_dictionary_lists_the_same_event_columns():
    """Two views of one table: storage (sim.engine.columns) and documentation (sim.experiments.columns)."""
    from sim.experiments.columns import COLUMNS

    documented = [c.name for c in COLUMNS if c.table == "events" and c.name != "point"]
    assert documented == list(EVENT_COLUMNS)
