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

from sim.engine.kernel import best_open, clip, first_with, floor0
from sim.names import Cause, ChannelEffect, ChannelStatus, EndReason, IcbViolence, MidLevel, TargetKind

ADVERSARY, ALLY = int(TargetKind.ADVERSARY), int(TargetKind.ALLY)
CH_OPEN, CH_SUSPENDED = int(ChannelStatus.OPEN), int(ChannelStatus.SUSPENDED)
EFFECT_USE, EFFECT_SUSPEND, EFFECT_RESTORE, EFFECT_MULTILATERAL = (
    int(ChannelEffect.USE), int(ChannelEffect.SUSPEND), int(ChannelEffect.RESTORE), int(ChannelEffect.MULTILATERAL))
MID_USE_OF_FORCE, VIOL_MINOR_CLASHES = int(MidLevel.USE_OF_FORCE), int(IcbViolence.MINOR_CLASHES)
CAUSE_CHOSEN, CAUSE_SCRIPTED, CAUSE_SLIP, CAUSE_ACCIDENT = (int(Cause.CHOSEN), int(Cause.SCRIPTED), int(Cause.SLIP),
                                                           int(Cause.ACCIDENT))
END_TIME_LIMIT, END_FADED, END_AGREEMENT, END_MAJOR_WAR, END_NUCLEAR_USE = (
    int(EndReason.TIME_LIMIT), int(EndReason.FADED), int(EndReason.AGREEMENT), int(EndReason.MAJOR_WAR),
    int(EndReason.NUCLEAR_USE))


@njit(inline="always")
def _wrong(r, b, a, seen, day32, until, wronged, wronged_until) -> None:
    """For one run: ``b`` remembers a blow from ``a`` at rung ``seen`` (the highest while the last still calls
    for an answer)."""
    if wronged_until[r, b, a] > day32:
        wronged[r, b, a] = max(wronged[r, b, a], seen)
    else:
        wronged[r, b, a] = seen
    wronged_until[r, b, a] = until


@njit(inline="always")
def _owe(r, b, a, trigger, day32, until, owed, owed_until, rt_actor, rt_by, rt_action, rt_bits) -> None:
    """For one run: ``a`` crossed each of ``b``'s red lines on ``trigger`` (an action, or an incident's
    trailing index), so ``b`` owes their declared answers."""
    for line in range(rt_actor.shape[0]):
        if b == rt_actor[line] and a == rt_by[line] and trigger == rt_action[line]:
            prior = np.uint64(0) if owed_until[r, b, a] <= day32 else owed[r, b, a]
            owed[r, b, a] = prior | rt_bits[line]
            owed_until[r, b, a] = until


@njit(inline="always")
def remember_blow(r, a, b, act, realised, perc, turn, day32, until, baseline, detain, wronged, wronged_until,
                  last_hostile, last_hostile_turn, captive, owed, owed_until, rt_actor, rt_by, rt_action, rt_bits):
    """For one run: the target remembers a hostile move above the baseline as
    a blow that calls for an answer (as it perceived it), and owes its declared answer if it crossed a red line."""
    if realised <= baseline:
        return
    _wrong(r, b, a, perc[r, b, a], day32, until, wronged, wronged_until)
    if not (last_hostile_turn[r, b, a] == turn and last_hostile[r, b, a] >= detain.shape[0]):
        last_hostile[r, b, a] = act  # (a collision the same day stays the move answered: see blame)
        last_hostile_turn[r, b, a] = turn
    captive[r, b, a] |= detain[act]
    _owe(r, b, a, act, day32, until, owed, owed_until, rt_actor, rt_by, rt_action, rt_bits)


@njit(inline="always")
def blame(r, victim, resp, force, turn, day32, until, collision, red_lines, H, blows, lines) -> None:
    """For one run: ``victim`` holds ``resp`` responsible for a collision, whoever was at the helm. It is a
    blow at the use of force that calls for an answer (so answering in kind crosses no firebreak), the move
    the victim's answers are logged as answering (outranking ``resp``'s own move that day), and it crosses
    the victim's collision red lines: their threat, and their declared answers owed.
    ``blows`` = (wronged, wronged_until, owed, owed_until, last_hostile, last_hostile_turn); ``lines`` = the
    response table's (actor, by, trigger, bits); ``collision``: the incident's trailing trigger index."""
    wronged, wronged_until, owed, owed_until, last_hostile, last_hostile_turn = blows
    _wrong(r, victim, resp, force, day32, until, wronged, wronged_until)
    last_hostile[r, victim, resp] = collision
    last_hostile_turn[r, victim, resp] = turn
    h = H[r, victim, resp] + red_lines[victim, resp, collision]
    H[r, victim, resp] = h if h <= 1.0 else 1.0
    _owe(r, victim, resp, collision, day32, until, owed, owed_until, lines[0], lines[1], lines[2], lines[3])


@njit(cache=True, nogil=True)
def scripted_collision(rows, victim, resp, force, turn, day32, until, collision, red_lines, H, incidents, blows,
                       lines) -> None:
    """An inject's ``collision`` (``injects.apply_inject``) in the runs ``rows``: counted as an incident and
    blamed on ``resp`` exactly as an encounter collision is (``blame``), with no state move and no MID level."""
    for r in rows:
        incidents[r] += 1
        blame(r, victim, resp, force, turn, day32, until, collision, red_lines, H, blows, lines)


@njit(cache=True, nogil=True)
def hostility(act, target, realised, perc, level, turn, day32, until, k, th, esc, a_kind, a_relief, a_provocation,
              a_relation, a_detain, commitment, red_lines, adversary, H, rel, attacked, struck, wronged, wronged_until,
              last_hostile, last_hostile_turn, captive, owed, owed_until, rt_actor, rt_by, rt_action, rt_bits) -> None:
    """``resolution.hostility`` (see there) for every run: threat decays, then each actor's move in turn
    raises its target's threat (and its target's allies'), trips red lines, is remembered as a blow,
    reassures an ally, and moves the relationship. ``k`` = (decay, hostility_gain, ally_spillover);
    ``th`` = (baseline, force) rungs; ``a_detain``: the actions that hold the target's people or assets.
    Mutates the state arrays in place."""
    decay, gain, spill = k[0], k[1], k[2]
    baseline, force = th[0], th[1]
    R, A = act.shape
    keep = 1.0 - decay
    for r in range(R):
        for i in range(A):
            for j in range(A):
                H[r, i, j] *= keep
            attacked[r, i] = struck[r, i]  # a collision's victim is attacked, whoever the move was aimed at
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
                remember_blow(r, a, b, n, realised[r, a], perc, turn, day32, until, baseline, a_detain, wronged,
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


@njit(cache=True, nogil=True)
def realise(opt, u, action, a_rung, friction, a_mid, min_mid, a_viol, top) -> tuple:
    """``resolution.realise`` (see there) for every run: the catalogue action of each chosen option, its rung,
    whether friction (draw ``u`` below the rung's friction) carries it one rung higher, the realised rung,
    MID and ICB levels."""
    R, A = opt.shape
    act, intended, realised = np.empty((R, A), np.int64), np.empty((R, A), np.int64), np.empty((R, A), np.int64)
    mid, viol, up = np.empty((R, A), np.int64), np.empty((R, A), np.int64), np.empty((R, A), np.bool_)
    for r in range(R):
        for a in range(A):
            n = action[a, opt[r, a]]
            it = a_rung[n]
            s = u[r, a] < friction[it]
            rl = min(it + (1 if s else 0), top)
            act[r, a], intended[r, a], realised[r, a], up[r, a] = n, it, rl, s
            mid[r, a] = max(a_mid[n], min_mid[rl]) if s else a_mid[n]
            viol[r, a] = a_viol[n]
    return act, intended, realised, mid, viol, up


@njit(cache=True, nogil=True)
def encounters(act, realised, mid, viol, incident, accident, struck, u, p, q, domain, occur, unsafe, rules, collision,
               casualty, a_encounter, th, k, H, clarity, incidents, casualties, turn, when, blamed, red_lines,
               blows, lines) -> None:
    """``resolution.encounters`` and ``_collision`` (see there) for every run, encounter by encounter.
    ``occur`` (E, 3): the chance contact occurs this turn with 0, 1 or 2 sides active in its domain (computed
    in NumPy, which has the power function); ``th`` = (grey, force) rungs, ``k`` = (unsafe_pressure,
    incident_shock, deliberate_read, responder_share, toss-up); ``when`` = (day as float32, day an answer is
    due by); ``blamed``: the collision's trailing trigger index; ``blows``, ``lines``: see ``blame``.
    Mutates the move and the state in place."""
    grey, force = th[0], th[1]
    for r in range(realised.shape[0]):
        for e in range(p.shape[0]):
            pe, qe = p[e], q[e]
            on_p, on_q = a_encounter[act[r, pe]] == domain[e], a_encounter[act[r, qe]] == domain[e]
            if not u[r, e, 0] < occur[e, (1 if on_p else 0) + (1 if on_q else 0)]:
                continue
            aggressive = realised[r, pe] >= grey or realised[r, qe] >= grey
            x = unsafe[e] * rules[e] * (1.0 + k[0] * (1.0 if aggressive else 0.0))
            if not (u[r, e, 1] < (1.0 if x >= 1.0 else x) and u[r, e, 2] < collision[e]):
                continue
            cas = u[r, e, 3] < casualty[e]
            # the side whose units were pressing in this domain is responsible; else a toss-up
            resp = pe if (on_p and not on_q) else (qe if (on_q and not on_p) else (pe if u[r, e, 5] < k[4] else qe))
            victim = qe if resp == pe else pe
            incidents[r] += 1
            casualties[r] += 1 if cas else 0
            incident[r, resp], accident[r, resp], struck[r, victim] = True, True, True
            realised[r, resp] = max(realised[r, resp], force)
            mid[r, resp] = max(mid[r, resp], MID_USE_OF_FORCE)
            if cas:
                viol[r, resp] = max(viol[r, resp], VIOL_MINOR_CLASHES)
            deliberate = u[r, e, 4] < (1.0 - clarity[r, victim, resp])
            h = H[r, victim, resp] + (k[1] + k[2] * (1.0 if deliberate else 0.0))
            H[r, victim, resp] = h if h <= 1.0 else 1.0
            g = H[r, resp, victim] + k[1] * k[3]
            H[r, resp, victim] = g if g <= 1.0 else 1.0
            blame(r, victim, resp, force, turn, when[0], when[1], blamed, red_lines, H, blows, lines)


@njit(cache=True, nogil=True)
def perceive(realised, target, u1, u2, fog, misread_up, top, clarity) -> tuple:
    """``resolution.perceive`` (see there): each observer's reading of each move, (R, A, A), one rung off
    with probability fog x (1 - clarity); and each move as its target read it (-1 without a target)."""
    R, A = realised.shape
    perc, seen = np.empty((R, A, A), np.int64), np.empty((R, A), np.int64)
    for r in range(R):
        for i in range(A):
            for j in range(A):
                off = 0
                if u1[r, i, j] < fog * (1.0 - clarity[r, i, j]):
                    off = 1 if u2[r, i, j] < misread_up else -1
                perc[r, i, j] = realised[r, i] if i == j else min(max(realised[r, j] + off, 0), top)
        for a in range(A):
            seen[r, a] = perc[r, target[r, a], a] if target[r, a] >= 0 else -1
    return perc, seen


@njit(inline="always")
def _how(r, realised, intended, forced, slip, accident, threshold) -> tuple:
    """``resolution._how`` for one run: how a threshold was reached and by whom (a choice, a script, a slip,
    an accident, in that order; (0, -1) if nobody reached it)."""
    A = realised.shape[1]
    for kind in (CAUSE_CHOSEN, CAUSE_SCRIPTED, CAUSE_SLIP, CAUSE_ACCIDENT):
        for a in range(A):
            at, meant = realised[r, a] >= threshold, intended[r, a] >= threshold
            if kind == CAUSE_CHOSEN:
                who = at and meant and not forced[r, a] and not accident[r, a]
            elif kind == CAUSE_SCRIPTED:
                who = at and meant and forced[r, a]
            elif kind == CAUSE_SLIP:
                who = at and not meant and slip[r, a] and not accident[r, a]
            else:
                who = at and accident[r, a]
            if who:
                return kind, a
    return 0, -1


@njit(cache=True, nogil=True)
def track(turn, day, realised, intended, forced, slip, accident, opt, mid, meant_mid, viol, target, hold, unit,
          opt_unit, war, crisis, crossed, own_crossed, last_used, peak_mid, peak_viol, first_force, hist, ff_cause,
          ff_actor, war_cause, war_actor, war_target) -> None:
    """``resolution.track`` (see there) for every run: how the crisis first reached the use of force and major
    war, its peak, the thresholds crossed (an actor's own only by choice or script), the day each chosen option
    was last taken, peak MID and ICB levels, first use of force, the path. A move crosses the firebreak of its
    option's unit (``opt_unit``: its rung's, or a lower one the action names); a slip or an accident carries
    the crisis (not the actor's own record) to the rung it reached. The use of force is MID's (a move at
    hostility 4 or more; ``meant_mid``: the level of the action chosen, so a slip or an accident is told from
    a choice), major war the ladder's (``war``: its rung). Mutates the (freshly copied) state
    arrays in place."""
    R, A = realised.shape
    for r in range(R):
        top = realised[r, 0]
        for a in range(1, A):
            top = max(top, realised[r, a])
        top_mid = mid[r, 0]
        for a in range(1, A):
            top_mid = max(top_mid, mid[r, a])
        if top_mid >= MID_USE_OF_FORCE and peak_mid[r] < MID_USE_OF_FORCE:
            ff_cause[r], ff_actor[r] = _how(r, mid, meant_mid, forced, slip, accident, MID_USE_OF_FORCE)
        if top >= war and crisis[r] < war:
            war_cause[r], who = _how(r, realised, intended, forced, slip, accident, war)
            war_actor[r], war_target[r] = who, target[r, max(who, 0)]
        crisis[r] = max(crisis[r], top)
        for a in range(A):
            chosen = opt_unit[a, opt[r, a]]
            crossed[r] = max(crossed[r], unit[realised[r, a]] if (slip[r, a] or accident[r, a]) else chosen)
            own_crossed[r, a] = max(own_crossed[r, a], chosen)
            if not forced[r, a] and opt[r, a] != hold[a]:
                last_used[r, a, opt[r, a]] = day
            peak_mid[r] = max(peak_mid[r], mid[r, a])
            peak_viol[r] = max(peak_viol[r], viol[r, a])
        if first_force[r] < 0 and top_mid >= MID_USE_OF_FORCE:
            first_force[r] = turn
        hist[r, turn] = top


@njit(cache=True, nogil=True)
def terminate(turn, steps, realised, captive, offers, adversary, H, H0, th, dt32, calm_days32, calm, end,
              end_turn) -> None:
    """``resolution.terminate`` (see there) for every run: every actor's threat from its adversaries back at
    or below ``H0`` (its pre-crisis level plus the calm band) for long enough (not while personnel are held),
    an agreement (offers both ways between adversaries), the turn limit, war or nuclear use end it.
    ``th`` = (war, nuclear) rungs. Mutates the (freshly copied) ``calm``, ``end``, ``end_turn``."""
    R, A = realised.shape
    for r in range(R):
        top, held, agreed, tense = realised[r, 0], False, False, False
        for a in range(1, A):
            top = max(top, realised[r, a])
        for i in range(A):
            for j in range(A):
                held |= captive[r, i, j]
                agreed |= offers[r, i, j] > 0 and offers[r, j, i] > 0 and adversary[i, j]
                tense |= adversary[i, j] and H[r, i, j] > H0[i, j]
        calm[r] = calm[r] + dt32 if (not tense and not held) else np.float32(0.0)
        why = 0
        if turn >= steps:
            why = END_TIME_LIMIT
        if calm[r] >= calm_days32:
            why = END_FADED
        if agreed:
            why = END_AGREEMENT
        if top >= th[0]:
            why = END_MAJOR_WAR
        if top >= th[1]:
            why = END_NUCLEAR_USE
        end[r] = why
        if why > 0:
            end_turn[r] = turn


@njit(cache=True, nogil=True)
def channel_moves(a, effect, target, p_bi, p_fo, u, bilateral, forums, ch_clarity, k, ch_status, tried,
                  answered, move_answered, clarity, H, talks) -> None:
    """``resolution.channels`` (see there) for actor ``a`` in every run: its call or forum request to its target
    on the best open channel, answered if ``u`` falls below that channel's answer probability (``p_bi``/``p_fo``:
    the candidates', through NumPy's logistic), or its suspension or restoration of a channel.
    ``k`` = (refusal_signal, talk_days). Mutates the state and the move in place."""
    for r in range(effect.shape[0]):
        e, b = effect[r, a], target[r, a]
        if e == 0 or b < 0:
            continue
        if e in (EFFECT_USE, EFFECT_MULTILATERAL):
            table, p = (bilateral, p_bi) if e == EFFECT_USE else (forums, p_fo)
            c, best = best_open(r, 0, a, b, table, ch_status, p)
            if c < 0:
                continue
            tried[r, c] += 1
            ans = u[r, a] < best
            move_answered[r, a] = 1 if ans else 0
            if ans:
                answered[r, c] += 1
                cl = ch_clarity[c]
                clarity[r, a, b] = clarity[r, a, b] if clarity[r, a, b] >= cl else cl
                clarity[r, b, a] = clarity[r, b, a] if clarity[r, b, a] >= cl else cl
                # an answered call or forum is an off-ramp: it opens a window of talks
                talks[r, a, b] = k[1]
                talks[r, b, a] = k[1]
            else:
                h = H[r, a, b] + k[0]
                H[r, a, b] = h if h <= 1.0 else 1.0
        elif e in (EFFECT_SUSPEND, EFFECT_RESTORE):
            before, after = (CH_OPEN, CH_SUSPENDED) if e == EFFECT_SUSPEND else (CH_SUSPENDED, CH_OPEN)
            c = first_with(r, a, b, bilateral, ch_status, before)
            if c >= 0:
                ch_status[r, c] = after

