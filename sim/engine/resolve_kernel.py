"""The compiled steps of the resolution (Numba), called by ``sim.engine.resolution`` on every path.

Why: the resolution steps loop over actors, and for each one make a dozen NumPy calls over the
runs. On one run (the Mesa adapter, the workshop) each call is a fixed overhead of a few
microseconds on a one-element array, and that overhead was the whole cost; on a batch every
call makes another pass over memory. Here each step is one function that loops over runs, and
for each run over actors, doing in the same order what the NumPy expressions did for all runs
at once (runs never interact, so the order across runs does not matter).

One implementation: these functions *are* the rule steps of MODEL.md §3.4-3.5 named in their
docstrings; ``resolution`` prepares their inputs and no NumPy twin exists. Identity with the
NumPy expressions they replaced is exact: the same IEEE operations in the same order (no fast
math, no fused multiply-add), a float32 state compared with a Python float rounded to float32
first (as NumPy 2 does), and no transcendental function (``exp``/``**`` stay in NumPy).
Pure-Python fallback: ``NUMBA_DISABLE_JIT=1`` runs the same code uncompiled (see ``kernel``).
"""

from __future__ import annotations

import numpy as np
from numba import njit

from sim.engine.kernel import clip, floor0
from sim.names import TargetKind

ADVERSARY, ALLY = int(TargetKind.ADVERSARY), int(TargetKind.ALLY)


@njit(inline="always")
def remember_blow(r, a, b, act, realised, perc, turn, day32, until, baseline, seize, rung, wronged, wronged_until,
                  last_hostile, last_hostile_turn, captive, owed, owed_until, rt_actor, rt_by, rt_action, rt_bits):
    """For one run: the target remembers a hostile move above the baseline as
    a blow that calls for an answer (as it perceived it), and owes its declared answer if it crossed a red line."""
    if realised <= baseline:
        return
    seen = perc[r, b, a]
    if wronged_until[r, b, a] > day32:
        wronged[r, b, a] = max(wronged[r, b, a], seen)
    else:
        wronged[r, b, a] = seen
    wronged_until[r, b, a] = until
    last_hostile[r, b, a] = act
    last_hostile_turn[r, b, a] = turn
    captive[r, b, a] |= rung[act] == seize
    for line in range(rt_actor.shape[0]):
        if b == rt_actor[line] and a == rt_by[line] and act == rt_action[line]:
            prior = np.uint64(0) if owed_until[r, b, a] <= day32 else owed[r, b, a]
            owed[r, b, a] = prior | rt_bits[line]
            owed_until[r, b, a] = until


@njit(cache=True, nogil=True)
def hostility(act, target, realised, perc, level, turn, day32, until, k, th, esc, a_kind, a_relief, a_provocation,
              a_relation, a_rung, commitment, red_lines, adversary, H, rel, attacked, wronged, wronged_until,
              last_hostile, last_hostile_turn, captive, owed, owed_until, rt_actor, rt_by, rt_action, rt_bits) -> None:
    """``resolution.hostility`` (see there) for every run: threat decays, then each actor's move in turn
    raises its target's threat (and its target's allies'), trips red lines, is remembered as a blow,
    reassures an ally, and moves the relationship. ``k`` = (decay, hostility_gain, ally_spillover);
    ``th`` = (baseline, force, seize) rungs. Mutates the state arrays in place."""
    decay, gain, spill = k[0], k[1], k[2]
    baseline, force, seize = th[0], th[1], th[2]
    R, A = act.shape
    keep = 1.0 - decay
    for r in range(R):
        for i in range(A):
            for j in range(A):
                H[r, i, j] *= keep
            attacked[r, i] = False
        for a in range(A):
            n, has = act[r, a], target[r, a] >= 0
            b = target[r, a] if has else 0
            hit = 1.0 if has and a_kind[n] == ADVERSARY else 0.0
            h = floor0(esc[perc[r, b, a]])
            relief = a_relief[n] * (1.0 - floor0(esc[level[r, a]]))
            H[r, b, a] = clip(H[r, b, a] + hit * (decay * gain * h + a_provocation[n] - relief), 0.0, 1.0)
            for c in range(A):
                w = commitment[c, b] * hit * (1.0 if c != a else 0.0)
                if w != 0.0:
                    hc = floor0(esc[perc[r, c, a]])
                    H[r, c, a] = clip(H[r, c, a] + decay * spill * w * gain * hc, 0.0, 1.0)
            for c in range(A):
                H[r, c, a] = clip(H[r, c, a] + red_lines[c, a, n], 0.0, 1.0)
            if hit != 0.0:
                remember_blow(r, a, b, n, realised[r, a], perc, turn, day32, until, baseline, seize, a_rung, wronged,
                              wronged_until, last_hostile, last_hostile_turn, captive, owed, owed_until, rt_actor,
                              rt_by, rt_action, rt_bits)
                if realised[r, a] >= force:
                    attacked[r, b] = True
            if has and a_kind[n] == ALLY and a_relief[n] > 0:  # reassurance of an ally against its adversaries
                for j in range(A):
                    if adversary[b, j]:
                        H[r, b, j] = clip(H[r, b, j] - a_relief[n], 0.0, 1.0)
            v = clip(rel[r, a, b] + a_relation[n] * (1.0 if has else 0.0), -1.0, 1.0)
            rel[r, a, b] = v
            rel[r, b, a] = v


@njit(inline="always")
def _first_max_adversary(H, r, b, adversary) -> int:
    """``argmax(where(adversary[b], H[r, b], -inf))``: ``b``'s most threatening adversary (0 if none)."""
    best, out = -np.inf, 0
    for j in range(adversary.shape[1]):
        v = H[r, b, j] if adversary[b, j] else -np.inf
        if v > best:
            best, out = v, j
    return out


@njit(cache=True, nogil=True)
def commitments(act, target, um, dt32, dt, until, k, mediation_p, a_kind, a_relief, a_concession, a_agreement,
                a_talks, a_commitment, a_mediation, a_restraint, a_broker, adversary, grievance_rate, H, received,
                conceded, captive, talks, offers, committed, mediation, mediated, taken, restrained, restrained_until,
                frustration) -> None:
    """``resolution.commitments`` (see there) for every run: talks and offers run down, then
    each actor's move in turn makes concessions, returns what it holds, opens talks, offers agreement, commits
    in public, asks for mediation (found with probability ``mediation_p``), presses a partner to stand down
    or brokers talks for it; grievances grow, or ease for whoever received relief. ``k`` = (talk_days,
    offer_days, grievance_relief). Mutates the state arrays in place."""
    talk_days, offer_days, relief_factor = k[0], k[1], k[2]
    R, A = act.shape
    for r in range(R):
        for i in range(A):
            received[r, i] = False
            for j in range(A):
                x = talks[r, i, j] - dt32
                talks[r, i, j] = x if (x >= 0.0 or x != x) else np.float32(0.0)
                y = offers[r, i, j] - dt32
                offers[r, i, j] = y if (y >= 0.0 or y != y) else np.float32(0.0)
        for a in range(A):
            n, has = act[r, a], target[r, a] >= 0
            b = target[r, a] if has else 0
            if has and a_kind[n] == ADVERSARY:
                received[r, b] |= a_relief[n] > 0
                conceded[r, a] |= a_concession[n]
                if a_agreement[n]:
                    captive[r, b, a] = False  # an offer returns what the offerer holds
                    offers[r, a, b] = offer_days
                if a_talks[n]:
                    talks[r, a, b] = talk_days
                if a_mediation[n]:
                    mediation[r] = True
                    if um[r, a] < mediation_p:
                        mediated[r] = True
                        talks[r, a, b] = talk_days
                        talks[r, b, a] = talk_days
            committed[r, a] |= a_commitment[n]
            taken[r, a, n] = True
            if has and a_kind[n] == ALLY:  # moves aimed at one's own partner
                if a_restraint[n] > 0:
                    restrained[r, b] = a_restraint[n]
                    restrained_until[r, b] = until
                if a_broker[n]:
                    other = _first_max_adversary(H, r, b, adversary)
                    talks[r, b, other] = talk_days
                    talks[r, other, b] = talk_days
        for i in range(A):
            has_adv = 0.0
            for j in range(A):
                if adversary[i, j]:
                    has_adv = 1.0
            g = frustration[r, i] + grievance_rate[i] * has_adv * dt
            grown = g if (g <= 1.0 or g != g) else 1.0
            frustration[r, i] = frustration[r, i] * relief_factor if received[r, i] else grown
