"""The compiled decision loops equal the NumPy expressions they replaced, compiled or not."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np

from sim.engine import kernel

ROOT = Path(__file__).resolve().parent.parent


def _inputs(R=50, A=3, K=9, seed=0):
    """Random inputs: 4 static features, then jump2, firebreak and answer (in a shuffled order)."""
    g = np.random.default_rng(seed)
    code = np.array([0, kernel.JUMP2, 0, kernel.ANSWER, 0, kernel.FIREBREAK, 0])
    F = len(code)
    computed = (g.normal(size=(A, K)), g.normal(size=(R, A)), g.random((4, A, K)), g.integers(0, 4, (R, A)),
                g.integers(0, 4, (R, A)), g.integers(0, 2**K, (R, A)).astype(np.uint64),
                g.uniform(0, 10, (R, A, K)).astype(np.float32), g.uniform(0, 10, (R, A)).astype(np.float32))
    return g.normal(size=(1, A, K)), g.normal(size=(F, R, A)), g.normal(size=(A, K, F)), code, computed


def test_utility_table_is_the_numpy_sum_in_the_same_order():
    base, coef, static, code, computed = _inputs()
    esc, level, fb, own, crowd, bits, last_used, since = computed
    R, A = level.shape
    K = esc.shape[1]
    r, i = np.arange(R)[:, None], np.arange(A)[None, :]
    table = {kernel.JUMP2: np.maximum(esc[None] - level[..., None], 0.0) ** 2,
             kernel.FIREBREAK: 0.5 * fb[own, i] + 0.5 * fb[crowd, i],
             kernel.ANSWER: (((bits[..., None] >> np.arange(K, dtype=np.uint64)) & np.uint64(1)).astype(bool)
                             & (last_used < since[..., None])).astype(float)}
    want = base + 0.0
    for j, c in enumerate(code):
        want = want + coef[j][..., None] * (static[None, :, :, j] if c == kernel.STATIC else table[c])
    got = kernel.utility_table(base, np.zeros((0, A, 1)), np.zeros((A, K)),
                               np.ascontiguousarray(coef.transpose(1, 2, 0)),
                               np.ascontiguousarray(static.transpose(0, 2, 1)), code, *computed)
    np.testing.assert_array_equal(got, want)
    every = kernel.computed_features(*computed, np.zeros((0, 0), np.int64))
    pick = np.random.default_rng(3).integers(0, K, (R, A))
    one = kernel.computed_features(*computed, pick)
    for c in (kernel.JUMP2, kernel.FIREBREAK, kernel.ANSWER):
        np.testing.assert_array_equal(every[c - 1], table[c])
        np.testing.assert_array_equal(one[c - 1][..., 0], table[c][r, i, pick])


def test_logits_and_draw_equal_the_numpy_softmax_and_cumulative_draw():
    g = np.random.default_rng(1)
    util, tau = g.normal(size=(40, 3, 9)), np.array([0.5, 1.0, 2.0])
    ok = g.random((40, 3, 9)) < 0.7
    ok[..., 0] = True
    v = np.where(ok, util / tau[None, :, None], -np.inf)
    np.testing.assert_array_equal(kernel.logits(util, tau, ok), v - v.max(axis=2, keepdims=True))
    p = np.exp(v - v.max(axis=2, keepdims=True))
    p /= p.sum(axis=2, keepdims=True)
    u = g.random((40, 3))
    cum = np.cumsum(p, axis=2)
    opt = np.argmax(cum > (u * cum[..., -1])[..., None], axis=2)
    got_opt, got_prob = kernel.draw_options(p, u)
    np.testing.assert_array_equal(got_opt, opt)
    np.testing.assert_array_equal(got_prob, np.take_along_axis(p, opt[..., None], 2)[..., 0] / cum[..., -1])
    assert ok[np.arange(40)[:, None], np.arange(3)[None, :], got_opt].all()


def test_uncompiled_fallback_gives_the_same_runs():
    """NUMBA_DISABLE_JIT=1 runs the same functions as plain Python: same results."""
    code = ("from sim.inputs.compile import compile_scenario; from sim.engine.ensemble import simulate;"
            "import pandas as pd;"
            "r = simulate(compile_scenario('scenarios/senkaku.yaml'), 4, 30, events=True);"
            "print(pd.util.hash_pandas_object(r.runs, index=False).sum(),"
            " pd.util.hash_pandas_object(r.events, index=False).sum())")
    out = [subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True,
                          env={**os.environ, "NUMBA_DISABLE_JIT": flag}).stdout for flag in ("0", "1")]
    assert out[0] == out[1] and out[0].strip()


def test_ends_of_order_are_the_stable_argsort_ends():
    """The reasons' first two and last terms are those of NumPy's stable argsort of -D, ties and NaN included."""
    g = np.random.default_rng(5)
    for _ in range(2000):
        D = g.choice([-1.0, 0.0, 0.5, 2.0, np.nan], size=17, p=[0.3, 0.3, 0.2, 0.15, 0.05])
        order = np.argsort(-D, kind="stable")
        assert kernel._ends_of_order(D) == (order[0], order[1], order[-1])
