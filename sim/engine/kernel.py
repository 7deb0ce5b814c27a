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

#: Codes of the option features the kernel computes from the state (all others are static, from the Spec).
STATIC, JUMP2, FIREBREAK, ANSWER = 0, 1, 2, 3
#: Name of each computed feature (decisions.features uses these names).
DYNAMIC = {"jump2": JUMP2, "firebreak": FIREBREAK, "answer": ANSWER}


@njit(inline="always")
def jump2(esc: float, level: float) -> float:
    """Inertia: the squared rise of the option's rung above the actor's current level."""
    d = esc - level
    j = d if d > 0.0 else 0.0
    return j * j


@njit(inline="always")
def firebreak(table: np.ndarray, own: int, crowd: int, i: int, k: int) -> float:
    """Firebreak salience (see ``decisions.firebreak_rungs``): half the table at the highest threshold the
    actor has crossed itself, half at the one the crisis has crossed."""
    return 0.5 * table[own, i, k] + 0.5 * table[crowd, i, k]


@njit(inline="always")
def answer(bits: np.uint64, k: int, last_used: float, since: float) -> float:
    """1 if option ``k`` is a declared answer now owed and not already taken since the line was crossed."""
    return 1.0 if ((bits >> np.uint64(k)) & np.uint64(1)) != 0 and last_used < since else 0.0


@njit(inline="always")
def feature(code: int, i: int, k: int, r: int, esc, level, fb, own, crowd, bits, last_used, since) -> float:
    """Computed feature ``code`` of option ``k`` for actor row ``i`` in run ``r``."""
    if code == JUMP2:
        return jump2(esc[i, k], level[r, i])
    if code == FIREBREAK:
        return firebreak(fb, own[r, i], crowd[r, i], i, k)
    return answer(bits[r, i], k, last_used[r, i, k], since[r, i])


@njit(cache=True, nogil=True)
def utility_table(base, coef, static, code, esc, level, fb, own, crowd, bits, last_used, since) -> np.ndarray:
    """Utility of every option, (R, a, K): base + sum over features j of coef[j] x feature j.

    ``base`` (1 or R, a, K): affinity + tau x prior. ``coef`` (F, R, a): each feature's coefficient
    (posture weights x state quantities), in the order of ``decisions.TERMS``. Feature ``j`` is
    ``static[i, k, j]`` (from the Spec) if ``code[j] == STATIC``, else computed here from the state
    (:func:`feature`), so the (R, a, K) feature tables are never built.
    """
    F, R, A = coef.shape
    K = static.shape[1]
    out = np.empty((R, A, K))
    one_base = base.shape[0] == 1
    cj = np.empty(F)
    for r in range(R):
        rb = 0 if one_base else r
        for i in range(A):
            for j in range(F):
                cj[j] = coef[j, r, i]
            for k in range(K):
                total = base[rb, i, k]
                for j in range(F):
                    c = code[j]
                    if c == STATIC:
                        f = static[i, k, j]
                    else:
                        f = feature(c, i, k, r, esc, level, fb, own, crowd, bits, last_used, since)
                    total = total + cj[j] * f
                out[r, i, k] = total
    return out


@njit(cache=True, nogil=True)
def computed_features(esc, level, fb, own, crowd, bits, last_used, since, pick) -> np.ndarray:
    """The computed features (jump2, firebreak, answer) as (3, R, a, K) tables, or for the picked option
    of each (run, actor) only, (3, R, a, 1), when ``pick`` (R, a) is given (its first entry >= 0)."""
    R, A = level.shape
    one = pick.shape[0] > 0
    K = 1 if one else esc.shape[1]
    out = np.empty((3, R, A, K))
    for r in range(R):
        for i in range(A):
            for kk in range(K):
                k = pick[r, i] if one else kk
                for c in range(3):
                    out[c, r, i, kk] = feature(c + 1, i, k, r, esc, level, fb, own, crowd, bits, last_used, since)
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


@njit(inline="always")
def _sorts_before(x: float, y: float) -> bool:
    """``x`` comes before ``y`` in NumPy's ascending sort order (NaN last)."""
    return x < y or (y != y and x == x)


@njit(inline="always")
def _term_values(out, Q, part_q, part_x, part_t, static, code, k, i, r, esc, level, fb, own, crowd, bits,
                 last_used, since) -> None:
    """Each weighted term's value at option ``k`` of actor row ``i`` in run ``r``: the sum of its parts
    (state quantity x option feature), added in the order of ``decisions.TERMS`` from 0 (as ``sum``)."""
    out[:] = 0.0
    for p in range(part_q.shape[0]):
        x = part_x[p]
        c = code[x]
        f = static[i, k, x] if c == STATIC else feature(c, i, k, r, esc, level, fb, own, crowd, bits, last_used,
                                                        since)
        out[part_t[p]] = out[part_t[p]] + Q[part_q[p], r, i] * f


@njit(cache=True, nogil=True)
def reasons(Q, part_q, part_x, part_t, W, static, code, aff, opt, hold, esc, level, fb, own, crowd, bits,
            last_used, since) -> tuple[np.ndarray, np.ndarray]:
    """The reasons of each (run, actor)'s choice ``opt``: every term's weighted contribution to it relative
    to holding (then affinity's), ordered as a stable ascending sort of their negatives (NumPy's
    ``argsort(-D, kind="stable")``); returns the first two and the last (R, a, 3), and their contributions."""
    R, A = opt.shape
    T = W.shape[1]
    n = T + 1
    order = np.empty((R, A, 3), np.int64)
    contrib = np.empty((R, A, 3))
    vc, vh, D, idx = np.empty(T), np.empty(T), np.empty(n), np.empty(n, np.int64)
    one_aff = aff.shape[0] == 1
    for r in range(R):
        ra = 0 if one_aff else r
        for i in range(A):
            kc, kh = opt[r, i], hold[i]
            _term_values(vc, Q, part_q, part_x, part_t, static, code, kc, i, r, esc, level, fb, own, crowd, bits,
                         last_used, since)
            _term_values(vh, Q, part_q, part_x, part_t, static, code, kh, i, r, esc, level, fb, own, crowd, bits,
                         last_used, since)
            for j in range(T):
                D[j] = W[i, j] * (vc[j] - vh[j])
            D[T] = aff[ra, i, kc] - aff[ra, i, kh]
            for j in range(n):  # insertion sort: stable
                m = j
                while m > 0 and _sorts_before(-D[j], -D[idx[m - 1]]):
                    idx[m] = idx[m - 1]
                    m -= 1
                idx[m] = j
            order[r, i, 0], order[r, i, 1], order[r, i, 2] = idx[0], idx[1], idx[n - 1]
            contrib[r, i, 0], contrib[r, i, 1], contrib[r, i, 2] = D[idx[0]], D[idx[1]], D[idx[n - 1]]
    return order, contrib
