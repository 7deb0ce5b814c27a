"""Designs over factors: the one Latin-hypercube sampler and the full factorial.

Sweeps (``sim.experiments.sweep``) and sensitivity analysis (``sim.analysis.sensitivity``)
both sample here, so a seed names the same design wherever it is used.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy as np


def lhs_unit(samples: int, n_factors: int, seed: int) -> np.ndarray:
    """A Latin-hypercube sample on [0, 1)^k: per factor, one point in each of ``samples`` strata.

    Shape ``(samples, n_factors)``; factor by factor, a permutation of the strata and a uniform
    offset within each, drawn from ``SeedSequence(seed)`` (McKay et al. 1979).
    """
    import numpy as np

    rng = np.random.default_rng(np.random.SeedSequence(seed))
    u = np.empty((samples, n_factors))
    for j in range(n_factors):
        u[:, j] = (rng.permutation(samples) + rng.random(samples)) / samples
    return u


def factorial(factors: Mapping[str, Sequence[Any]]) -> list[dict[str, Any]]:
    """Every combination of the factors' values, the first factor varying slowest."""
    keys = list(factors)
    return [dict(zip(keys, combo, strict=True)) for combo in itertools.product(*factors.values())]
