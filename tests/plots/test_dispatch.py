"""``plot(result)`` / ``result.plot()`` pick the plot that suits each result type and shape."""

from __future__ import annotations

import numpy as np
import pytest

import glassbox as gb
from glassbox import plots
from glassbox.inspection import ALE, HStatistic, PartialDependence, PermutationImportance
from glassbox.surrogate import SurrogateTree

NAMES = ("beeswarm", "waterfall", "bar", "image", "interactions", "lime")
NAMES += ("partial_dependence", "ale", "tree")


@pytest.fixture
def called(monkeypatch):
    """Replace each plot by a recorder: ``plot`` then returns the name of the one it chose."""
    for name in NAMES:
        monkeypatch.setattr(plots, name, lambda result, _name=name, **kw: (_name, kw))


def explanation(shape, **fields):
    rng = np.random.default_rng(0)
    return gb.Explanation(values=rng.normal(size=shape), data=rng.normal(size=shape), **fields)


@pytest.mark.parametrize(
    ("exp", "expected"),
    [
        (explanation((5, 3)), "beeswarm"),
        (explanation((5, 3), base_values=np.zeros(5))[0], "waterfall"),
        (explanation((5, 3))[0], "bar"),  # no base value: Saliency-like
        (explanation((5, 3), method="lime", base_values=np.zeros(5))[1], "lime"),
        (explanation((2, 1, 4, 4)), "image"),
        (explanation((2, 4, 4, 3)), "image"),
        (explanation((5, 3, 3), method="shapley_interactions"), "interactions"),
    ],
)
def test_explanations_go_to_the_plot_of_their_shape(called, exp, expected):
    assert plots.plot(exp, max_display=4)[0] == expected
    assert exp.plot(max_display=4) == (expected, {"max_display": 4})


@pytest.mark.parametrize(
    ("kind", "expected"),
    [
        (PermutationImportance, "bar"),
        (PartialDependence, "partial_dependence"),
        (ALE, "ale"),
        (HStatistic, "interactions"),
        (SurrogateTree, "tree"),
    ],
)
def test_other_results_go_to_their_plot(called, kind, expected):
    result = kind.__new__(kind)  # the type alone decides; no fields are read
    assert plots.plot(result)[0] == expected
