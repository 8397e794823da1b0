"""Bad input to the Shapley explainers: a clear error naming the argument, before any work."""

from __future__ import annotations

import numpy as np
import pytest

import glassbox as gb
from reference import shapley as ref

ALL = [gb.ExactShapley, gb.ShapleyInteractions, gb.KernelShap, gb.PermutationShapley]


def _never_called(Z: np.ndarray) -> np.ndarray:
    raise AssertionError("the model must not be evaluated on bad input")


MODEL = gb.wrap(_never_called, n_inputs=4, n_outputs=2)
SPEC = gb.NetworkSpec(input_shape=(4,))
SPEC.add("dense", "fc", weight=np.ones((2, 4)), bias=np.zeros(2))
NATIVE = gb.build_network(SPEC)
X, B = ref.make_problem(4)


@pytest.mark.parametrize("explainer", ALL)
def test_background_of_the_wrong_width(explainer: type) -> None:
    with pytest.raises(ValueError, match=r"background: expected shape \(n, 4\)"):
        explainer(MODEL, background=np.zeros((3, 5)))


@pytest.mark.parametrize("explainer", ALL)
def test_empty_background(explainer: type) -> None:
    with pytest.raises(ValueError, match="background: is empty"):
        explainer(MODEL, background=np.zeros((0, 4)))
    with pytest.raises(TypeError, match="background"):
        explainer(MODEL, background=None)


@pytest.mark.parametrize("explainer", ALL)
def test_background_with_nan(explainer: type) -> None:
    bad = B.copy()
    bad[1, 2] = np.nan
    with pytest.raises(ValueError, match="background: contains NaN"):
        explainer(NATIVE, background=bad)  # the native engine computes on numbers
    explainer(MODEL, background=bad)  # a Python model may impute: accepted, not yet called
    with pytest.raises(ValueError, match="background: contains Inf"):
        explainer(MODEL, background=np.where(np.isnan(bad), np.inf, bad))


@pytest.mark.parametrize(
    ("groups", "message"),
    [
        ([[0, 1], [1, 2, 3]], "feature 1 is in groups 0 and 1"),
        ([[0, 1], [3]], r"features \[2\] are in no group"),
        ([[0, 1], [2, 7], [3]], "feature index 7 in group 1 is out of range"),
        ([[0, 1], [], [2, 3]], "group 1 is empty"),
        ([], "groups: is empty"),
    ],
)
@pytest.mark.parametrize("explainer", ALL)
def test_groups_that_overlap_or_miss_features(explainer: type, groups: list, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        explainer(MODEL, background=B, groups=groups)


def test_groups_of_the_wrong_type() -> None:
    with pytest.raises(TypeError, match="groups: expected None"):
        gb.KernelShap(MODEL, background=B, groups="abc")
    with pytest.raises(TypeError, match=r"groups: group 0 holds 0\.5"):
        gb.KernelShap(MODEL, background=B, groups=[[0.5], [1, 2, 3]])


@pytest.mark.parametrize(
    ("explainer", "minimum"), [(gb.KernelShap, 2 * 4 + 2), (gb.PermutationShapley, 4 * 3)]
)
def test_n_samples_too_small_for_d(explainer: type, minimum: int) -> None:
    with pytest.raises(ValueError, match=f"n_samples: .*needs at least {minimum} coalitions"):
        explainer(MODEL, background=B, n_samples=minimum - 1)
    with pytest.raises(ValueError, match="n_samples: expected an integer between 1 and"):
        explainer(MODEL, background=B, n_samples=0)
    with pytest.raises(ValueError, match="tol: must be a finite number >= 0"):
        explainer(MODEL, background=B, tol=-1.0)


@pytest.mark.parametrize("explainer", [gb.ExactShapley, gb.ShapleyInteractions])
def test_too_many_groups_for_exact(explainer: type) -> None:
    wide = gb.wrap(_never_called, n_inputs=21, n_outputs=1)
    with pytest.raises(ValueError, match=r"21 features or groups is too many.*gb\.KernelShap"):
        explainer(wide, background=np.zeros(21))
    explainer(wide, background=np.zeros(21), groups=[list(range(11)), list(range(11, 21))])


@pytest.mark.parametrize("explainer", ALL)
def test_bad_rows_and_targets(explainer: type) -> None:
    exp = explainer(MODEL, background=B)
    with pytest.raises(ValueError, match=r"X: expected shape \(n, 4\)"):
        exp(np.zeros((2, 3)))
    with pytest.raises(ValueError, match="X: contains Inf"):
        exp(np.full((2, 4), np.inf))
    with pytest.raises(ValueError, match=f"{explainer.__name__} computes on the values"):
        explainer(NATIVE, background=B)(np.full((2, 4), np.nan))
    with pytest.raises(ValueError, match="X: is empty"):
        exp(np.zeros((0, 4)))
    with pytest.raises(ValueError, match="target: 2 is out of range"):
        exp(X, target=2)


def test_bad_model_and_options() -> None:
    with pytest.raises(TypeError, match="model: expected a glassbox model"):
        gb.KernelShap(object(), background=B)
    with pytest.raises(ValueError, match=r"background: expected shape \(n, 4\)"):
        gb.KernelShap(MODEL, background=np.zeros(5))
    with pytest.raises(TypeError, match="seed: expected an int"):
        gb.KernelShap(MODEL, background=B, seed=1.5)
    with pytest.raises(ValueError, match="n_threads: expected an integer between 1 and"):
        gb.KernelShap(MODEL, background=B, n_threads=0)
