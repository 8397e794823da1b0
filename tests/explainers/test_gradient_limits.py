"""Limits of the gradient methods: Gauss-Legendre rules of any size (O(n), cached), counts beyond
the ceiling, and float32 overflow of the noise or the path rejected before any work."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

import glassbox as gb
from conftest import make_data, make_net
from glassbox import _core


def _rule(n: int) -> tuple[np.ndarray, np.ndarray]:
    q = _core.quadrature("gausslegendre", n_steps=n)
    return np.asarray(q.alphas), np.asarray(q.weights)


@pytest.mark.parametrize("n", [1, 2, 3, 7, 20, 64, 128, 129, 200, 300])
def test_gauss_legendre_matches_numpy(n: int) -> None:
    alphas, weights = _rule(n)
    nodes, want = np.polynomial.legendre.leggauss(n)
    np.testing.assert_allclose(2 * alphas - 1, nodes, rtol=1e-12, atol=1e-15)
    # numpy's own weights are off by up to ~1e-10 relative at a few hundred nodes
    np.testing.assert_allclose(2 * weights, want, rtol=1e-12 if n <= 20 else 1e-9)
    assert weights.sum() == pytest.approx(1.0, abs=1e-14)


@pytest.mark.parametrize("n", [1, 5, 16, 40])
def test_gauss_legendre_exact_for_degree_2n_minus_1(n: int) -> None:
    alphas, weights = _rule(n)
    for degree in range(2 * n):
        assert weights @ alphas**degree == pytest.approx(1 / (degree + 1), rel=1e-13, abs=1e-15)


@pytest.mark.parametrize("n", [129, 1000, 10_000, 1_000_000])
def test_gauss_legendre_large_rules(n: int) -> None:
    alphas, weights = _rule(n)
    assert alphas.shape == weights.shape == (n,)
    assert np.all(np.diff(alphas) > 0) and 0 < alphas[0] and alphas[-1] < 1
    np.testing.assert_allclose(alphas + alphas[::-1], 1.0, atol=1e-15)
    np.testing.assert_array_equal(weights, weights[::-1])
    assert weights.sum() == pytest.approx(1.0, abs=1e-13)
    # a smooth integrand: exact to rounding
    assert weights @ np.cos(7 * alphas) == pytest.approx(np.sin(7) / 7, abs=1e-14)
    assert weights @ alphas**9 == pytest.approx(0.1, abs=1e-14)
    # the rule is cached: the same numbers again
    again, _ = _rule(n)
    np.testing.assert_array_equal(again, alphas)


def test_gauss_legendre_first_node_keeps_relative_precision() -> None:
    alphas, _ = _rule(1_000_000)
    # sin^2(theta_1 / 2) of the first zero (25-digit recurrence in mpmath): 1.445795044940471e-12
    assert alphas[0] == pytest.approx(1.445795044940471e-12, rel=1e-12)


@pytest.mark.parametrize("n_steps", [10**9 + 1, 2**62])
def test_n_steps_ceiling(n_steps: int) -> None:
    with pytest.raises(ValueError, match="n_steps"):
        _core.quadrature("riemann_left", n_steps=n_steps)


@pytest.mark.parametrize("method", ["riemann_left", "gausslegendre"])
def test_integrated_gradients_huge_n_steps_fails_before_work(method: str) -> None:
    net = make_net("relu")
    X = make_data(net.spec.input_shape[0], n_rows=2, seed=0)
    # 10^8 steps: a 1.6 GB rule, more than the state allowance; a clean error, not an abort
    with pytest.raises((ValueError, MemoryError), match="n_steps"):
        gb.IntegratedGradients(net.model, n_steps=10**8, method=method)(X, target=0)


def test_smoothgrad_noise_overflow_is_rejected() -> None:
    net = make_net("relu")
    X = make_data(net.spec.input_shape[0], n_rows=2, seed=0)
    with pytest.raises(ValueError, match="stdev"):
        gb.SmoothGrad(net.model, n_samples=4, stdev=1e38, seed=0)(X, target=0)
    with pytest.raises(ValueError, match="stdev"):
        gb.GradientShap(net.model, n_samples=4, stdev=1e300, seed=0)(X, baselines=X, target=0)
    # a large but representable noise still runs
    exp = gb.SmoothGrad(net.model, n_samples=4, stdev=1e3, seed=0)(X, target=0)
    assert exp.values.shape == X.shape


def test_integrated_gradients_path_overflow_is_rejected() -> None:
    net = make_net("relu")
    d = net.spec.input_shape[0]
    X = np.full((2, d), 3e38, dtype=np.float32)
    with pytest.raises(ValueError, match="baselines"):
        gb.IntegratedGradients(net.model, n_steps=8)(X, baselines=-X, target=0)


@pytest.mark.parametrize("n_threads", [100_000, 2**31 - 1])
def test_thread_requests_are_clamped(n_threads: int) -> None:
    net = make_net("relu")
    X = make_data(net.spec.input_shape[0], n_rows=4, seed=0)
    want = gb.Saliency(net.model, n_threads=1)(X, target=0).values
    got = gb.Saliency(net.model, n_threads=n_threads)(X, target=0).values
    np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("value", ["100000", "0", "abc", "2147483647"])
def test_glassbox_num_threads_is_validated(value: str) -> None:
    code = textwrap.dedent(
        """
        import sys
        sys.path.insert(0, "tests")
        import glassbox as gb
        from conftest import make_data, make_net
        net = make_net("relu")
        X = make_data(net.spec.input_shape[0], n_rows=4, seed=0)
        try:
            gb.Saliency(net.model)(X, target=0)
        except ValueError as error:
            print(error)
        """
    )
    # cwd: the repository (tests.* importable); glassbox: the one under test (installed or not)
    root = Path(__file__).resolve().parents[2]
    env = {
        **os.environ,
        "GLASSBOX_NUM_THREADS": value,
        "PYTHONPATH": os.pathsep.join([str(Path(gb.__file__).resolve().parents[1]), *sys.path]),
    }
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=root, env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert "GLASSBOX_NUM_THREADS" in done.stdout and "1 to 256" in done.stdout
