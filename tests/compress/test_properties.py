"""Properties of the probes on random layers (hypothesis): pruning and quantisation equal the
NumPy references for any shape, amount and width; the achieved sparsity is torch's count; the
results do not depend on the thread count."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

import glassbox as gb
from reference.compression import (
    fake_quantize,
    l1_unstructured_mask,
    ln_structured_mask,
    symmetric_scales,
)


def dense_model(seed: int, rows: int, columns: int) -> tuple[gb.NativeModel, np.ndarray]:
    weight = np.random.default_rng(seed).normal(size=(rows, columns)).astype(np.float32)
    spec = gb.NetworkSpec(input_shape=(columns,))
    spec.add("dense", "fc", weight=weight, bias=np.zeros(rows))
    return gb.build_network(spec), weight


@settings(max_examples=40, deadline=None)
@given(
    seed=st.integers(0, 2**16),
    rows=st.integers(1, 9),
    columns=st.integers(1, 9),
    amount=st.floats(0.0, 0.999),
)
def test_pruning_equals_the_references_and_removes_torchs_count(seed, rows, columns, amount):
    model, weight = dense_model(seed, rows, columns)
    pruned = gb.compress.prune(model, amount)
    np.testing.assert_array_equal(
        pruned.spec.layers[0].weights["weight"], weight * l1_unstructured_mask(weight, amount)
    )
    assert pruned.sparsity["fc"] == round(amount * weight.size) / weight.size
    units = gb.compress.prune(model, amount, structured=True, n=2)
    np.testing.assert_array_equal(
        units.spec.layers[0].weights["weight"], weight * ln_structured_mask(weight, amount, 2)
    )
    assert len(units.compression.removed_units["fc"]) == round(amount * rows)


@settings(max_examples=40, deadline=None)
@given(
    seed=st.integers(0, 2**16),
    rows=st.integers(1, 6),
    columns=st.integers(1, 6),
    bits=st.integers(2, 16),
    per_channel=st.booleans(),
)
def test_quantisation_equals_the_reference(seed, rows, columns, bits, per_channel):
    model, weight = dense_model(seed, rows, columns)
    quantized = gb.compress.quantize(model, bits=bits, per_channel=per_channel)
    scales = symmetric_scales(weight, bits, per_channel)
    np.testing.assert_array_equal(
        quantized.spec.layers[0].weights["weight"], fake_quantize(weight, scales, bits)
    )
    assert np.abs(quantized.spec.layers[0].weights["weight"] - weight).max() <= scales.max()


def test_fidelity_and_relevance_do_not_depend_on_the_thread_count(monkeypatch):
    rng = np.random.default_rng(0)
    spec = gb.NetworkSpec(input_shape=(5,))
    spec.add("dense", "fc1", weight=rng.normal(size=(16, 5)), bias=rng.normal(size=16))
    spec.add("relu", "act")
    spec.add("dense", "fc2", weight=rng.normal(size=(3, 16)), bias=None)
    model = gb.build_network(spec)
    X = rng.normal(size=(300, 5))
    pruned = gb.compress.prune(model, 0.5)
    one = gb.compress.fidelity(model, pruned, X, n_threads=1)
    two = gb.compress.fidelity(model, pruned, X, n_threads=2)
    np.testing.assert_array_equal(one.to_frame().to_numpy(), two.to_frame().to_numpy())
    runs = []
    for threads in ("1", "2"):
        monkeypatch.setenv("GLASSBOX_NUM_THREADS", threads)
        runs.append(gb.compress.prune(model, 0.3, method="relevance", data=X).compression)
    np.testing.assert_array_equal(runs[0].relevance["fc1"], runs[1].relevance["fc1"])
