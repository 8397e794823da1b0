"""The core's results and run options as Python objects: fields read by name, arrays that are
views of the core's buffers (no copy) which keep their result alive, and RunOptions."""

from __future__ import annotations

import gc
import weakref

import numpy as np
import pytest

import glassbox as gb
from conftest import ARCH_BY_NAME, build, make_data, make_spec
from glassbox import _core

MODEL = build(make_spec(ARCH_BY_NAME["tanh"]))  # 5 inputs, 3 outputs
X = make_data(5, n_rows=6)
TARGETS = np.array([0, 1, 2, 0, 1, 2])
OPTIONS = _core.RunOptions(1, memory_budget=1 << 20)
#: A Shapley game: the rows, a background of three rows, each feature its own group.
GAME = {"X": X, "background": X[:3], "group_of": np.arange(5), "n_groups": 5, "n_outputs": 3}


def _owner(array: np.ndarray) -> object:
    """The object at the end of the array's base chain (what keeps its memory alive)."""
    while isinstance(array.base, np.ndarray):
        array = array.base
    return array.base


def _ig() -> _core.Attribution:
    return _core.integrated_gradients(
        MODEL.network,
        X=X,
        baselines=np.zeros_like(X),
        targets=TARGETS,
        method="gausslegendre",
        n_steps=16,
        options=OPTIONS,
    )


def test_attribution_fields_are_views_of_the_result() -> None:
    result = _ig()
    values = result.values
    assert isinstance(_owner(values), _core.Attribution) and _owner(values) is result
    assert values.flags.writeable and values.dtype == np.float32 and values.shape == X.shape
    values[0, 0] = 42.0  # the same buffer: no copy between the core and Python
    assert result.values[0, 0] == 42.0
    assert result.std_error is None  # IG has no standard error
    assert result.delta.shape == (6,) and result.base_values.shape == (6,)


def test_a_view_keeps_its_result_alive() -> None:
    result = _ig()
    expected = result.values.copy()
    values, delta = result.values, result.delta
    alive = weakref.ref(result)
    del result
    gc.collect()
    assert alive() is not None  # held by the views
    np.testing.assert_array_equal(values, expected)
    del values, delta
    gc.collect()
    assert alive() is None  # and freed with them


def test_explanations_hold_the_core_buffers_without_copies() -> None:
    exp = gb.IntegratedGradients(MODEL, n_steps=16)(X, target=TARGETS)
    assert isinstance(_owner(exp.values), _core.Attribution)
    assert exp.values.flags.writeable
    exp.values[0, 0] = 7.0  # callers may write into their results
    assert exp.values[0, 0] == 7.0
    stderr = gb.SmoothGrad(MODEL, n_samples=4, stdev=0.1)(X, target=TARGETS).stderr
    assert isinstance(_owner(stderr), _core.Attribution)


def test_fields_a_method_does_not_compute_read_as_none() -> None:
    smooth = _core.noise_tunnel(
        MODEL.network,
        X=X,
        targets=TARGETS,
        n_samples=4,
        stdev=0.1,
        nt_type="smoothgrad",
        base="gradient",
        seed=0,
    )
    assert smooth.std_error.shape == X.shape and smooth.delta is None
    assert smooth.base_values is None
    exact = _core.shapley_exact(MODEL.network, **GAME, interactions=False)
    assert exact.interactions is None and exact.values.shape == (6, 15)
    assert _owner(exact.fx) is exact


def test_lrp_layer_relevance_views_keep_the_result_alive() -> None:
    result = _core.lrp(
        MODEL.network,
        X=X,
        targets=TARGETS,
        rules=[None] * MODEL.network.n_layers,
        record=[0, 2],
        options=OPTIONS,
    )
    layers = result.layer_relevance
    assert [a.shape for a in layers] == [(6, 12), (6, 8)]
    assert all(_owner(a) is result for a in layers)
    assert result.sums.shape == (6, 1 + MODEL.network.n_layers) and result.output.shape == (6,)


def test_sampled_and_local_results_have_named_fields() -> None:
    sampled = _core.kernel_shap(MODEL.network, **GAME, n_samples=12, tol=0.0, seed=1)
    assert isinstance(sampled.n_evaluated, int) and isinstance(sampled.n_draws, int)
    assert sampled.values.shape == sampled.stderr.shape == (6, 15)
    stats = _core.LimeStats(X, categorical=[False] * 5, discretizer=4)
    neighbourhood = {"num_samples": 30, "kernel_width": 0.0, "seed": 0}
    fit = {"num_features": 3, "feature_selection": "auto"}
    lime = _core.lime_tabular(
        MODEL.network, X=X, stats=stats, targets=TARGETS, n_outputs=3, **neighbourhood, **fit
    )
    for name in ("intercept", "score", "local_prediction", "prediction"):
        assert getattr(lime, name).shape == (6,), name
    assert _owner(lime.values) is lime
    samples = _core.lime_samples(stats, X=X, num_samples=5, seed=0)
    assert samples.inputs.shape == samples.interpretable.shape == (6, 5, 5)


def test_every_result_is_read_only() -> None:
    result = _ig()
    with pytest.raises(AttributeError):
        result.values = np.zeros_like(X)  # type: ignore[misc]


def test_run_options() -> None:
    default = _core.RunOptions()
    assert default.n_threads == 0 and default.memory_budget == _core.default_memory_budget()
    options = _core.RunOptions(3, memory_budget=1024)
    assert repr(options) == "RunOptions(n_threads=3, memory_budget=1024)"
    options.n_threads, options.memory_budget = 1, 2048
    assert (options.n_threads, options.memory_budget) == (1, 2048)
    with pytest.raises(ValueError, match="memory_budget"):
        _core.RunOptions(memory_budget=0)
    with pytest.raises(ValueError, match="memory_budget"):
        options.memory_budget = 0
    with pytest.raises(TypeError):
        _core.RunOptions(1, 1024)  # memory_budget is keyword-only


def test_core_calls_take_only_the_model_by_position() -> None:
    with pytest.raises(TypeError):
        _core.input_gradients(MODEL.network, X, TARGETS, False)  # type: ignore[misc]
    with pytest.raises(TypeError):
        _core.normal_draws(0, 0, 1, 1, 1)  # type: ignore[misc]
    grads = _core.input_gradients(MODEL.network, X=X, targets=TARGETS, abs=False)
    assert grads.shape == X.shape  # options default to RunOptions()
