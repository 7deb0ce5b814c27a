"""The compiled decision loops equal the NumPy expressions they replaced, compiled or not."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np

from sim.engine import kernel

ROOT = Path(__file__).resolve().parent.parent


def _inputs(R=50, A=3, K=9, F=6, seed=0):
    g = np.random.default_rng(seed)
    slot = np.array([-1, 0, -1, -1, 1, -1])
    return (g.normal(size=(1, A, K)), g.normal(size=(R, A, F)), g.normal(size=(A, K, F)),
            g.normal(size=(R, A, K, 2)), slot)


def test_utility_table_is_the_numpy_sum_in_the_same_order():
    base, coef, static, dyn, slot = _inputs()
    want = base + 0.0
    for j, s in enumerate(slot):
        f = static[None, :, :, j] if s < 0 else dyn[..., s]
        want = want + coef[..., j, None] * f
    np.testing.assert_array_equal(kernel.utility_table(base, coef, static, dyn, slot), want)


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
