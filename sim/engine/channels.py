"""Crisis channels at run time: which open channel a call goes to, and the chance it is answered.

An answer is politics, not technology: the channel's base log-odds, moved by the relationship
climate and by how provoked the called party feels (``channels.yaml``). Used by the decisions
(the channel term) and by the resolution (calls placed).
"""

from __future__ import annotations

import numpy as np

from sim.engine.state import State
from sim.inputs.spec import Spec
from sim.names import ChannelStatus


def answer_prob(spec: Spec, st: State, c: np.ndarray, a, b) -> np.ndarray:
    """P(a call on channel c from a is answered by b): politics, not technology.

    ``c`` has a leading run axis; ``a`` and ``b`` broadcast against it. Zero unless open.
    """
    if not len(spec.channel_ids):
        return np.zeros(c.shape)
    R = np.arange(len(st.keys)).reshape((-1,) + (1,) * (c.ndim - 1))
    cc = np.maximum(c, 0)
    ch = spec.channels
    z = (ch.logit[cc] + ch.climate[cc] * st.rel[R, a, b] - ch.provocation[cc] * st.H[R, b, a])
    p = 1.0 / (1.0 + np.exp(-z))
    return np.where((c >= 0) & (st.ch_status[R, cc] == ChannelStatus.OPEN), p, 0.0)


def best_open(spec: Spec, st: State, table: np.ndarray, a, b) -> tuple[np.ndarray, np.ndarray]:
    """Among the channels (or forums) between a and b, the open one most likely to be
    answered, and that probability; channel -1 (probability 0) when none is open."""
    c = table[a, b]
    p = answer_prob(spec, st, c, np.asarray(a)[..., None], np.asarray(b)[..., None])
    j = np.argmax(p, axis=-1)
    best = np.take_along_axis(p, j[..., None], -1)[..., 0]
    chosen = np.take_along_axis(c, j[..., None], -1)[..., 0]
    return np.where(best > 0, chosen, -1), best


def first_with_status(spec: Spec, st: State, table: np.ndarray, a, b, status: int) -> np.ndarray:
    """The first channel between a and b with this status (-1 if none)."""
    c = table[a, b]
    R = np.arange(len(st.keys)).reshape((-1,) + (1,) * (c.ndim - 1))
    s = np.where(c >= 0, st.ch_status[R, np.maximum(c, 0)], -9) == status
    j = np.argmax(s, axis=-1)
    return np.where(s.any(axis=-1), np.take_along_axis(c, j[..., None], -1)[..., 0], -1)
