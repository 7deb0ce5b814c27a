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

    Shape ``(samples, n_factors)``. Drawn by ``scipy.stats.qmc.LatinHypercube`` (McKay et al.
    1979; maintained and tested there, so no hand-written copy here) from a generator seeded by
    ``SeedSequence(seed)``: a seed names one design on every machine and in every caller.
    """
    import numpy as np
    from scipy.stats import qmc

    if n_factors == 0:
        return np.empty((samples, 0))
    rng = np.random.default_rng(np.random.SeedSequence(seed))
    return qmc.LatinHypercube(d=n_factors, rng=rng).random(samples)


def factorial(factors: Mapping[str, Sequence[Any]]) -> list[dict[str, Any]]:
    """Every combination of the factors' values, the first factor varying slowest."""
    keys = list(factors)
    return [dict(zip(keys, combo, strict=True)) for combo in itertools.product(*factors.values())]
