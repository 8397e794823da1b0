"""from_keras on keras.layers.MultiHeadAttention (self- and cross-attention, masks passed as
call arguments, the layer's options) and on a small transformer-block classifier of two inputs
(token ids and a padding mask), against Keras' forward pass and torch autograd."""

from __future__ import annotations

import os
from typing import Any

import numpy as np
import pytest

os.environ.setdefault("KERAS_BACKEND", "torch")
keras = pytest.importorskip("keras")

import glassbox as gb  # noqa: E402
from conftest import native_gradient  # noqa: E402
from glassbox.errors import UnsupportedLayerError  # noqa: E402

L = keras.layers
ops = keras.ops
T, S, D = 5, 4, 8


def _numpy(value: Any) -> np.ndarray:
    return np.asarray(value.detach() if hasattr(value, "detach") else value, np.float64)


def _check(model: Any, inputs: list[np.ndarray]) -> Any:
    """The native model's forward equals Keras' (float32 precision); returns it."""
    native = gb.from_keras(model)
    expected = _numpy(model(inputs if len(inputs) > 1 else inputs[0]))
    got = native.predict(tuple(inputs) if len(inputs) > 1 else inputs[0])
    n = len(inputs[0])
    np.testing.assert_allclose(got.reshape(n, -1), expected.reshape(n, -1), rtol=1e-5, atol=1e-5)
    return native


def _floats(*shape: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).normal(size=shape).astype(np.float32)


def _padding(n: int, steps: int) -> np.ndarray:
    """Rows with no padding, trailing padding, holes and every step padded."""
    keep = np.ones((n, steps), np.int32)
    keep[1, steps - 2 :] = 0
    keep[2, 1] = keep[2, 3] = 0
    keep[3] = 0
    return keep


def test_self_attention_two_heads_is_named() -> None:
    keras.utils.set_random_seed(0)
    x = keras.Input((T, D))
    model = keras.Model(x, L.MultiHeadAttention(2, 4, name="mha")(x, x))
    native = _check(model, [_floats(6, T, D)])
    assert {"mha", "mha/weights", "mha/q", "mha/context"} <= set(native.layer_names)
    assert native.layer_names[-1] == "mha"


@pytest.mark.parametrize(
    "options",
    [
        {"num_heads": 3, "key_dim": 4},
        {"num_heads": 2, "key_dim": 4, "use_bias": False},
        {"num_heads": 2, "key_dim": 3, "value_dim": 5},
        {"num_heads": 2, "key_dim": 4, "output_shape": 6},
        {"num_heads": 2, "key_dim": 4, "value_dim": 2, "output_shape": (3, 2)},
        {"num_heads": 2, "key_dim": 4, "dropout": 0.3},
    ],
    ids=["3-heads", "no-bias", "value-dim", "output-shape", "output-shape-2d", "dropout"],
)
def test_cross_attention_with_a_separate_key(options: dict[str, Any]) -> None:
    keras.utils.set_random_seed(1)
    query, value, key = keras.Input((T, D)), keras.Input((S, 6)), keras.Input((S, 7))
    out = L.MultiHeadAttention(**options, name="cross")(query, value, key=key)
    model = keras.Model([query, value, key], out)
    _check(model, [_floats(5, T, D, seed=1), _floats(5, S, 6, seed=2), _floats(5, S, 7, seed=3)])


@pytest.mark.parametrize("kind", ["padding", "full", "bool", "causal", "causal+padding", "window"])
def test_attention_masks(kind: str) -> None:
    """Keras' masks (nonzero = attend); a row with every key masked averages the values."""
    keras.utils.set_random_seed(2)
    x = keras.Input((T, D))
    window = {"sliding_window": 2} if kind == "window" else {}
    mha = L.MultiHeadAttention(2, 4, name="mha", **window)
    n, inputs = 4, [_floats(4, T, D, seed=4)]
    if kind == "causal":
        model = keras.Model(x, mha(x, x, use_causal_mask=True))
        _check(model, inputs)
        return
    if kind in ("padding", "causal+padding", "window"):
        keep = keras.Input((T,), dtype="int32")
        mask = ops.expand_dims(keep, 1)  # (B, 1, S): every query sees the same keys
        data = _padding(n, T)
    else:
        keep = keras.Input((T, T), dtype="bool" if kind == "bool" else "int32")
        mask = keep
        data = np.random.default_rng(5).integers(0, 2, size=(n, T, T)).astype(np.int32)
        data[0, 2] = 0  # a query that attends to nothing
        data = data.astype(bool) if kind == "bool" else data
    out = mha(x, x, attention_mask=mask, use_causal_mask=kind == "causal+padding")
    _check(keras.Model([x, keep], out), [*inputs, data])


def test_return_attention_scores() -> None:
    keras.utils.set_random_seed(3)
    x, keep = keras.Input((T, D)), keras.Input((T,), dtype="int32")
    _, scores = L.MultiHeadAttention(2, 4, name="mha")(
        x, x, attention_mask=ops.expand_dims(keep, 1), return_attention_scores=True
    )
    model = keras.Model([x, keep], scores)  # (B, heads, T, S): the softmax
    native = _check(model, [_floats(4, T, D, seed=6), _padding(4, T)])
    assert "mha/weights" in native.layer_names


def _classifier(mask: bool, pool: str, vocab: int = 30, dim: int = 16) -> Any:
    """Embedding + a constant-position embedding, one post-norm transformer block, a head."""
    ids = keras.Input((T,), dtype="int32", name="input_ids")
    keep = keras.Input((T,), dtype="int32", name="attention_mask")
    x = L.Embedding(vocab, dim, name="tokens")(ids)
    positions = L.Embedding(T, dim, name="positions")(ops.arange(T))  # a constant (T, dim)
    if pool == "mean":  # an Add layer (same ranks) or keras.ops.add
        x = L.Add(name="embed")([x, ops.expand_dims(positions, 0)])
    else:
        x = x + positions
    attention = L.MultiHeadAttention(4, dim // 4, dropout=0.1, name="attention")
    a = attention(x, x, attention_mask=ops.expand_dims(keep, 1) if mask else None)
    x = L.LayerNormalization(epsilon=1e-6, name="norm1")(x + L.Dropout(0.1)(a))
    h = L.Dense(32, activation="relu", name="ffn1")(x)
    x = L.LayerNormalization(epsilon=1e-6, name="norm2")(L.Add()([x, L.Dense(dim)(h)]))
    x = L.GlobalAveragePooling1D()(x) if pool == "mean" else x[:, 0]
    out = L.Dense(3, name="head")(L.Dropout(0.1)(x))
    return keras.Model([ids, keep] if mask else ids, out)


@pytest.mark.parametrize("pool", ["mean", "first"])
@pytest.mark.parametrize("mask", [True, False], ids=["mask", "no-mask"])
def test_transformer_classifier(mask: bool, pool: str) -> None:
    keras.utils.set_random_seed(4)
    model = _classifier(mask, pool)
    ids = np.random.default_rng(7).integers(0, 30, size=(6, T))
    native = _check(model, [ids, _padding(6, T)] if mask else [ids])
    assert {"attention", "attention/weights", "norm1", "head"} <= set(native.layer_names)
    if mask:
        assert [i.name for i in native.inputs] == ["input_ids", "attention_mask"]


def test_mask_computed_from_the_ids() -> None:
    """``keras.ops.not_equal(ids, 0)`` and a cast inside the model: one input."""
    keras.utils.set_random_seed(6)
    ids = keras.Input((T,), dtype="int32")
    keep = ops.cast(ops.not_equal(ids, 0), "int32")
    x = L.Embedding(10, D)(ids)
    x = L.MultiHeadAttention(2, 4)(x, x, attention_mask=ops.expand_dims(keep, 1))
    model = keras.Model(ids, L.Dense(2)(L.GlobalAveragePooling1D()(x)))
    data = np.random.default_rng(10).integers(0, 10, size=(5, T))
    data[1, 3:] = 0
    data[2] = 0
    _check(model, [data])


def test_input_gradients_equal_torch_autograd() -> None:
    import torch

    keras.utils.set_random_seed(5)
    query, value, keep = keras.Input((T, D)), keras.Input((S, 6)), keras.Input((S,), dtype="int32")
    a = L.MultiHeadAttention(2, 3, value_dim=4, name="mha")(
        query, value, attention_mask=ops.expand_dims(keep, 1)
    )
    out = L.Dense(3)(L.Flatten()(L.LayerNormalization()(a)))
    model = keras.Model([query, value, keep], out)
    q, v, k = _floats(4, T, D, seed=8), _floats(4, S, 6, seed=9), _padding(4, S)
    # a query with every key masked: its output is constant, but torch's fused attention adds
    # -0.7 * float32 max and autograd differentiates the rounded scores (JAX and TensorFlow
    # replace them, as glassbox: gradient 0), so each row keeps one key here
    k[3, 2] = 1
    native = gb.from_keras(model)
    flat = np.hstack([q.reshape(4, -1), v.reshape(4, -1), k.astype(np.float32)])
    for target in (0, 2):
        tq, tv = (torch.tensor(a, requires_grad=True) for a in (q, v))
        model([tq, tv, torch.tensor(k)])[:, target].sum().backward()
        expected = np.hstack([tq.grad.numpy().reshape(4, -1), tv.grad.numpy().reshape(4, -1)])
        got = native_gradient(native, flat, target)[:, : expected.shape[1]]
        np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-5)


def _refused(name: str, **options: Any) -> Any:
    x = keras.Input((3, T, D))
    return keras.Model(x, L.MultiHeadAttention(2, 4, name=name, **options)(x, x))


def test_unsupported_options_are_named() -> None:
    with pytest.raises(UnsupportedLayerError, match=r"'axes' \(MultiHeadAttention\).*(T, D)"):
        gb.from_keras(_refused("axes", attention_axes=(1, 2)))
    x = keras.Input((T, D))
    gated = L.MultiHeadAttention(2, 4, name="gated", use_gate=True)
    with pytest.raises(UnsupportedLayerError, match=r"'gated' \(MultiHeadAttention\).*use_gate"):
        gb.from_keras(keras.Model(x, gated(x, x)))
    keep = keras.Input((T,), dtype="int32")
    flat = L.MultiHeadAttention(2, 4, name="flat")(x, x, attention_mask=keep)
    with pytest.raises(UnsupportedLayerError, match=r"'flat' \(MultiHeadAttention\).*(T, S)"):
        gb.from_keras(keras.Model([x, keep], flat))
