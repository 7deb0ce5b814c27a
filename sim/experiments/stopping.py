"""The --until-ci stopping rule: add runs until every headline probability is known to ±EPS (95%).

The headline probabilities (``sim.experiments.measures.HEADLINE``) are the outcome classes and
``use_of_force``; their 95% intervals are the Wilson intervals the summary prints. The stopping
point is checked at fixed checkpoints (every ``step`` runs, and at the cap) over the runs in index
order, never over whichever chunks happened to finish first, so a job stops at the
same run count, with the same results, for any number of workers, chunk size or
backend; the result equals a plain job of that many runs.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from sim.experiments.measures import HEADLINE

DEFAULT_STEP = 1_000


def half_widths(counts: np.ndarray, n: int) -> np.ndarray:
    """Half-widths of the 95% Wilson intervals for ``counts`` successes out of ``n``."""
    from sim.analysis.stats import wilson

    lo, hi = wilson(counts, n)
    return (hi - lo) / 2


def headline_codes(outcome_codes: np.ndarray, force: np.ndarray) -> np.ndarray:
    """Per-run indicators, shape (runs, len(HEADLINE)): one-hot outcome class + use of force."""
    ind = np.zeros((len(outcome_codes), len(HEADLINE)), np.int64)
    ind[np.arange(len(outcome_codes)), outcome_codes.astype(np.int64)] = 1
    ind[:, -1] = force.astype(bool)
    return ind


@dataclass
class CIPlanner:
    """Decides, for one design point, how many runs are enough (``eps=None``: always the cap)."""

    cap: int
    eps: float | None = None
    step: int = DEFAULT_STEP
    prefix: int = 0  # runs [0, prefix) have been counted
    counts: np.ndarray = field(default_factory=lambda: np.zeros(len(HEADLINE), np.int64))
    stop_at: int | None = None
    _pending: dict[int, tuple[np.ndarray, np.ndarray]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.eps is None:
            self.stop_at = self.cap

    @property
    def decided(self) -> bool:
        return self.stop_at is not None

    def needs(self, start: int) -> bool:
        """Whether a chunk starting at run ``start`` can still be part of the result."""
        return self.stop_at is None or start < self.stop_at

    def add(self, start: int, outcome: np.ndarray, force: np.ndarray) -> None:
        """Count a finished chunk (outcome codes and use of force, in run order from ``start``).

        Chunks may arrive in any order; they are counted, and checkpoints checked, in run order.
        """
        if self.decided:
            return
        self._pending[start] = (outcome, force)
        while self.prefix in self._pending and not self.decided:
            ind = headline_codes(*self._pending.pop(self.prefix))
            cum = np.cumsum(ind, axis=0)
            lo, hi = self.prefix, self.prefix + len(ind)
            first = (lo // self.step + 1) * self.step
            checks = [*range(first, min(hi, self.cap) + 1, self.step)]
            if lo < self.cap <= hi and self.cap not in checks:
                checks.append(self.cap)
            for m in checks:
                c = self.counts + cum[m - lo - 1]
                if m >= self.cap or bool(np.all(half_widths(c, m) < self.eps)):
                    self.stop_at = m
                    break
            self.counts = self.counts + cum[-1]
            self.prefix = hi
        if self.decided:
            self._pending.clear()


def ci_report(eps: float | None, step: int, cap: int, indicators_sum: np.ndarray, n: int) -> dict:
    """What --until-ci settled on, for the manifest and the summary."""
    hw = half_widths(indicators_sum, n)
    return {"eps": eps, "step": step, "cap": cap, "runs": n,
            "reached": bool(eps is not None and np.all(hw < eps)),
            "half_widths": {k: round(float(v), 6) for k, v in zip(HEADLINE, hw, strict=True)}}
