"""from_keras on text and sequence models: Embedding, Conv1D (causal, dilated, same), the 1-D
poolings, LayerNormalization (centred and RMS) against Keras, and the Keras arguments that have
no native form named."""

from __future__ import annotations

import os

import numpy as np
import pytest

os.environ.setdefault("KERAS_BACKEND", "torch")
keras = pytest.importorskip("keras")

import glassbox as gb  # noqa: E402
from glassbox.errors import UnsupportedLayerError  # noqa: E402

L = keras.layers


def _out(model, X: np.ndarray) -> np.ndarray:
    value = model(X)
    return np.asarray(value.detach() if hasattr(value, "detach") else value)


@pytest.mark.parametrize("pool", ["max", "avg"])
@pytest.mark.parametrize("rms", [False, True])
def test_text_cnn_matches_keras(pool: str, rms: bool) -> None:
    keras.utils.set_random_seed(0)
    inputs = keras.Input((12,), dtype="int32")
    x = L.Embedding(40, 8)(inputs)
    x = L.Conv1D(6, 3, padding="causal", dilation_rate=2, activation="relu")(x)
    x = (L.RMSNormalization() if rms else L.LayerNormalization())(x)
    x = (L.MaxPooling1D if pool == "max" else L.AveragePooling1D)(2, padding="same")(x)
    x = L.Conv1D(4, 3, padding="same")(x)
    x = (L.GlobalMaxPooling1D if pool == "max" else L.GlobalAveragePooling1D)()(x)
    model = keras.Model(inputs, L.Dense(3)(x))
    ids = np.random.default_rng(1).integers(0, 40, size=(5, 12))
    native = gb.from_keras(model)
    np.testing.assert_allclose(native.predict(ids), _out(model, ids), rtol=1e-5, atol=1e-6)
    exp = gb.LayerIntegratedGradients(native, native.layer_names[0], n_steps=16)(ids, target=1)
    assert exp.values.shape == (5, 12, 8)


def test_masking_embeddings_are_named() -> None:
    inputs = keras.Input((6,), dtype="int32")
    x = L.Embedding(10, 4, mask_zero=True, name="emb")(inputs)
    model = keras.Model(inputs, L.GlobalAveragePooling1D()(x))
    with pytest.raises(UnsupportedLayerError, match=r"'emb' \(Embedding\).*mask_zero"):
        gb.from_keras(model)
