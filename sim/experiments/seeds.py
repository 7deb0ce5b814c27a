"""Root seeds: whole numbers from 0 to 2**63 - 1.

A seed feeds ``numpy.random.SeedSequence`` (non-negative only) and is stored in the results
(``design.parquet``, the runs tables) as a signed 64-bit integer, hence the range. Every seed
the user gives (``--seed``, a sweep file's ``seed``) is checked at the boundary, before any file
is written.
"""

from __future__ import annotations

from typing import Any

from sim.errors import InputError

MAX_SEED = 2**63 - 1


def check_seed(seed: Any, where: str = "--seed", field: str = "") -> int:
    """The seed as an int, or an InputError naming the documented range."""
    if isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed <= MAX_SEED:
        raise InputError(where, field, f"a seed is a whole number from 0 to 2**63 - 1 ({MAX_SEED}); got {seed!r}"[:200])
    return int(seed)
