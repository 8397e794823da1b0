"""glassbox.dask: explanations of dask arrays and DataFrames, on a LocalCluster of two worker
processes and on dask's synchronous scheduler, against the in-process call."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

dask = pytest.importorskip("dask")
da = pytest.importorskip("dask.array")
dd = pytest.importorskip("dask.dataframe")
distributed = pytest.importorskip("distributed")
pd = pytest.importorskip("pandas")
torch = pytest.importorskip("torch")

import glassbox as gb  # noqa: E402
import glassbox.dask as gbd  # noqa: E402

N, D = 40, 6
#: Row partitionings: one chunk, 3 and 7 even chunks, uneven ones.
CHUNKINGS = [(N,), (14, 13, 13), (6, 6, 6, 6, 6, 6, 4), (5, 17, 1, 9, 8)]
#: Every per-row field of an Explanation (the ones a method does not set are None in both).
FIELDS = ("values", "data", "base_values", "target", "delta", "stderr", "n_samples")


def numpy_model(X: np.ndarray) -> np.ndarray:
    """Two outputs of a NumPy function of each row (module level: it pickles by reference)."""
    return np.stack([np.tanh(X[:, 0] * X[:, 1]) + X[:, 2], np.sin(X).sum(axis=1)], axis=1)


@pytest.fixture(scope="module")
def client():
    with (
        distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0"
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        yield client


@pytest.fixture(scope="module")
def X() -> np.ndarray:
    return np.random.default_rng(0).normal(size=(N, D)).astype(np.float32)


@pytest.fixture(scope="module")
def mlp() -> gb.NativeModel:
    torch.manual_seed(0)
    net = torch.nn.Sequential(
        torch.nn.Linear(D, 16), torch.nn.Tanh(), torch.nn.Linear(16, 3)
    ).eval()
    return gb.from_torch(net)


def assert_same(lazy: gbd.DaskExplanation, expected: gb.Explanation) -> None:
    """The computed dask explanation equals ``expected`` bit for bit, field by field, and its
    lazy fields compute to the same arrays."""
    got = gbd.compute(lazy)
    for name in FIELDS:
        a, b = getattr(got, name), getattr(expected, name)
        assert (a is None) == (b is None), name
        if a is not None:
            np.testing.assert_array_equal(a, b, err_msg=name, strict=True)
            np.testing.assert_array_equal(getattr(lazy, name).compute(), b, err_msg=name)
    assert got.feature_names == expected.feature_names
    assert got.output_names == expected.output_names
    assert got.method == expected.method == lazy.method
    assert repr(got.options) == repr(expected.options)


def in_parts(explainer, X, chunks, **kwargs) -> gb.Explanation:
    """The in-process calls on each partition, stitched: what glassbox.dask must return."""
    parts, start = [], 0
    for m in chunks:
        rows = np.arange(start, start + m)
        part_kwargs = {k: v[rows] if isinstance(v, np.ndarray) else v for k, v in kwargs.items()}
        part = X.iloc[rows] if isinstance(X, pd.DataFrame) else X[rows]
        parts.append((rows, explainer(part, **part_kwargs)))
        start += m
    from glassbox.explanation import stitch_rows

    return stitch_rows(parts, start)


# ---- on the LocalCluster ---------------------------------------------------------------------


@pytest.mark.parametrize("chunks", CHUNKINGS)
def test_kernelshap_numpy_function_equals_in_process(client, X, chunks):
    model = gb.wrap(numpy_model, n_inputs=D)
    explainer = gb.KernelShap(model, background=X[:8], n_samples=64, seed=3)
    lazy = gbd.explain(explainer, da.from_array(X, chunks=(chunks, D)), target=1)
    assert isinstance(lazy.values, da.Array) and lazy.values.chunks[0] == chunks
    assert_same(lazy, explainer(X, target=1))


def test_kernelshap_mlp_equals_each_partition_in_process(client, X, mlp):
    """Each partition is explained exactly as the same in-process call (the explainer shipped by
    its spec); every output at once (target=None: values (n, d, k))."""
    explainer = gb.KernelShap(mlp, background=X[:8], n_samples=64, seed=3)
    for chunks in CHUNKINGS[1:3]:
        lazy = gbd.explain(explainer, da.from_array(X, chunks=(chunks, D)))
        assert lazy.values.shape == (N, D, 3)
        assert_same(lazy, in_parts(explainer, X, chunks))
        np.testing.assert_array_equal(lazy.values.compute(), explainer(X).values)


@pytest.mark.parametrize("method", ["kernelshap", "lime", "ig"])
def test_native_network_equals_the_whole_call(client, X, mlp, method):
    """KernelShap and Lime on a native network: bit for bit whatever the partitioning (a row's
    model calls never hold other rows); IG batches rows' path points: equal to rounding."""
    if method == "kernelshap":
        explainer, kwargs = gb.KernelShap(mlp, background=X[:8], n_samples=64, seed=3), {}
    elif method == "lime":
        explainer, kwargs = gb.Lime(mlp, training_data=X[:20], num_samples=64, seed=4), {}
    else:
        explainer, kwargs = gb.IntegratedGradients(mlp, n_steps=16), {"baselines": 0.0}
    for chunks in CHUNKINGS[1:]:
        lazy = gbd.explain(explainer, da.from_array(X, chunks=(chunks, D)), target=2, **kwargs)
        whole = explainer(X, target=2, **kwargs)
        if method == "ig":
            np.testing.assert_allclose(lazy.values.compute(), whole.values, rtol=1e-6, atol=1e-7)
        else:
            np.testing.assert_array_equal(lazy.values.compute(), whole.values)


def test_integrated_gradients_through_a_dataframe_with_names(client, X, mlp):
    frame = pd.DataFrame(X, columns=[f"f{j}" for j in range(D)])
    data = dd.from_pandas(frame, npartitions=3)
    explainer = gb.IntegratedGradients(mlp, n_steps=16)
    lazy = gbd.explain(explainer, data, baselines=0.0, target=0)
    assert lazy.feature_names == list(frame.columns)
    lengths = [int(m) for m in data.map_partitions(len).compute()]
    assert lazy.values.chunks[0] == tuple(lengths)
    assert_same(lazy, in_parts(explainer, frame, lengths, baselines=0.0, target=0))
    assert gbd.compute(lazy).to_frame().columns.tolist() == list(frame.columns)


def test_target_per_row(client, X):
    model = gb.wrap(numpy_model, n_inputs=D)
    explainer = gb.KernelShap(model, background=X[:8], n_samples=64, seed=5)
    target = np.arange(N) % 2
    expected = explainer(X, target=target)
    data = da.from_array(X, chunks=((9, 20, 11), D))
    assert_same(gbd.explain(explainer, data, target=target), expected)
    per_row = da.from_array(target, chunks=7)  # chunked otherwise than the data
    assert_same(gbd.explain(explainer, data, target=per_row), expected)
    assert_same(gbd.explain(explainer, data, target=target.tolist()), expected)


def test_the_explainer_is_shipped_once(client, X, mlp):
    """Scattered to every worker once (one key each task reads), not once per task."""
    explainer = gb.KernelShap(mlp, background=X[:8], n_samples=32, seed=0, progress=lambda *a: 0)
    lazy = gbd.explain(explainer, da.from_array(X, chunks=10))
    held = client.has_what()
    assert len(held) == 2
    shipped = set()
    for task in lazy.partitions:
        dependencies = dict(task.__dask_graph__())[task.key].dependencies
        shipped |= {key for key in dependencies if all(key in keys for keys in held.values())}
    assert len(shipped) == 1
    assert gbd.compute(lazy).options["progress"] is explainer.progress  # options as in-process


# ---- dask's local schedulers (no Client) -----------------------------------------------------


@pytest.fixture
def synchronous():
    with dask.config.set(scheduler="synchronous"):
        yield


def test_synchronous_scheduler_without_a_client(synchronous, X):
    assert gbd._active_client(dask) is None  # a Client may exist; it is not the scheduler
    model = gb.wrap(numpy_model, n_inputs=D)
    explainer = gb.PermutationShapley(model, background=X[:6], n_samples=64, seed=1)
    lazy = gbd.explain(explainer, da.from_array(X, chunks=((3, 30, 7), D)), target=0)
    assert "DaskExplanation" in repr(lazy) and "npartitions=3" in repr(lazy)
    assert_same(lazy, explainer(X, target=0))
    graph = {}
    for task in lazy.partitions:
        graph.update(task.__dask_graph__())
    assert len([key for key in graph if str(key).startswith("glassbox-explainer-")]) == 1
    with pytest.raises(TypeError, match="lazy"):
        lazy[0]


def test_samples_of_the_model_input_shape(synchronous, X):
    torch.manual_seed(1)
    net = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(6, 2)).eval()
    model = gb.from_torch(net, input_shape=(2, 3))
    images = X.reshape(N, 2, 3)
    explainer = gb.Saliency(model)
    lazy = gbd.explain(explainer, da.from_array(images, chunks=(8, 2, 3)), target=1)
    assert lazy.values.shape == (N, 2, 3)
    assert_same(lazy, in_parts(explainer, images, (8,) * 5, target=1))


def test_a_dataframe_with_an_empty_partition_and_a_target_series(synchronous, X, mlp):
    frame = pd.DataFrame(X, columns=list("abcdef"))
    frame["t"] = np.arange(N) % 3
    data = dd.from_pandas(frame, npartitions=4)
    data = data.map_partitions(lambda p: p[(p.index < 10) | (p.index >= 20)])  # 2nd empty
    explainer = gb.IntegratedGradients(mlp, n_steps=8)
    lazy = gbd.explain(explainer, data[list("abcdef")], target=data["t"])
    assert lazy.values.chunks[0] == (10, 10, 10) and lazy.feature_names == list("abcdef")
    kept = frame[(frame.index < 10) | (frame.index >= 20)]
    target = kept["t"].to_numpy()
    assert_same(lazy, in_parts(explainer, kept[list("abcdef")], (10, 10, 10), target=target))


def test_lime_is_partition_invariant_with_row_offset(synchronous, X):
    model = gb.wrap(numpy_model, n_inputs=D)
    explainer = gb.Lime(model, training_data=X, num_samples=64, seed=2)
    lazy = gbd.explain(explainer, da.from_array(X, chunks=((7, 21, 12), D)), target=1)
    np.testing.assert_array_equal(lazy.values.compute(), explainer(X, target=1).values)


# ---- bad input: clear errors before any work -------------------------------------------------


def never_computed() -> np.ndarray:
    raise AssertionError("data was computed before the arguments were checked")


@pytest.fixture
def untouchable():
    """A dask array (N, D) whose computation fails the test."""
    block = dask.delayed(never_computed)()
    return da.from_delayed(block, shape=(N, D), dtype=np.float32)


def test_bad_input(synchronous, X, untouchable):
    model = gb.wrap(numpy_model, n_inputs=D)
    explainer = gb.KernelShap(model, background=X[:8], n_samples=32)
    with pytest.raises(TypeError, match=r"data: expected a dask array or dask DataFrame, got nd"):
        gbd.explain(explainer, X)
    with pytest.raises(TypeError, match="explainer: expected a glassbox explainer"):
        gbd.explain(model, untouchable)
    with pytest.raises(ValueError, match=r"data: chunked along axis 1 .*rechunk\(\{1: -1\}\)"):
        gbd.explain(explainer, untouchable.rechunk((N, 3)))
    with pytest.raises(ValueError, match=r"data: expected a dask array of rows"):
        gbd.explain(explainer, untouchable[:, 0])
    with pytest.raises(ValueError, match=r"target: .* needs 40 values; got 39"):
        gbd.explain(explainer, untouchable, target=np.zeros(39, int))
    with pytest.raises(ValueError, match=r"target: a dask array .* needs 40 rows"):
        gbd.explain(explainer, untouchable, target=da.zeros(41, chunks=5, dtype=int))
    frame = pd.DataFrame({"a": np.arange(4.0), "s": list("abcd"), "b": np.ones(4)})
    with pytest.raises(TypeError, match=r"data: columns \['s'\] are not numeric"):
        gbd.explain(explainer, dd.from_pandas(frame, npartitions=2))
    with pytest.raises(TypeError, match="dask Series"):
        gbd.explain(explainer, dd.from_pandas(frame, npartitions=2)["a"])


def test_the_explainers_own_checks_run_before_the_job(synchronous, X):
    model = gb.wrap(numpy_model, n_inputs=D)
    explainer = gb.KernelShap(model, background=X[:8], n_samples=32)
    with pytest.raises(ValueError, match="target"):
        gbd.explain(explainer, da.from_array(X, chunks=10), target=7)


def test_without_dask_a_clear_import_error(monkeypatch, X):
    monkeypatch.setitem(sys.modules, "dask", None)
    explainer = gb.KernelShap(gb.wrap(numpy_model, n_inputs=D), background=X[:8])
    with pytest.raises(ImportError, match=r'pip install "glassbox\[dask\]"'):
        gbd.explain(explainer, X)


def test_the_readme_example_runs(tmp_path):
    """The README's "At scale" Dask example, run as the script it is (a LocalCluster of two
    worker processes)."""
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
    start = readme.index("\n## At scale\n")
    section = readme[start : readme.index("\n## ", start + 1)]
    [block] = re.findall(r"```python\n(.*?)```", section, flags=re.S)
    script = tmp_path / "example.py"
    check = "    assert values.shape == full.values.shape == (2_000, 8)\n"
    script.write_text(block + check + "    print('ok')\n", encoding="utf-8")
    source = str(Path(gb.__file__).resolve().parents[1])
    env = {**os.environ, "PYTHONPATH": source}
    done = subprocess.run(
        [sys.executable, str(script)], capture_output=True, text=True, env=env, timeout=300
    )
    assert done.returncode == 0 and done.stdout.strip() == "ok", done.stderr[-2000:]
