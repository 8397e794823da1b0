"""compress.sweep: one row per (method, amount), each equal to the probe run alone and measured
by fidelity; bad input refused."""

from __future__ import annotations

import numpy as np
import pytest

import glassbox as gb
from compress.conftest import torch_mlp


@pytest.fixture
def mlp() -> tuple[gb.NativeModel, np.ndarray, np.ndarray]:
    X = np.random.default_rng(0).normal(size=(80, 6)).astype(np.float32)
    model = gb.from_torch(torch_mlp(seed=1))
    return model, X, model.predict(X).argmax(axis=1)


def test_each_row_is_the_probe_run_alone(mlp):
    model, X, y = mlp
    methods = ("magnitude", "global", "structured", "relevance", "quantize")
    result = gb.compress.sweep(model, X, y, amounts=(0.2, 0.8), methods=methods)
    frame = result.to_frame()
    assert list(frame.columns) == [
        "method",
        "amount",
        "bits",
        "agreement",
        "accuracy",
        "output_mse",
        "sparsity",
        "params",
        "bytes",
    ]
    assert frame["method"].tolist() == [m for m in methods for _ in range(2)]
    np.testing.assert_array_equal(frame["amount"], [0.2, 0.8] * 5)
    assert frame["bits"].tolist() == [32] * 8 + [
        16,
        6,
    ]  # round(32 * 0.8) = 26: 16 at most; 6.4 -> 6
    probes = [
        gb.compress.prune(model, 0.2),
        gb.compress.prune(model, 0.8),
        gb.compress.prune(model, 0.2, scope="global"),
        gb.compress.prune(model, 0.8, scope="global"),
        gb.compress.prune(model, 0.2, structured=True),
        gb.compress.prune(model, 0.8, structured=True),
        gb.compress.prune(model, 0.2, method="relevance", data=X),
        gb.compress.prune(model, 0.8, method="relevance", data=X),
        gb.compress.quantize(model, 16),
        gb.compress.quantize(model, 6),
    ]
    for row, probe in zip(frame.itertuples(), probes, strict=True):
        fid = gb.compress.fidelity(model, probe, X, y, attributions=False)
        assert row.agreement == fid.agreement and row.accuracy == fid.accuracy_after
        assert row.output_mse == fid.output_mse
        assert (row.params, row.bytes) == (fid.params_after, fid.bytes_after)
        assert row.sparsity == probe.compression.total_sparsity
    assert result.baseline_accuracy == 1.0
    assert result.baseline_bytes == 4 * result.baseline_params
    assert (frame["agreement"][frame["method"] == "magnitude"].diff().dropna() <= 0).all()


def test_regression_sweeps_have_output_errors_only():
    spec = gb.NetworkSpec(input_shape=(3,))
    spec.add("dense", "fc", weight=np.array([[1.0, 0.5, -2.0]]), bias=None)
    X = np.random.default_rng(0).normal(size=(30, 3))
    result = gb.compress.sweep(gb.build_network(spec), X, amounts=(0.3, 0.6))
    assert result.task == "regression" and np.isnan(result.agreement).all()
    # one weight of 0.5 goes at 0.3 (round(0.9) = 1), two at 0.6: the output loses 0.5 x1, ...
    expected = [np.mean((0.5 * X[:, 1]) ** 2), np.mean((0.5 * X[:, 1] + X[:, 0]) ** 2)]
    np.testing.assert_allclose(result.output_mse[:2], expected, rtol=1e-5)


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"methods": ("magnitude", "random")}, ValueError, "methods: expected one of"),
        ({"methods": "magnitude"}, ValueError, "methods: expected a non-empty list"),
        ({"amounts": (0.5, 1.0)}, ValueError, r"amounts: expected a fraction in \[0, 1\)"),
        ({"amounts": (-0.1,)}, ValueError, "amounts"),
        ({"amounts": ()}, ValueError, "amounts: expected at least one"),
        ({"amounts": 0.5}, TypeError, "amounts: expected a sequence"),
        ({"y": np.zeros(3)}, ValueError, "y: expected 80 labels"),
    ],
)
def test_bad_input_is_refused(mlp, kwargs, error, match):
    model, X, y = mlp
    arguments = {"y": y, **kwargs}
    with pytest.raises(error, match=match):
        gb.compress.sweep(model, X, **arguments)
