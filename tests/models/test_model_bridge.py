"""The core's model-agnostic chunk loop over native networks and Python callables."""

from __future__ import annotations

import threading

import numpy as np
import pytest

import glassbox as gb
from glassbox import _core
from glassbox.models.agnostic import as_model, core_model, evaluate
from glassbox.models.spec import NetworkSpec


def _mlp(seed: int = 0) -> gb.NativeModel:
    rng = np.random.default_rng(seed)
    spec = NetworkSpec(input_shape=(5,))
    spec.add("dense", "fc1", weight=rng.normal(size=(8, 5)), bias=rng.normal(size=8))
    spec.add("relu", "act")
    spec.add("dense", "fc2", weight=rng.normal(size=(3, 8)), bias=rng.normal(size=3))
    return gb.build_network(spec)


X = np.random.default_rng(1).normal(size=(1000, 5)).astype(np.float32)
OPTIONS = _core.RunOptions(1, memory_budget=1 << 20)


@pytest.mark.parametrize("chunk_rows", [1, 7, 256, 0])
@pytest.mark.parametrize("n_threads", [1, 2])
def test_native_network_in_chunks_matches_predict(chunk_rows: int, n_threads: int) -> None:
    model = _mlp()
    out = evaluate(model, X, n_threads=n_threads, chunk_rows=chunk_rows)
    np.testing.assert_allclose(out, model.predict(X), rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("chunk_rows", [1, 300, 0])
def test_callable_gets_whole_chunks_and_matches(chunk_rows: int) -> None:
    calls: list[int] = []
    threads: set[int] = set()

    def fn(batch: np.ndarray) -> np.ndarray:
        calls.append(batch.shape[0])
        threads.add(threading.get_ident())
        assert batch.dtype == np.float32 and batch.flags.c_contiguous
        return np.stack([batch.sum(axis=1), batch[:, 0]], axis=1)

    model = gb.wrap(fn, n_inputs=5, n_outputs=2)
    out = evaluate(model, X, n_threads=2, chunk_rows=chunk_rows)
    np.testing.assert_allclose(out[:, 0], X.sum(axis=1), rtol=1e-5, atol=1e-5)
    np.testing.assert_array_equal(out[:, 1], X[:, 0])
    expected_calls = 1 if chunk_rows == 0 else -(-len(X) // chunk_rows)
    assert len(calls) == expected_calls and sum(calls) == len(X)
    assert threads == {threading.get_ident()}  # never called from a worker thread


def test_callable_may_modify_its_batch_without_touching_ours() -> None:
    def fn(batch: np.ndarray) -> np.ndarray:
        out = batch[:, 0].copy()
        batch[:] = np.nan
        return out

    x = X.copy()
    out = evaluate(gb.wrap(fn, n_inputs=5, n_outputs=1), x, chunk_rows=100)
    np.testing.assert_array_equal(out[:, 0], X[:, 0])
    np.testing.assert_array_equal(x, X)


def test_callable_exception_propagates() -> None:
    def fn(batch: np.ndarray) -> np.ndarray:
        raise KeyError("boom")

    with pytest.raises(KeyError, match="boom"):
        evaluate(gb.wrap(fn, n_inputs=5, n_outputs=1), X)


@pytest.mark.parametrize(
    ("fn", "error", "message"),
    [
        (lambda b: np.zeros((b.shape[0], 3)), ValueError, r"returned shape \(1000, 3\)"),
        (lambda b: np.zeros(b.shape[0] - 1), ValueError, "returned shape"),
        (lambda b: np.full(b.shape[0], np.nan), ValueError, "NaN or infinite"),
        (lambda b: "text", ValueError, "expected an array of numbers"),
    ],
)
def test_callable_bad_output_is_a_clear_error(fn, error, message) -> None:
    with pytest.raises(error, match=message):
        _core.evaluate_model(fn, X=X, n_outputs=1, options=OPTIONS)


def test_network_width_mismatch_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match="the network has 5 inputs and 3 outputs"):
        _core.evaluate_model(_mlp().network, X=X, n_outputs=2, options=OPTIONS)


def test_non_callable_model_is_a_type_error() -> None:
    with pytest.raises(TypeError, match=r"expected a glassbox\._core\.Network or a callable"):
        _core.evaluate_model(42, X=X, n_outputs=1, options=OPTIONS)


class _Estimator:
    n_features_in_ = 5

    def predict(self, X: np.ndarray) -> np.ndarray:
        return X[:, 0] * 2

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        p = 1 / (1 + np.exp(-X[:, 0]))
        return np.stack([1 - p, p], axis=1)


def test_as_model_prefers_predict_proba_and_reads_width() -> None:
    model = as_model(_Estimator())
    assert isinstance(model, gb.CallableModel) and model.n_inputs == 5 and model.n_outputs == 2
    np.testing.assert_allclose(evaluate(model, X).sum(axis=1), 1.0, rtol=1e-6)


def test_as_model_passes_glassbox_models_through() -> None:
    native = _mlp()
    assert as_model(native) is native and core_model(native) is native.network
    wrapped = gb.wrap(np.sum, n_inputs=5)
    assert as_model(wrapped, n_inputs=5) is wrapped


def test_as_model_bad_input() -> None:
    with pytest.raises(TypeError, match="needs n_inputs"):
        as_model(lambda b: b)
    with pytest.raises(TypeError, match="expected a glassbox model"):
        as_model(42)
    with pytest.raises(ValueError, match="fitted on 5 features, the data has 4"):
        as_model(_Estimator(), n_inputs=4)
    with pytest.raises(ValueError, match="takes 5 features, the data has 4"):
        as_model(_mlp(), n_inputs=4)
