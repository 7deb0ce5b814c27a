"""Counter-based random numbers: run *i* of seed *s* is the same in any batch.

Every draw is a pure function of (run key, turn, stream, index): a SplitMix64 hash,
vectorised in NumPy. No generator state is carried between runs or turns, so a run
gives identical draws whether it is simulated alone in the Mesa model, in a batch of
a million, in any order, on any worker. Run keys come from one
``numpy.random.SeedSequence`` per seed. ``mix`` and the per-draw loop (``_unit``) are compiled (Numba;
with ``NUMBA_DISABLE_JIT=1`` the same code runs as Python): pure integer arithmetic, so the numbers
do not depend on which runs it.
"""

from __future__ import annotations

import numpy as np
from numba import njit

_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_GOLD = np.uint64(0x9E3779B97F4A7C15)
_S30, _S27, _S31, _S11 = (np.uint64(s) for s in (30, 27, 31, 11))
_TO_UNIT = 1.0 / float(1 << 53)

# stream identifiers live in sim.names.Stream (one per kind of draw)


@njit(cache=True, nogil=True)
def mix(z: np.ndarray) -> np.ndarray:
    """SplitMix64 finaliser on a uint64 array or scalar (wrapping arithmetic); ``_unit`` calls it per draw."""
    z = z ^ (z >> _S30)
    z = z * _M1
    z = z ^ (z >> _S27)
    z = z * _M2
    return z ^ (z >> _S31)


def run_keys(seed: int, runs: np.ndarray | range | list[int]) -> np.ndarray:
    """Per-run 64-bit keys for run indices under one seed."""
    base = np.random.SeedSequence(int(seed)).generate_state(1, np.uint64)[0]
    i = np.asarray(runs, dtype=np.uint64)
    with np.errstate(over="ignore"):
        return mix(np.uint64(base) ^ mix(i * _GOLD + _GOLD))


def draw(keys: np.ndarray, turn: int, stream: int, lanes: np.ndarray | int) -> np.ndarray:
    """Uniform [0, 1) draws, shape (len(keys), len(lanes)), for this turn and stream.

    A lane is the index of the draw within its stream (e.g. the actor index), so a
    caller that needs only actor 3 asks for lane 3 and gets the same number that a
    caller asking for all actors gets in column 3.
    """
    if isinstance(lanes, int):
        lanes = np.arange(lanes)
    salt = np.uint64(((turn & 0xFFFFF) << 40) | ((stream & 0xFF) << 32))
    lane = np.asarray(lanes, dtype=np.uint64) + salt
    with np.errstate(over="ignore"):  # wrapping multiplication (also for the uncompiled loop's scalars)
        return _unit(np.ascontiguousarray(keys, np.uint64), mix(lane * _GOLD))


@njit(cache=True, nogil=True)
def _unit(keys: np.ndarray, lanes: np.ndarray) -> np.ndarray:
    """``mix(key ^ lane)`` for every (key, lane), as uniforms in [0, 1) from the top 53 bits."""
    out = np.empty((keys.shape[0], lanes.shape[0]))
    for i in range(keys.shape[0]):
        for j in range(lanes.shape[0]):
            out[i, j] = np.float64(mix(keys[i] ^ lanes[j]) >> _S11) * _TO_UNIT
    return out
