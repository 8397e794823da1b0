"""compress.fidelity: a model against itself is perfect; every figure equals its NumPy
computation (agreement, errors, accuracies, sizes, the Spearman correlation of IG maps); bad
input is refused."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import rankdata

import glassbox as gb
from cnn_nets import lenet_spec
from compress.conftest import torch_mlp
from glassbox.compress.fidelity import average_ranks, rank_correlation
from reference.compression import spearman


@pytest.fixture
def mlp() -> tuple[gb.NativeModel, np.ndarray, np.ndarray]:
    X = np.random.default_rng(0).normal(size=(60, 6)).astype(np.float32)
    model = gb.from_torch(torch_mlp(seed=2))
    y = (model.predict(X).argmax(axis=1) + (np.arange(60) % 7 == 0)) % 3  # 1 in 7 wrong
    return model, X, y


def test_a_model_against_itself_is_perfect(mlp):
    model, X, y = mlp
    fid = gb.compress.fidelity(model, model, X, y)
    assert (fid.agreement, fid.output_mse, fid.max_error, fid.attribution_agreement) == (
        1.0,
        0.0,
        0.0,
        1.0,
    )
    assert (
        fid.accuracy_before == fid.accuracy_after == pytest.approx(np.mean(np.arange(60) % 7 != 0))
    )
    assert fid.params_before == fid.params_after and fid.bytes_before == 4 * fid.params_before
    assert fid.task == "classification" and fid.n_rows == 60


def test_every_figure_equals_its_numpy_computation(mlp):
    model, X, y = mlp
    other = gb.compress.prune(model, 0.6)
    fid = gb.compress.fidelity(model, other, X, y, n_steps=16)
    a, b = model.predict(X).astype(np.float64), other.predict(X).astype(np.float64)
    assert fid.agreement == np.mean(a.argmax(1) == b.argmax(1))
    assert fid.output_mse == pytest.approx(np.mean((a - b) ** 2))
    assert fid.max_error == pytest.approx(np.abs(a - b).max())
    assert fid.accuracy_after == np.mean(b.argmax(1) == y)
    nonzero = sum(
        np.count_nonzero(v) for layer in other.spec.layers for v in layer.weights.values()
    )
    assert (fid.params_after, fid.bytes_after) == (nonzero, 4 * nonzero)
    target = a.argmax(1)
    maps = [
        gb.IntegratedGradients(m, n_steps=16)(X, baselines=0.0, target=target).values
        for m in (model, other)
    ]
    expected = np.nanmean([spearman(p, q) for p, q in zip(*maps, strict=True)])
    assert fid.attribution_agreement == pytest.approx(expected, rel=1e-12)
    frame = fid.to_frame()
    assert frame.shape == (1, 10) and frame["agreement"][0] == fid.agreement
    with pytest.raises(TypeError, match="Fidelity: one comparison has no plot"):
        fid.plot()


def test_ranks_and_rank_correlations_equal_scipy_with_ties():
    rng = np.random.default_rng(3)
    values = rng.integers(0, 4, size=(50, 9)).astype(np.float64)  # many ties
    np.testing.assert_array_equal(average_ranks(values), rankdata(values, axis=1))
    other = rng.integers(0, 3, size=(50, 9)).astype(np.float64)
    other[0] = 1.0  # constant: NaN
    expected = [spearman(p, q) for p, q in zip(values, other, strict=True)]
    np.testing.assert_allclose(rank_correlation(values, other), expected, rtol=1e-12)


def test_regression_models_have_no_agreement_or_accuracy():
    model = gb.build_network(lenet_spec(seed=0, input_hw=16, n_outputs=1))
    X = np.random.default_rng(1).normal(size=(8, 1, 16, 16)).astype(np.float32)
    fid = gb.compress.fidelity(model, gb.compress.quantize(model, bits=4), X, y=np.zeros(8))
    assert fid.task == "regression"
    assert np.isnan(fid.agreement) and np.isnan(fid.accuracy_before)
    assert 0 < fid.output_mse and 0.5 < fid.attribution_agreement < 1


def test_one_sigmoid_output_is_a_binary_classifier():
    spec = gb.NetworkSpec(input_shape=(2,))
    spec.add("dense", "fc", weight=np.array([[1.0, -1.0]]), bias=np.array([0.1]))
    spec.add("sigmoid", "p")
    model = gb.build_network(spec)
    X = np.random.default_rng(0).normal(size=(40, 2))
    flipped = gb.compress.quantize(model, bits=2)
    fid = gb.compress.fidelity(model, flipped, X, y=(X[:, 0] > X[:, 1]).astype(int))
    assert fid.task == "classification"
    p, q = model.predict(X)[:, 0] > 0.5, flipped.predict(X)[:, 0] > 0.5
    assert fid.agreement == np.mean(p == q) and fid.accuracy_before == np.mean(
        p == (X[:, 0] > X[:, 1])
    )


@pytest.mark.parametrize(
    ("y", "match"),
    [
        (np.zeros(59), r"y: expected 60 labels \(one per row of X\), got shape \(59,\)"),
        (np.full(60, 3), "y: expected class indices 0..2"),
        (np.zeros((60, 2)), "y: expected 60 labels"),
    ],
)
def test_bad_labels_are_refused(mlp, y, match):
    model, X, _ = mlp
    with pytest.raises(ValueError, match=match):
        gb.compress.fidelity(model, model, X, y)


def test_models_of_another_interface_are_refused(mlp):
    model, X, _ = mlp
    other = gb.build_network(lenet_spec(seed=0, input_hw=16))
    with pytest.raises(ValueError, match="other: takes"):
        gb.compress.fidelity(model, other, X)
    with pytest.raises(TypeError, match="other: compression needs a network"):
        gb.compress.fidelity(model, lambda X: X, X)


def test_class_indices_stored_as_floats_are_labels():
    """y of 0.0 / 1.0 (a float column of a table) counts as class indices; 0.5 does not."""
    spec = gb.NetworkSpec(input_shape=(2,))
    _ = spec.add("dense", "fc", weight=np.array([[1.0, 0.0], [0.0, 1.0]]), bias=None)
    model = gb.build_network(spec)
    X = np.array([[1.0, 0.0], [0.0, 1.0], [2.0, 1.0]], np.float32)
    floats = gb.compress.fidelity(model, model, X, np.array([0.0, 1.0, 1.0]), attributions=False)
    ints = gb.compress.fidelity(model, model, X, np.array([0, 1, 1]), attributions=False)
    assert floats.accuracy_before == ints.accuracy_before == 2 / 3
    with pytest.raises(ValueError, match="y: expected class indices"):
        gb.compress.fidelity(model, model, X, np.array([0.0, 0.5, 1.0]), attributions=False)
