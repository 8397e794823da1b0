"""`tol` per row for KernelShap and PermutationShapley: each row stops once its own standard errors
are within tol (relative to its gap f(x) - E f(background), or absolute), in doubling rounds, and
a stopped row's coalitions are no longer evaluated. Evaluations are counted through the model."""

from __future__ import annotations

from math import comb
from typing import Any

import numpy as np
import pytest

import glassbox as gb
from glassbox.explainers.shapley import kernel_shap_design, shapley_permutations

D = 16
SAMPLERS = [gb.KernelShap, gb.PermutationShapley]


class Counting:
    """A NumPy model that counts the rows it is called with."""

    def __init__(self, fn: Any) -> None:
        self.fn, self.rows = fn, 0

    def __call__(self, Z: np.ndarray) -> np.ndarray:
        self.rows += len(Z)
        return self.fn(np.asarray(Z, dtype=np.float64))


def first_round(explainer: type, d: int, cap: int, seed: int) -> int:
    """The coalitions of the first round, from the seeded designs (not from the estimator)."""
    if explainer is gb.PermutationShapley:  # 8 antithetic pairs: their distinct prefixes
        prefixes = set()
        for perm in shapley_permutations(d, 8, seed):
            for order in (perm, perm[::-1]):
                for t in range(1, d):
                    prefixes.add(frozenset(order[:t].tolist()))
        return len(prefixes)
    masks, _, _ = kernel_shap_design(d, cap, seed)
    sizes = masks.sum(axis=1)
    # the sizes the cap's design enumerates: every coalition of size s (and d - s) is in it
    enumerated = 0
    for s in range(1, d // 2 + 1):
        count = comb(d, s) * (1 if 2 * s == d else 2)
        if np.count_nonzero((sizes == s) | (sizes == d - s)) < count:
            break
        enumerated += count
    return enumerated + max(4 * d, 32)


def linear(w: np.ndarray) -> Counting:
    return Counting(lambda Z: Z @ w)


def gated(Z: np.ndarray) -> np.ndarray:
    """Linear where z0 <= 2; a rough interaction of every feature where z0 > 2."""
    rough = np.sin(3.0 * Z[:, 1:].sum(axis=1)) * np.cos(2.0 * Z[:, 1] * Z[:, 2])
    return Z @ np.linspace(-0.3, 0.3, Z.shape[1]) + 2.0 * (Z[:, 0] > 2.0) * rough


def problem(n_rows: int = 3, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n_rows, D)).astype(np.float32)
    B = rng.normal(size=(6, D)).astype(np.float32)
    B[:, 0] = 0.0  # background rows never switch the gate of `gated` on
    return X, B


@pytest.mark.parametrize("explainer", SAMPLERS)
def test_a_linear_model_stops_at_the_first_round(explainer: type) -> None:
    X, B = problem()
    w = np.linspace(-2.0, 3.0, D)
    model = linear(w)
    cap = 3000
    exp = explainer(
        gb.wrap(model, n_inputs=D, n_outputs=1), background=B, n_samples=cap, tol=0.01, seed=4
    )(X)
    minimum = first_round(explainer, D, cap, 4)
    assert minimum < cap / 3
    np.testing.assert_array_equal(exp.n_samples, [minimum] * len(X))
    # the endpoints (rows + background), then each row's coalitions on every background row
    assert model.rows == len(X) + len(B) + len(B) * exp.n_samples.sum()
    np.testing.assert_allclose(exp.values, (X - B.mean(axis=0)) * w, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("explainer", SAMPLERS)
def test_rows_stop_on_their_own(explainer: type) -> None:
    """Row 0's neighbourhood (x0 = 0) is linear, row 1's (x0 = 3) is rough: row 0 stops at the
    first round, row 1 samples on; the model rows are exactly the coalitions each row used."""
    X, B = problem(2)
    X[0, 0], X[1, 0] = 0.0, 3.0
    model = Counting(gated)
    cap = 4000
    exp = explainer(gb.wrap(model, n_inputs=D, n_outputs=1), background=B, n_samples=cap, tol=0.01)(
        X
    )
    assert exp.n_samples[0] == first_round(explainer, D, cap, 0)
    assert exp.n_samples[1] > 2 * exp.n_samples[0]
    assert model.rows == len(X) + len(B) + len(B) * exp.n_samples.sum()


@pytest.mark.parametrize("explainer", SAMPLERS)
@pytest.mark.parametrize("mode", ["relative", "absolute"])
def test_stopped_rows_meet_their_tolerance(explainer: type, mode: str) -> None:
    X, B = problem(6, seed=1)
    X[:, 0] = np.array([0.0, 3.0, 0.5, 2.5, -1.0, 4.0])
    f = gb.wrap(gated, n_inputs=D)
    cap, tol = 20_000, 0.02 if mode == "relative" else 0.05
    exp = explainer(f, background=B, n_samples=cap, tol=tol, tol_mode=mode)(X)
    full = explainer(f, background=B, n_samples=cap)(X)
    stopped = exp.n_samples < full.n_samples
    assert stopped.sum() >= 3
    gap = np.abs(exp.values.sum(axis=1))  # efficiency: f(x) - E f(background)
    limit = tol * gap if mode == "relative" else np.full(len(X), tol)
    assert np.all(exp.stderr.max(axis=1)[stopped] <= limit[stopped])
    assert np.all(exp.stderr.max(axis=1)[stopped] > 0) or explainer is gb.KernelShap
    # the rows that ran to the cap are those of the run without tol
    np.testing.assert_array_equal(exp.values[~stopped], full.values[~stopped])


@pytest.mark.parametrize("explainer", SAMPLERS)
def test_bit_identical_across_threads_and_memory_budget(explainer: type) -> None:
    X, B = problem(5, seed=2)
    X[:, 0] = np.array([0.0, 3.0, 0.5, 2.5, 4.0])
    f = gb.wrap(gated, n_inputs=D)
    runs = [
        explainer(f, background=B, n_samples=3000, tol=0.02, n_threads=t, memory_budget=budget)(X)
        for t, budget in [(1, None), (2, None), (1, 200_000), (2, 200_000)]
    ]
    assert len(set(runs[0].n_samples.tolist())) > 1  # the rows differ
    for run in runs[1:]:
        np.testing.assert_array_equal(run.n_samples, runs[0].n_samples)
        np.testing.assert_array_equal(run.values, runs[0].values)
        np.testing.assert_array_equal(run.stderr, runs[0].stderr)


@pytest.mark.parametrize("explainer", SAMPLERS)
def test_a_tol_never_met_gives_the_run_without_tol(explainer: type) -> None:
    X, B = problem(3, seed=3)
    X[:, 0] = 3.0
    f = gb.wrap(gated, n_inputs=D)
    plain = explainer(f, background=B, n_samples=1500, seed=7)(X)
    never = explainer(f, background=B, n_samples=1500, seed=7, tol=1e-9)(X)
    np.testing.assert_array_equal(never.n_samples, plain.n_samples)
    np.testing.assert_array_equal(never.values, plain.values)
    np.testing.assert_array_equal(never.stderr, plain.stderr)


@pytest.mark.parametrize("explainer", SAMPLERS)
def test_without_tol_every_row_spends_the_budget(explainer: type) -> None:
    X, B = problem(3)
    model = Counting(gated)
    exp = explainer(gb.wrap(model, n_inputs=D, n_outputs=1), background=B, n_samples=600)(X)
    assert exp.n_samples.dtype == np.int64
    assert np.all(exp.n_samples == exp.options["n_evaluated"])
    assert model.rows == len(X) + len(B) + len(B) * exp.n_samples.sum()
    if explainer is gb.KernelShap:  # distinct coalitions: the budget (a pair may add one more)
        assert np.all((exp.n_samples >= 600) & (exp.n_samples <= 601))
    # slicing keeps the per-row field
    assert exp[1:].n_samples.tolist() == exp.n_samples[1:].tolist()


def test_tol_watches_the_target_only() -> None:
    """Output 0 is linear, output 1 rough: explaining output 0 stops at the first round."""
    X, B = problem(2)
    X[:, 0] = 3.0

    def two(Z: np.ndarray) -> np.ndarray:
        return np.column_stack([Z @ np.ones(D), gated(Z)])

    f = gb.wrap(two, n_inputs=D, n_outputs=2)
    first = gb.KernelShap(f, background=B, n_samples=3000, tol=0.01)(X, target=0)
    both = gb.KernelShap(f, background=B, n_samples=3000, tol=0.01)(X)
    assert np.all(first.n_samples == first_round(gb.KernelShap, D, 3000, 0))
    assert np.all(both.n_samples > first.n_samples)


def test_tol_mode_is_checked() -> None:
    with pytest.raises(ValueError, match="tol_mode: expected one of 'relative', 'absolute'"):
        gb.KernelShap(gb.wrap(gated, n_inputs=D), background=np.zeros(D), tol_mode="rel")


@pytest.mark.parametrize("explainer", SAMPLERS)
def test_a_zero_gap_falls_back_to_the_spread_over_the_background(explainer: type) -> None:
    """f(x) = E f(background) exactly (an odd model, a background of rows b and -b, f(x) = 0):
    relative tol is then relative to the standard deviation of f over the background."""

    def odd(Z: np.ndarray) -> np.ndarray:
        return Z[:, 0] * Z[:, 1] * Z[:, 2] + Z[:, 3] * Z[:, 4] * Z[:, 5]

    rng = np.random.default_rng(6)
    half = rng.normal(size=(4, D))
    B = np.vstack([half, -half]).astype(np.float32)
    X = np.ones((1, D), np.float32)
    X[0, [2, 5]] = 0.0
    f = gb.wrap(odd, n_inputs=D, n_outputs=1)
    spread = np.std(odd(B.astype(np.float64)).astype(np.float32).astype(np.float64), ddof=1)
    relative = explainer(f, background=B, n_samples=20_000, tol=0.05)(X)
    absolute = explainer(f, background=B, n_samples=20_000, tol=0.05 * spread, tol_mode="absolute")
    assert abs(relative.values.sum()) < 1e-12  # the gap is zero
    assert relative.n_samples[0] < 20_000 / 3
    assert relative.stderr.max() > 0 and relative.stderr.max() <= 0.05 * spread
    np.testing.assert_array_equal(absolute(X).n_samples, relative.n_samples)


def test_a_smooth_30_feature_mlp_needs_3x_fewer_evaluations() -> None:
    """The issue's figure, counted: KernelShap tol=0.01 on a Tanh MLP 30-64-64-1 (torch's
    default initialisation) against the fixed default budget 2048 + 2d."""
    import importlib.util
    from pathlib import Path

    path = Path(__file__).parents[1] / "bench" / "tol_budget.py"
    spec = importlib.util.spec_from_file_location("tol_budget", path)
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    rng = np.random.default_rng(1)
    X = rng.normal(size=(4, 30)).astype(np.float32)
    B = rng.normal(size=(10, 30)).astype(np.float32)
    mlp = bench.CountingMLP()
    model = gb.wrap(mlp, n_inputs=30, n_outputs=1)
    fixed = gb.KernelShap(model, background=B)(X)
    mlp.rows = 0
    early = gb.KernelShap(model, background=B, tol=0.01)(X)
    assert mlp.rows == len(X) + len(B) + len(B) * early.n_samples.sum()
    assert np.all(fixed.n_samples == 2048 + 60)
    fewer = fixed.n_samples / early.n_samples
    assert (fewer >= 3).sum() >= 2
    smooth = fewer >= 3
    gap = np.abs(early.values.sum(axis=1))
    assert np.all(early.stderr.max(axis=1)[smooth] <= 0.01 * gap[smooth])
