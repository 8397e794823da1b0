"""from_keras for LSTM, GRU and Bidirectional (issue 17): the native network computes what the
Keras 3 model computes (torch backend), and its input gradient equals the NumPy reference of
the translated spec (which tests/network/test_recurrent.py checks against torch autograd)."""

from __future__ import annotations

import os
from typing import Any

import numpy as np
import pytest

os.environ.setdefault("KERAS_BACKEND", "torch")
keras = pytest.importorskip("keras")
L = keras.layers

import glassbox as gb  # noqa: E402
from glassbox.errors import UnsupportedLayerError  # noqa: E402
from reference.network import gradient  # noqa: E402

STEPS, FEATURES = 6, 3


def _model(*layers: Any, seed: int = 0) -> Any:
    keras.utils.set_random_seed(seed)
    model = keras.Sequential([keras.Input((STEPS, FEATURES)), *layers, L.Dense(3)])
    for weight in model.weights:  # nonzero biases too (Keras initialises them to 0)
        weight.assign(np.random.default_rng(seed).uniform(-0.7, 0.7, weight.shape))
    return model


CASES = {
    "lstm_sequences": lambda: [L.LSTM(4, return_sequences=True), L.Flatten()],
    "lstm_last": lambda: [L.LSTM(5)],
    "lstm_no_bias": lambda: [L.LSTM(4, use_bias=False)],
    "gru_sequences": lambda: [L.GRU(4, return_sequences=True), L.Flatten()],
    "gru_last": lambda: [L.GRU(5)],
    "stacked": lambda: [L.GRU(4, return_sequences=True), L.LSTM(3)],
    "bilstm_sequences": lambda: [L.Bidirectional(L.LSTM(4, return_sequences=True)), L.Flatten()],
    "bigru_last": lambda: [L.Bidirectional(L.GRU(4))],
    "bilstm_stacked": lambda: [
        L.Bidirectional(L.LSTM(3, return_sequences=True)),
        L.Bidirectional(L.LSTM(2)),
    ],
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_recurrent_layers_match_keras(case: str) -> None:
    model = _model(*CASES[case]())
    X = np.random.default_rng(1).normal(size=(7, STEPS, FEATURES)).astype(np.float32)
    native = gb.from_keras(model)
    expected = model(X, training=False).detach().cpu().numpy()  # np.array(tensor) warns
    np.testing.assert_allclose(native.predict(X), expected, rtol=2e-5, atol=2e-5)
    targets = np.arange(len(X)) % 3
    grad = gb.Saliency(native, abs=False)(X, target=targets).values
    ref = gradient(native.spec, X, targets)
    np.testing.assert_allclose(grad, ref, rtol=2e-4, atol=2e-5 * max(1.0, np.abs(ref).max()))
    assert any(layer.kind in ("lstm", "gru") for layer in native.spec.layers)


@pytest.mark.parametrize(
    ("layer", "match"),
    [
        (L.GRU(4, reset_after=False), r"reset_after=False"),
        (L.LSTM(4, activation="relu"), r"activation='tanh'"),
        (L.LSTM(4, go_backwards=True), r"go_backwards=True"),
        (L.Bidirectional(L.LSTM(4), merge_mode="sum"), r"merge_mode='sum'"),
    ],
)
def test_unsupported_keras_recurrent_layers(layer: Any, match: str) -> None:
    with pytest.raises(UnsupportedLayerError, match=match):
        gb.from_keras(_model(layer))
