"""Crisis channels at run time: the chance a call is answered (which open channel it goes to: ``kernel.best_open``).

An answer is politics, not technology: the channel's base log-odds, moved by the relationship
climate and by how provoked the called party feels (``channels.yaml``). Used by the decisions
(the channel term) and by the resolution (calls placed).
"""

from __future__ import annotations

import numpy as np

from sim.engine import kernel
from sim.engine.state import State
from sim.inputs.spec import Spec


def answer_prob(spec: Spec, st: State, rows: np.ndarray, targets: np.ndarray, table: np.ndarray) -> np.ndarray:
    """P(a call on each candidate channel (or forum) from each actor in ``rows`` is answered by its target),
    (R, a, L) for ``table[rows, targets]``: the log-odds (``kernel.channel_logits``: the channel's base,
    plus climate x relation, minus provocation x the called party's threat) through the logistic, here in
    NumPy so that every path uses the same ``exp``. Whether a channel is open is the kernel's to check
    (``kernel.best_open``)."""
    ch = spec.channels
    z = kernel.channel_logits(np.asarray(rows, np.int64), targets, table, ch.logit, ch.climate, ch.provocation,
                              st.rel, st.H)
    return 1.0 / (1.0 + np.exp(-z)) if len(spec.channel_ids) else np.zeros(z.shape)
