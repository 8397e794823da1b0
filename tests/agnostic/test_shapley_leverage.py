"""KernelShap's samplers: Leverage SHAP (the default) against its literal NumPy reference, exact
when the budget covers every coalition, unbiased and consistent over seeds with honest standard
errors; "kernel" keeps the numbers of the earlier KernelShap."""

from __future__ import annotations

import numpy as np
import pytest

import glassbox as gb
from conftest import make_net
from glassbox.explainers.shapley import kernel_shap_design
from reference import leverage as lev
from reference import shapley as ref

D = 10
_W = np.random.default_rng(5).normal(size=(D, 1))


def game(Z: np.ndarray) -> np.ndarray:
    """A nonlinear game with interactions (exact values by ExactShapley)."""
    return np.tanh(Z @ _W) + Z[:, :1] * Z[:, 1:2] - 0.5 * Z[:, 2:3] * Z[:, 3:4] * Z[:, 4:5]


@pytest.fixture(scope="module")
def problem() -> tuple[gb.CallableModel, np.ndarray, np.ndarray, np.ndarray]:
    X, B = ref.make_problem(D, n_rows=1, n_background=4, seed=3)
    model = gb.wrap(game, n_inputs=D)
    exact = gb.ExactShapley(model, background=B)(X).values[0]
    return model, X, B, exact


def test_leverage_is_the_default_and_exact_when_the_budget_covers_every_coalition() -> None:
    tanh = make_net("tanh").model  # 5 inputs, 3 outputs
    X, B = ref.make_problem()
    explainer = gb.KernelShap(tanh, background=B, n_samples=30)
    assert explainer.sampler == "leverage"
    exp = explainer(X)
    np.testing.assert_allclose(exp.values, ref.shapley_values(tanh.predict, X, B), atol=1e-6)
    assert np.all(exp.stderr == 0) and exp.options["n_evaluated"] == 30


@pytest.mark.parametrize("budget", [24, 60, 200])
def test_leverage_replays_its_design_in_the_reference_regression(budget: int) -> None:
    """The C++ design's weights are the paper's (kernel / inclusion probability) and its values the
    projected unconstrained least squares on the same coalitions."""
    W = np.random.default_rng(2).normal(size=(8, 1))
    f = lambda Z: np.sin(Z @ W) + Z[:, :1] * Z[:, 1:2]  # noqa: E731
    X, B = ref.make_problem(8, n_rows=2, n_background=5)
    exp = gb.KernelShap(gb.wrap(f, n_inputs=8), background=B, n_samples=budget, seed=4)(X)
    masks, weights, n_pairs = kernel_shap_design(8, budget, seed=4, sampler="leverage")
    assert len(masks) == exp.options["n_evaluated"] == 2 * (budget // 2)
    assert int(n_pairs) == exp.options["n_draws"]
    assert len({m.tobytes() for m in masks}) == len(masks)  # without replacement
    for m in masks:  # paired with complements
        assert any(np.array_equal(1 - m, other) for other in masks)
    np.testing.assert_allclose(weights, lev.leverage_weights(masks, budget), rtol=1e-12)
    for i, x in enumerate(X):
        want = lev.projected_regression(masks, weights, *ref.design_targets(f, x, B, masks))
        np.testing.assert_allclose(exp.values[i], want, rtol=1e-5, atol=1e-6)


def test_leverage_sizes_are_uniform() -> None:
    """Each size pair gets its share of the sampled pairs (half for the middle size)."""
    d, budget = 12, 400  # 200 pairs: size 1 (12 pairs) enumerated, 188 / 4.5 per size pair
    probability = lev.inclusion_probabilities(d, budget)
    assert probability[1] == 1.0 and probability[2] < 1.0
    for seed in range(3):
        masks, _, n_pairs = kernel_shap_design(d, budget, seed=seed, sampler="leverage")
        sizes = np.minimum(masks.sum(axis=1), d - masks.sum(axis=1))
        counts = np.bincount(sizes, minlength=d // 2 + 1)[2:] // 2
        counts[-1] *= 2  # size 6: half the pairs of the others
        assert int(n_pairs) == 188 and np.abs(counts - 188 / 4.5).max() <= 2


def test_kernel_sampler_keeps_the_earlier_numbers() -> None:
    """sampler="kernel": the values and stderr KernelShap gave before the samplers (pinned)."""
    rng = np.random.default_rng(0)
    W = rng.normal(size=(12, 2))
    f = lambda Z: np.tanh(Z @ W) + Z[:, :2] * Z[:, 2:4]  # noqa: E731
    X = rng.normal(size=(3, 12)).astype(np.float32)
    B = rng.normal(size=(5, 12)).astype(np.float32)
    exp = gb.KernelShap(
        gb.wrap(f, n_inputs=12), background=B, n_samples=100, seed=7, sampler="kernel"
    )(X)
    values = [
        0.0872141311732891,
        -0.16927825452233242,
        0.010918791485168493,
        -0.2909663128098855,
        0.29894638728769934,
        0.08312471457302405,
        -0.06147823831730012,
        -0.009716061216438103,
        -0.0500168246468519,
        0.10148165981103428,
        0.3641797059879937,
        0.041205052771976385,
    ]
    stderr = [
        0.04654379255249587,
        0.0409941595058645,
        0.04102590568254492,
        0.04248039807347816,
        0.05319821872679744,
        0.05220021766800878,
        0.03821988988310133,
        0.0362707661543798,
        0.045228336814147195,
        0.043033998135512806,
        0.05683506503845398,
        0.037013889656563645,
    ]
    np.testing.assert_allclose(exp.values[1, :, 1], values, rtol=1e-13, atol=1e-15)
    np.testing.assert_allclose(exp.stderr[1, :, 1], stderr, rtol=1e-13, atol=1e-15)
    assert exp.options["n_evaluated"] == 100 and exp.options["n_draws"] == 39


@pytest.mark.parametrize("sampler", ["leverage", "kernel"])
def test_efficiency_holds_exactly(sampler: str, problem: tuple) -> None:
    model, X, B, _ = problem
    exp = gb.KernelShap(model, background=B, n_samples=40, sampler=sampler, seed=1)(X)
    np.testing.assert_allclose(exp.delta, 0.0, atol=1e-12)


@pytest.mark.parametrize("sampler", ["leverage", "kernel"])
def test_unbiased_with_covering_stderr_over_seeds(sampler: str, problem: tuple) -> None:
    """Over 200 seeds: the +-1.96 stderr interval covers the exact value ~95% of the time, and the
    mean estimate is within a few standard errors of the mean of the truth."""
    model, X, B, exact = problem
    runs = [
        gb.KernelShap(model, background=B, n_samples=120, sampler=sampler, seed=seed)(X)
        for seed in range(200)
    ]
    values = np.array([run.values[0] for run in runs])
    stderr = np.array([run.stderr[0] for run in runs])
    covered = np.abs(values - exact) <= 1.96 * stderr
    assert 0.85 <= covered.mean() <= 0.99, covered.mean()
    tolerance = 4 * np.sqrt((stderr**2).mean(axis=0) / len(runs)) + 1e-3
    assert np.all(np.abs(values.mean(axis=0) - exact) <= tolerance)


def test_leverage_error_falls_with_the_budget(problem: tuple) -> None:
    model, X, B, exact = problem
    errors = []
    for budget in (40, 160, 640):
        runs = [
            gb.KernelShap(model, background=B, n_samples=budget, seed=seed)(X).values[0]
            for seed in range(20)
        ]
        errors.append(np.mean([np.linalg.norm(v - exact) for v in runs]))
    assert errors[0] > 1.5 * errors[1] > 2.25 * errors[2], errors


@pytest.mark.parametrize("sampler", ["leverage", "kernel"])
def test_thread_counts_give_identical_results(sampler: str, problem: tuple) -> None:
    model = problem[0]
    X, B = ref.make_problem(D, n_rows=6, n_background=7)
    run = lambda t: gb.KernelShap(  # noqa: E731
        model, background=B, n_samples=150, seed=9, sampler=sampler, n_threads=t
    )(X)
    one, two = run(1), run(2)
    np.testing.assert_array_equal(one.values, two.values)
    np.testing.assert_array_equal(one.stderr, two.stderr)


def test_leverage_tol_rounds_end_in_the_design_of_the_budget(problem: tuple) -> None:
    """Under a tol no row meets, the rounds end with the numbers of a run without tol."""
    model, X, B, _ = problem
    fixed = gb.KernelShap(model, background=B, n_samples=300, seed=2)(X)
    rounds = gb.KernelShap(model, background=B, n_samples=300, seed=2, tol=1e-9)(X)
    np.testing.assert_array_equal(rounds.values, fixed.values)
    np.testing.assert_array_equal(rounds.stderr, fixed.stderr)


def test_unknown_sampler_is_refused() -> None:
    model = gb.wrap(lambda Z: Z.sum(axis=1), n_inputs=3)
    with pytest.raises(ValueError, match="sampler: expected one of 'leverage', 'kernel'"):
        gb.KernelShap(model, background=np.zeros(3), sampler="uniform")
