"""Limits of the model-agnostic core: counts beyond the ceiling, memory-bounded Lime chunking,
and no silent NaN from Lime's kernel."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import numpy as np
import pytest

import glassbox as gb
from conftest import make_data, make_net, not_under_asan
from glassbox import _core


def _elementwise(A: np.ndarray) -> np.ndarray:
    # row by row the same bits whatever the batch size (no BLAS reduction over rows)
    return np.stack([np.tanh(A[:, 0]) + A[:, 1] * A[:, 2], np.sin(A).sum(1)], axis=1)


def test_lime_chunks_within_a_row_give_the_same_bits() -> None:
    X = make_data(4, n_rows=80, seed=1)
    rows = X[:2]
    model = gb.wrap(_elementwise, n_inputs=4, n_outputs=2)
    whole = gb.Lime(model, X, num_samples=20_000, seed=5)(rows, target=1)
    # 1 MiB: each neighbourhood in several pieces
    pieces = gb.Lime(model, X, num_samples=20_000, seed=5, memory_budget=1 << 20)(rows, target=1)
    for field in ("values", "base_values", "score", "local_prediction"):
        np.testing.assert_array_equal(getattr(whole, field), getattr(pieces, field))
    assert np.all(np.isfinite(whole.values)) and np.any(whole.values != 0)


@pytest.mark.parametrize("budget", [None, 1 << 20])
def test_lime_native_same_bits_for_any_thread_count(budget: int | None) -> None:
    net = make_net("tanh")
    X = make_data(5, n_rows=60, seed=2)
    kwargs = {} if budget is None else {"memory_budget": budget}
    one = gb.Lime(net.model, X, num_samples=30_000, seed=3, n_threads=1, **kwargs)(X[:3], target=1)
    two = gb.Lime(net.model, X, num_samples=30_000, seed=3, n_threads=2, **kwargs)(X[:3], target=1)
    for field in ("values", "base_values", "score", "local_prediction"):
        np.testing.assert_array_equal(getattr(one, field), getattr(two, field))


def test_lime_pieces_progress_and_result() -> None:
    X = make_data(3, n_rows=50, seed=3)
    seen: list[tuple[int, int]] = []
    exp = gb.Lime(
        lambda A: A @ np.array([1.0, -2.0, 0.5]),
        X,
        num_samples=5000,
        discretizer=None,
        seed=1,
        memory_budget=1,
        progress=lambda done, total: seen.append((done, total)),
    )(X[:1])
    assert seen and seen[-1] == (1, 1)
    # a linear model: the local (ridge) fit explains it all but the ridge's shrinkage
    assert 0.999 < exp.score[0] <= 1.0


@pytest.mark.parametrize("num_samples", [2**62, 10**12, 10**9 + 1])
def test_lime_num_samples_ceiling(num_samples: int) -> None:
    X = make_data(4, n_rows=30, seed=0)
    with pytest.raises(ValueError, match="num_samples"):
        gb.Lime(lambda A: A.sum(1), X, num_samples=num_samples)(X[:2])


@pytest.mark.parametrize("width", [1e-200, 5e-324, 1e-30])
def test_lime_tiny_kernel_width_is_an_error_not_nan(width: float) -> None:
    X = make_data(4, n_rows=40, seed=0)
    with pytest.raises(ValueError, match="kernel_width"):
        gb.Lime(lambda A: A.sum(1), X, num_samples=200, kernel_width=width, seed=0)(X[:2])


def test_lime_small_kernel_width_stays_finite() -> None:
    X = make_data(4, n_rows=40, seed=0)
    # most perturbed samples underflow, a few near ones keep a weight
    exp = gb.Lime(lambda A: A.sum(1), X, num_samples=2000, kernel_width=0.05, seed=0)(X[:3])
    assert np.all(np.isfinite(exp.values)) and np.all(np.isfinite(exp.score))


def test_lime_one_huge_neighbourhood_stops_on_interrupt() -> None:
    """One row of 10^9 samples (pieces within the row): the interrupt flag stops it between
    pieces, and progress moves inside the row."""
    net = make_net("tanh")
    X = make_data(5, n_rows=60, seed=2)
    stats = _core.LimeStats(X, categorical=[False] * 5, discretizer=4)
    control = _core.JobControl()
    options = _core.RunOptions()
    options.control = control
    outcome: dict[str, str] = {}

    def run() -> None:
        try:
            _core.lime_tabular(
                net.model.network,
                X=X[:1],
                stats=stats,
                targets=np.zeros(1, np.int64),
                n_outputs=net.model.network.n_outputs,
                num_samples=10**9,
                num_features=3,
                feature_selection="auto",
                kernel_width=0.0,
                seed=0,
                options=options,
            )
            outcome["end"] = "finished"
        except KeyboardInterrupt:
            outcome["end"] = "interrupted"

    thread = threading.Thread(target=run)
    thread.start()
    while control.done == 0 and thread.is_alive():
        time.sleep(0.01)
    assert control.total == 10**9 and 0 < control.done < control.total
    control.interrupt()
    thread.join(120)
    assert outcome.get("end") == "interrupted"


@pytest.mark.parametrize(("d", "n_samples"), [(3, 400), (70, 600)])
@pytest.mark.parametrize("explainer", ["PermutationShapley", "KernelShap"])
def test_coalition_index_dedups_correctly(d: int, n_samples: int, explainer: str) -> None:
    """Repeated coalitions (d = 3: far more draws than the 8 coalitions) and two-word coalitions
    (d = 70) go through the open-addressing index while it grows: an additive model's values
    are recovered exactly, so every lookup found its own coalition."""
    rng = np.random.default_rng(d)
    w = rng.normal(size=d)
    background = rng.normal(size=(4, d)).astype(np.float32)
    X = rng.normal(size=(2, d)).astype(np.float32)
    model = gb.wrap(lambda A: A.astype(np.float64) @ w, n_inputs=d)
    exp = getattr(gb, explainer)(model, background=background, n_samples=n_samples, seed=0)(X)
    want = w * (X.astype(np.float64) - background.astype(np.float64).mean(0))
    np.testing.assert_allclose(np.asarray(exp.values).reshape(want.shape), want, atol=1e-4)


@not_under_asan
def test_bad_alloc_in_a_parallel_chunk_is_a_memory_error() -> None:
    """A budget far beyond the address space: a worker's chunk allocation fails inside the OpenMP
    region; the error is carried out and raised as MemoryError (the interpreter survives)."""
    code = textwrap.dedent(
        """
        import resource, sys
        import numpy as np, glassbox as gb
        sys.path.insert(0, "tests")
        from conftest import make_data, make_net, not_under_asan
        resource.setrlimit(resource.RLIMIT_AS, (3 << 30, 3 << 30))
        net = make_net("tanh")
        X = make_data(5, n_rows=60, seed=2)
        try:
            gb.Lime(net.model, X, num_samples=10**8, memory_budget=2**40, n_threads=2)(
                X[:16], target=0)
        except MemoryError:
            print("MemoryError")
        """
    )
    # cwd: the repository (tests.* importable); glassbox: the one under test (installed or not)
    root = Path(__file__).resolve().parents[2]
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(Path(gb.__file__).resolve().parents[1]), *sys.path]),
    }
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=root, env=env, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == "MemoryError"


def test_feature_ablation_core_rejects_more_groups_than_features() -> None:
    X = make_data(4, n_rows=3, seed=0)
    with pytest.raises(ValueError, match="feature_mask"):
        _core.feature_ablation(
            lambda A: A.sum(1),
            X=X,
            baselines=np.zeros_like(X),
            group_of=np.arange(4, dtype=np.int64),
            n_groups=10**12,
            targets=np.zeros(3, np.int64),
            n_outputs=1,
        )
