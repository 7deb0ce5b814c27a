"""The compiled steps of a decision (Numba), called by ``sim.engine.decisions`` on every path.

Why: written as NumPy expressions, a decision is ~150 array operations per turn. On a batch each
makes a full (run, actor, option) temporary (the utility alone was memory-bound at 25,000 runs);
on one run (the Mesa adapter, the workshop) each is a fixed overhead on a one-element array, and
that overhead was the whole cost. Here each step is one loop over runs and actors: whom each
actor addresses (:func:`targets`), the state quantities of the terms, the utility's coefficients
and the admissible mask (:func:`situation`), the utility of every option (:func:`utility_table`),
the logits and the draw, and the reasons of the choice (:func:`reasons`).

One implementation: these functions *are* the rule steps (MODEL.md §3.3); the ensemble, the Mesa
adapter and the workshop all reach them through ``decisions``. Behaviour constants are never
written here: weights, priors, temperatures and features arrive as arrays compiled from the data
(``Spec``). Each function does per (run, actor) what the NumPy expressions it replaced did, in
their order of floating-point operations (affinity plus temperature times prior, then each
feature's coefficient times the feature, in the order of ``decisions.TERMS``; a float32 state
compared with a Python float rounded to float32 first, as NumPy 2 does), so results are
bit-identical; ``exp`` stays in NumPy between kernels for the same reason (a compiled ``exp``
differs from NumPy's SIMD one in the last bit).

Pure-Python fallback: set ``NUMBA_DISABLE_JIT=1`` and the same functions run uncompiled (slowly;
for debugging). Compiled code is cached on disk (``cache=True``, ``__pycache__``), so only the
first import after an edit pays the compile.
"""

from __future__ import annotations

import numpy as np
from numba import njit

#: Codes of the option features the kernel computes from the state (all others are static, from the Spec).
STATIC, JUMP2, FIREBREAK, ANSWER = 0, 1, 2, 3
#: Name of each computed feature (decisions.features uses these names).
DYNAMIC = {"jump2": JUMP2, "firebreak": FIREBREAK, "answer": ANSWER}
OPEN, SUSPENDED, ADVERSARY, ALLY = 1, 0, 1, 2  # sim.names.ChannelStatus.OPEN/SUSPENDED, TargetKind (checked there)


@njit(inline="always")
def clip(x: float, lo: float, hi: float) -> float:
    """``np.clip(x, lo, hi)`` for one value: NumPy's max then min (NaN passes through)."""
    y = x if (x != x or x > lo) else lo
    return y if (y != y or y < hi) else hi


@njit(inline="always")
def floor0(x: float) -> float:
    """``np.clip(x, 0.0, None)``, i.e. ``np.maximum(x, 0.0)``, for one value."""
    return x if (x >= 0.0 or x != x) else 0.0


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


@njit(inline="always")
def affinity(aff, shift, r: int, i: int, k: int) -> float:
    """The affinity of option ``k`` (``aff``: 1 or R runs), plus the state's shift of it if any (``shift``: R
    or 0 runs), added as ``decisions.features`` adds them."""
    a0 = aff[0 if aff.shape[0] == 1 else r, i, k]
    return a0 + shift[r, i, k] if shift.shape[0] > 0 else a0


@njit(cache=True, nogil=True)
def utility_table(aff, shift, tp, coef, static, code, esc, level, fb, own, crowd, bits, last_used, since) -> np.ndarray:
    """Utility of every option, (R, a, K): affinity + tau x prior (``tp``, (a, K)) + the sum over features j
    of coef[j] x feature j, added in that order for each option.

    ``coef`` (R, a, F): each feature's coefficient (posture weights x state quantities), in the order of
    ``decisions.TERMS``. Feature ``j`` is ``static[i, j, k]`` (from the Spec) if ``code[j] == STATIC``,
    else computed here from the state (:func:`feature`), so the (R, a, K) feature tables are never built.
    Each feature is added to all of a (run, actor)'s options in one inner loop (which vectorises);
    every option's sum still runs over the features in order, so the result is unchanged.
    """
    R, A, F = coef.shape
    K = static.shape[2]
    out = np.empty((R, A, K))
    for r in range(R):
        for i in range(A):
            for k in range(K):
                out[r, i, k] = affinity(aff, shift, r, i, k) + tp[i, k]
            for j in range(F):
                c, cd = coef[r, i, j], code[j]
                if cd == STATIC:
                    for k in range(K):
                        out[r, i, k] = out[r, i, k] + c * static[i, j, k]
                elif cd == JUMP2:
                    lv = level[r, i]
                    for k in range(K):
                        out[r, i, k] = out[r, i, k] + c * jump2(esc[i, k], lv)
                elif cd == FIREBREAK:
                    o, w = own[r, i], crowd[r, i]
                    for k in range(K):
                        out[r, i, k] = out[r, i, k] + c * firebreak(fb, o, w, i, k)
                else:
                    b, sn = bits[r, i], since[r, i]
                    for k in range(K):
                        out[r, i, k] = out[r, i, k] + c * answer(b, k, last_used[r, i, k], sn)
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
def logits(util: np.ndarray, tau: np.ndarray, admissible: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """Utility / temperature minus each (run, actor)'s maximum over admissible options; -inf if
    inadmissible (the argument of the softmax). ``out`` may be ``util`` itself (each value is read
    before it is written), which spares a (R, a, K) table."""
    R, A, K = util.shape
    if out is None:
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


@njit(inline="always")
def _draw(p, u: float, r: int, i: int, cum) -> tuple:
    """One logit draw: the first option whose cumulative probability exceeds ``u`` x total (option 0 if
    none does), and that option's probability relative to the total."""
    acc = 0.0
    for k in range(p.shape[2]):
        acc = acc + p[r, i, k]
        cum[k] = acc
    x = u * acc
    pick = 0
    for k in range(p.shape[2]):
        if cum[k] > x:
            pick = k
            break
    return pick, p[r, i, pick] / acc


@njit(cache=True, nogil=True)
def draw_options(p: np.ndarray, u: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The logit draw (:func:`_draw`) for each (run, actor): the option, and its probability."""
    R, A, K = p.shape
    opt = np.zeros((R, A), np.int64)
    prob = np.empty((R, A))
    cum = np.empty(K)
    for r in range(R):
        for i in range(A):
            opt[r, i], prob[r, i] = _draw(p, u[r, i], r, i, cum)
    return opt, prob


@njit(cache=True, nogil=True)
def choose(p, u, rows, forced_opt, forced_tgt, kind, t_adv, t_ally, last_hostile, last_hostile_turn) -> tuple:
    """``decisions.decide``'s choice for actors ``rows``: the logit draw, replaced by the move an inject
    scripted (probability 1); whom it addresses by its target kind (the rival, the ally, or nobody; a
    script may name the target); and the earlier move by that target it answers (the target's last
    hostile move against the actor). Returns opt, prob, forced, target, cause actor, action and turn."""
    R, n = u.shape
    opt, prob, forced = np.empty((R, n), np.int64), np.empty((R, n)), np.empty((R, n), np.bool_)
    tgt, cause_actor = np.empty((R, n), np.int64), np.empty((R, n), np.int64)
    cause_action, cause_turn = np.empty((R, n), np.int16), np.empty((R, n), np.int16)
    cum = np.empty(p.shape[2])
    for r in range(R):
        for i in range(n):
            a = rows[i]
            pick, pr = _draw(p, u[r, i], r, i, cum)
            scripted = forced_opt[r, a] >= 0
            if scripted:
                pick, pr = forced_opt[r, a], 1.0
            kd = kind[a, pick]
            t = t_adv[r, i] if kd == ADVERSARY else (t_ally[r, i] if kd == ALLY else -1)
            if scripted and forced_tgt[r, a] >= 0:
                t = forced_tgt[r, a]
            action = last_hostile[r, a, t] if t >= 0 else -1
            opt[r, i], prob[r, i], forced[r, i], tgt[r, i] = pick, pr, scripted, t
            cause_actor[r, i] = t if action >= 0 else -1
            cause_action[r, i] = action
            cause_turn[r, i] = last_hostile_turn[r, a, t] if action >= 0 else -1
    return opt, prob, forced, tgt, cause_actor, cause_action, cause_turn


@njit(inline="always")
def _sorts_before(x: float, y: float) -> bool:
    """``x`` comes before ``y`` in NumPy's ascending sort order (NaN last)."""
    return x < y or (y != y and x == x)


@njit(inline="always")
def _ends_of_order(D) -> tuple:
    """The first two and the last index of ``np.argsort(-D, kind="stable")`` (NaN last), by three scans: the
    smallest key, ties to the lowest index; the next such; the largest, ties to the highest index."""
    n = D.shape[0]
    first, second, last = 0, -1, 0
    for j in range(1, n):
        if _sorts_before(-D[j], -D[first]):
            first = j
    for j in range(n):
        if j != first and (second < 0 or _sorts_before(-D[j], -D[second])):
            second = j
    for j in range(1, n):
        if not _sorts_before(-D[j], -D[last]):
            last = j
    return first, second, last


@njit(inline="always")
def _term_values(out, Q, part_q, part_x, part_t, static, code, k, i, r, esc, level, fb, own, crowd, bits,
                 last_used, since) -> None:
    """Each weighted term's value at option ``k`` of actor row ``i`` in run ``r``: the sum of its parts
    (state quantity x option feature), added in the order of ``decisions.TERMS`` from 0 (as ``sum``)."""
    out[:] = 0.0
    for p in range(part_q.shape[0]):
        x = part_x[p]
        c = code[x]
        f = static[i, x, k] if c == STATIC else feature(c, i, k, r, esc, level, fb, own, crowd, bits, last_used,
                                                        since)
        out[part_t[p]] = out[part_t[p]] + Q[r, i, part_q[p]] * f


@njit(cache=True, nogil=True)
def reasons(Q, part_q, part_x, part_t, W, static, code, aff, shift, opt, hold, esc, level, fb, own, crowd, bits,
            last_used, since) -> tuple[np.ndarray, np.ndarray]:
    """The reasons of each (run, actor)'s choice ``opt``: every term's weighted contribution to it relative
    to holding (then affinity's), ordered as a stable ascending sort of their negatives (NumPy's
    ``argsort(-D, kind="stable")``); returns the first two and the last (R, a, 3), and their contributions."""
    R, A = opt.shape
    T = W.shape[1]
    n = T + 1
    order = np.empty((R, A, 3), np.int64)
    contrib = np.empty((R, A, 3))
    vc, vh, D = np.empty(T), np.empty(T), np.empty(n)
    for r in range(R):
        for i in range(A):
            kc, kh = opt[r, i], hold[i]
            _term_values(vc, Q, part_q, part_x, part_t, static, code, kc, i, r, esc, level, fb, own, crowd, bits,
                         last_used, since)
            _term_values(vh, Q, part_q, part_x, part_t, static, code, kh, i, r, esc, level, fb, own, crowd, bits,
                         last_used, since)
            for j in range(T):
                D[j] = W[i, j] * (vc[j] - vh[j])
            D[T] = affinity(aff, shift, r, i, kc) - affinity(aff, shift, r, i, kh)
            first, second, last = _ends_of_order(D)
            order[r, i, 0], order[r, i, 1], order[r, i, 2] = first, second, last
            contrib[r, i, 0], contrib[r, i, 1], contrib[r, i, 2] = D[first], D[second], D[last]
    return order, contrib


#: The state quantities :func:`situation` computes, one (run, actor) table each, in this order.
SITUATION = ("one", "minus_one", "threat", "stakes_threat", "recip2", "level", "ally", "minus_entrap", "aud",
             "minus_committed", "minus_interdep", "chan", "minus_climate", "griev", "minus_restrained", "owed",
             "minus_stakes", "minus_deter", "fatigue")


@njit(inline="always")
def _first_max(values: np.ndarray) -> int:
    """``np.argmax``: the first index of the largest value (0 if all are -inf)."""
    best, out = values[0], 0
    for j in range(1, values.shape[0]):
        if values[j] > best:
            best, out = values[j], j
    return out


@njit(inline="always")
def _is_offender(r, a, j, day32, adversary, owed_until, wronged_until) -> bool:
    """``j`` is a rival of ``a``: an adversary, or lately hurt ``a`` or crossed one of its red lines."""
    return adversary[a, j] or owed_until[r, a, j] > day32 or wronged_until[r, a, j] > day32


@njit(inline="always")
def _threat_to(out, r, H, attacked) -> None:
    """Each actor's greatest perceived threat, plus one if it was attacked this turn."""
    for j in range(H.shape[1]):
        m = H[r, j, 0]
        for k in range(1, H.shape[2]):
            if H[r, j, k] > m:
                m = H[r, j, k]
        out[j] = m + (1.0 if attacked[r, j] else 0.0)


@njit(cache=True, nogil=True)
def targets(rows, day32, adversary, commitment, owed_until, wronged_until, H, attacked) -> tuple:
    """``decisions.targets`` (see there): each actor's most threatening rival and its committed ally most
    under threat, (R, a) each."""
    R, A, n = H.shape[0], H.shape[1], rows.shape[0]
    t_adv, t_ally = np.empty((R, n), np.int64), np.empty((R, n), np.int64)
    threat_to, v = np.empty(A), np.empty(A)
    for r in range(R):
        _threat_to(threat_to, r, H, attacked)
        for i in range(n):
            a = rows[i]
            for j in range(A):
                v[j] = H[r, a, j] if _is_offender(r, a, j, day32, adversary, owed_until, wronged_until) else -np.inf
            t_adv[r, i] = _first_max(v)
            for j in range(A):
                v[j] = commitment[a, j] * threat_to[j] if commitment[a, j] > 0 else -np.inf
            t_ally[r, i] = _first_max(v)
    return t_adv, t_ally


@njit(cache=True, nogil=True)
def channel_logits(rows, t_adv, table, logit, climate, provocation, rel, H) -> np.ndarray:
    """The log-odds that each candidate channel (or forum) between each actor in ``rows`` and its target
    ``t_adv`` would answer (``channels.answer_prob`` puts them through the logistic), (R, a, L)."""
    R, n = t_adv.shape
    L = table.shape[2]
    z = np.zeros((R, n, L))
    if logit.shape[0] == 0:
        return z
    for r in range(R):
        for i in range(n):
            a, b = rows[i], t_adv[r, i]
            for m in range(L):
                cc = max(table[a, b, m], 0)
                z[r, i, m] = logit[cc] + climate[cc] * rel[r, a, b] - provocation[cc] * H[r, b, a]
    return z


@njit(inline="always")
def best_open(r, i, a, b, table, status, p) -> tuple:
    """``r``'s open channel (or forum) between ``a`` and ``b`` most likely to be answered (the first of equals;
    -1 if none is open) and that probability; ``p[r, i]``: the answer probabilities of ``table[a, b]``'s
    candidates."""
    best, out = 0.0, -1
    for m in range(table.shape[2]):
        c = table[a, b, m]
        q = p[r, i, m] if c >= 0 and status[r, c] == OPEN else 0.0
        if q > best:
            best, out = q, c
    return out, best


@njit(inline="always")
def first_with(r, a, b, table, status, wanted) -> int:
    """The first channel between ``a`` and ``b`` with status ``wanted`` in run ``r``, -1 if none."""
    for m in range(table.shape[2]):
        c = table[a, b, m]
        if c >= 0 and status[r, c] == wanted:
            return c
    return -1


@njit(cache=True, nogil=True)
def situation(rows, t_adv, p_bi, p_fo, day, day32, fat0, k, th, part_q, part_x, part_t, W, esc, unit, adversary,
              commitment, patron, bh, election, deterrent, interdependence, bilateral, forums, opts_int, opts_bool,
              interval, level, crisis, crossed, own_crossed, H, attacked, rel, perc, committed, frustration,
              restrained, restrained_until, captive, owed, owed_until, wronged, wronged_until, stakes_shift, stress,
              talks, offers, ch_status, last_used) -> tuple:
    """``decisions.state_terms`` and ``decisions.mask`` (see there) for actors ``rows`` facing ``t_adv``.

    Returns the :data:`SITUATION` quantities (R, a, Q); the utility's coefficients per feature (R, a, X)
    (weights x quantities, summed in the order of ``decisions.TERMS`` as ``decisions.utility`` did);
    the computed features' inputs: owed answer bits, the day the answer was called for (float32),
    the firebreak thresholds waived by the actor's own crossings and by the crisis's (own, crowd);
    and the (R, a, K) admissible mask. ``k`` = (credibility_floor, captive_restraint, captive_pressure,
    response_days as float32, 1e-6 as float32); ``th`` = (force rung,); ``bh`` rows: stakes, pressure,
    election_sens, stress_sens, aband_fear, entrap_fear; ``opts_int``: req_channel, req_crisis, req_own,
    target_kind; ``opts_bool``: valid, multilateral, req_talks, war. ``p_bi``/``p_fo``: answer
    probabilities of the candidate channels and forums (``channel_logits`` through the logistic).
    """
    R, n = t_adv.shape
    A, K = H.shape[1], interval.shape[1]
    Q = np.empty((R, n, len(SITUATION)))
    C = np.empty((R, n, int(part_x.max()) + 1))
    q, acc = np.empty(len(SITUATION)), np.empty(C.shape[2])  # one (run, actor)'s quantities and coefficients
    bits, since = np.zeros((R, n), np.uint64), np.empty((R, n), np.float32)
    own, crowd, ok = np.empty((R, n), np.int64), np.empty((R, n), np.int64), np.empty((R, n, K), np.bool_)
    lvl, adv_max, threat_to = np.empty(A), np.empty(A), np.empty(A)
    need, rested = _needs(opts_int, opts_bool), interval - 1e-6  # tempo: the move is rested
    for r in range(R):
        for j in range(A):
            lvl[j] = esc[level[r, j]]
        for j in range(A):
            m = lvl[0] if adversary[j, 0] else -1.0
            for w in range(1, A):
                x = lvl[w] if adversary[j, w] else -1.0
                if x > m:
                    m = x
            adv_max[j] = m
        _threat_to(threat_to, r, H, attacked)
        for i in range(n):
            a, t = rows[i], t_adv[r, i]
            entrap, ally, rival = 0.0, 0.0, False
            for j in range(A):
                d = lvl[j] - adv_max[j]
                e = floor0(d) if commitment[a, j] > 0 else 0.0
                y = commitment[a, j] * threat_to[j] if commitment[a, j] > 0 else 0.0
                entrap = e if (j == 0 or e > entrap) else entrap
                ally = y if (j == 0 or y > ally) else ally
                rival |= _is_offender(r, a, j, day32, adversary, owed_until, wronged_until)
            best_bi, best_fo = best_open(r, i, a, t, bilateral, ch_status, p_bi)[1], \
                best_open(r, i, a, t, forums, ch_status, p_fo)[1]
            any_open = first_with(r, a, t, bilateral, ch_status, OPEN) >= 0
            any_susp = first_with(r, a, t, bilateral, ch_status, SUSPENDED) >= 0
            fo_open = first_with(r, a, t, forums, ch_status, OPEN) >= 0
            threat = H[r, a, t]
            stakes = bh[0, a] + stakes_shift[r, a]
            if owed_until[r, a, t] > day32:
                bits[r, i] = owed[r, a, t]
            credible = clip(threat, k[0], 1.0)
            pressed = restrained[r, a] if restrained_until[r, a] > day32 else np.float32(0.0)
            cap = 1.0 if captive[r, a, t] else 0.0
            offer = 1.0 if offers[r, t, a] > 0 else 0.0
            q[0], q[1], q[2], q[3] = 1.0, -1.0, threat, stakes * threat
            q[4], q[5] = 2.0 * esc[perc[r, a, t]], lvl[a]
            q[6] = ally + bh[4, a] * (1.0 if patron[a] else 0.0)
            q[7] = -entrap * bh[5, a]
            q[8] = bh[1, a] + (1.0 if election[a] else 0.0) * bh[2, a] + stress[r] * bh[3, a]
            q[9] = -(1.0 if committed[r, a] else 0.0)
            q[10], q[12] = -interdependence[a, t], -rel[r, a, t]
            q[11] = best_bi if (best_bi >= best_fo) else best_fo
            q[13] = frustration[r, a]
            q[14] = -(np.float64(pressed) + k[1] * cap)
            q[15] = credible if bits[r, i] > 0 else 0.0
            q[16], q[17] = -stakes, -(1.0 if deterrent[t] else 0.0)
            held = 1.0 if (captive[r, a, t] or captive[r, t, a]) else 0.0
            q[18] = (fat0 if fat0 >= offer else offer) * (1.0 + k[2] * held)
            acc[:] = 0.0  # the utility's coefficient of each feature, summed in the order of the parts
            for p in range(part_q.shape[0]):
                acc[part_x[p]] = acc[part_x[p]] + W[i, part_t[p]] * q[part_q[p]]
            for j in range(q.shape[0]):
                Q[r, i, j] = q[j]
            for j in range(acc.shape[0]):
                C[r, i, j] = acc[j]
            since[r, i] = (owed_until[r, a, t] - k[3]) - k[4]
            hit = wronged[r, a, t] if wronged_until[r, a, t] > day32 else -1
            answered = unit[hit] if hit >= 0 else -1
            own[r, i], crowd[r, i] = max(own_crossed[r, a], answered), max(crossed[r], answered)
            talking = talks[r, a, t] > 0 or talks[r, t, a] > 0
            fighting = level[r, a] >= th[0] or hit >= th[0]
            have = (HAVE_OPEN * any_open) | (HAVE_SUSP * any_susp) | (HAVE_FORUM * fo_open) \
                | (HAVE_TALKS * talking) | (HAVE_RIVAL * rival) | (HAVE_FIGHT * fighting)
            for kk in range(K):
                ok[r, i, kk] = ((need[a, kk] & ~have) == 0) & (opts_int[1, a, kk] <= crisis[r]) \
                    & (opts_int[2, a, kk] <= level[r, a]) & ((day32 - last_used[r, a, kk]) >= rested[a, kk])
    return Q, C, bits, since, own, crowd, ok


#: Bits of the dynamic preconditions an option needs (``_needs``) and a (run, actor) has (``situation``).
HAVE_OPEN, HAVE_SUSP, HAVE_FORUM, HAVE_TALKS, HAVE_RIVAL, HAVE_FIGHT, NEVER = 1, 2, 4, 8, 16, 32, 64


@njit(inline="always")
def _needs(opts_int, opts_bool) -> np.ndarray:
    """Each option's boolean preconditions as bits (an invalid option, or one that needs a channel in a
    status other than open or suspended, needs ``NEVER``): with the crisis stage, the actor's own
    level and the tempo, what ``decisions.mask`` checks."""
    A, K = opts_int.shape[1], opts_int.shape[2]
    need = np.zeros((A, K), np.int64)
    for a in range(A):
        for kk in range(K):
            req, n = opts_int[0, a, kk], 0
            if req == OPEN:
                n |= HAVE_OPEN
            elif req == SUSPENDED:
                n |= HAVE_SUSP
            elif req >= 0:
                n |= NEVER
            n |= HAVE_FORUM * opts_bool[1, a, kk] | HAVE_TALKS * opts_bool[2, a, kk]
            n |= HAVE_RIVAL * (opts_int[3, a, kk] == ADVERSARY) | HAVE_FIGHT * opts_bool[3, a, kk]
            n |= NEVER * (not opts_bool[0, a, kk])
            need[a, kk] = n
    return need
