"""The compiled inner loops of the decision step (Numba), called by ``sim.engine.decisions`` on every path.

Why: the utility of every option is a sum of ~15 (run, actor, option) products; written as NumPy
expressions it makes one full temporary per product, which at 25,000 runs is far larger than the
cache (the review measured it memory-bound, 61% of ``utility``). Here each (run, actor) is one
loop over its options that keeps the sum in a register. The same goes for the draw (cumulative
sum and first crossing), which NumPy does in three passes.

One implementation: these functions *are* the rule steps ``utility`` (MODEL.md §3.3, the
utility of every option) and the logit draw; the ensemble, the Mesa adapter and the workshop all
reach them through ``decisions.score``/``decide``. Behaviour constants are never written here:
weights, priors, temperatures and features arrive as arrays compiled from the data (``Spec``).
The order of floating-point operations is that of the NumPy expressions they replace (affinity
plus temperature times prior, then each feature's coefficient times the feature, in the order of
``decisions.TERMS``), so results are bit-identical; ``exp`` stays in NumPy for the same reason
(a compiled ``exp`` differs from NumPy's SIMD one in the last bit).

Pure-Python fallback: set ``NUMBA_DISABLE_JIT=1`` and the same functions run uncompiled (slowly;
for debugging). Compiled code is cached on disk (``cache=True``, ``__pycache__``), so only the
first import after an edit pays the compile (~2 s).
"""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True, nogil=True)
def utility_table(base: np.ndarray, coef: np.ndarray, static: np.ndarray, dyn: np.ndarray,
                  slot: np.ndarray) -> np.ndarray:
    """Utility of every option, (R, a, K).

    ``base`` (1 or R, a, K): affinity + tau x prior. ``coef`` (R, a, F): each feature's coefficient
    (posture weights x state quantities). ``static`` (a, K, F) holds the features that do not depend
    on the run; feature ``j`` with ``slot[j] >= 0`` is instead ``dyn[r, i, k, slot[j]]``.
    """
    R, A, F = coef.shape
    K = static.shape[1]
    out = np.empty((R, A, K))
    one_base = base.shape[0] == 1
    for r in range(R):
        rb = 0 if one_base else r
        for i in range(A):
            for k in range(K):
                total = base[rb, i, k]
                for j in range(F):
                    s = slot[j]
                    f = static[i, k, j] if s < 0 else dyn[r, i, k, s]
                    total = total + coef[r, i, j] * f
                out[r, i, k] = total
    return out


@njit(cache=True, nogil=True)
def logits(util: np.ndarray, tau: np.ndarray, admissible: np.ndarray) -> np.ndarray:
    """Utility / temperature minus each (run, actor)'s maximum over admissible options; -inf if
    inadmissible (the argument of the softmax)."""
    R, A, K = util.shape
    out = np.empty((R, A, K))
    for r in range(R):
        for i in range(A):
            vmax = -np.inf
            for k in range(K):
                v = util[r, i, k] / tau[i] if admissible[r, i, k] else -np.inf
                out[r, i, k] = v
                if v > vmax:
                    vmax = v
            for k in range(K):
                out[r, i, k] = out[r, i, k] - vmax
    return out


@njit(cache=True, nogil=True)
def draw_options(p: np.ndarray, u: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The logit draw: for each (run, actor) the first option whose cumulative probability exceeds
    ``u`` x total (option 0 if none does), and that option's probability relative to the total."""
    R, A, K = p.shape
    opt = np.zeros((R, A), np.int64)
    prob = np.empty((R, A))
    cum = np.empty(K)
    for r in range(R):
        for i in range(A):
            acc = 0.0
            for k in range(K):
                acc = acc + p[r, i, k]
                cum[k] = acc
            x = u[r, i] * acc
            pick = 0
            for k in range(K):
                if cum[k] > x:
                    pick = k
                    break
            opt[r, i] = pick
            prob[r, i] = p[r, i, pick] / acc
    return opt, prob
