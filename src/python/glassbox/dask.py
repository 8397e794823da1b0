"""Explanations of dask collections: every partition explained where it lives, by the native core.

``glassbox.dask.explain(explainer, data, **call_kwargs)`` explains a ``dask.array`` or a
``dask.dataframe`` partition by partition and returns a lazy ``DaskExplanation``: its per-row
fields (``values``, ``base_values``, ``delta``, ``stderr``, ``data``, ``target``, ...) are dask
arrays chunked as the data's rows; ``glassbox.dask.compute(exp)`` (or ``exp.compute()``) gives the
in-memory ``Explanation``, the same as one call of the explainer on all the rows.

How it runs:

- The explainer (its model included) is shipped to the workers once: scattered to every worker
  (``Client.scatter(..., broadcast=True)``) when a ``dask.distributed`` Client is the active
  scheduler, else one object embedded once in the graph (local schedulers). Native models pickle
  by their spec; a progress callable is not shipped (partitions run with ``progress=False``).
- Each partition is one explainer call on the worker (one core call under OpenMP), inside
  ``glassbox.row_offset(partition_start)``, so methods seeded per row (Lime, SmoothGrad,
  GradientShap) seed each row by its index in the whole job, and on a native network the
  Shapley explainers and Lime give each row the bits of one call over every row
  (docs/methods.md). In a
  ``dask.distributed`` worker, an explainer with ``n_threads=None`` runs one thread per task
  (dask's own rule: a worker's threads are its parallelism); ``GLASSBOX_NUM_THREADS`` or an
  explicit ``n_threads`` win.
- Before any work, the arguments are checked here (``data`` a dask collection chunked along rows
  only, numeric columns, per-row keywords of the right length) and the explainer is called once
  in-process on the first row (its own checks of the width, the target, ...; the shapes and names
  of the result). A dask DataFrame's partition lengths are computed first (one pass over its
  rows, as ``to_dask_array(lengths=True)`` does), so that every partition knows its first row.

Keywords of the call: a dask array or dask Series is per row (aligned with ``data``'s rows, cut
as its partitions); ``target=`` as a 1-D array or list (of length the number of rows) is per row
too; anything else (an int target, baselines shared by every row) goes whole to every partition,
shipped once with the explainer.

Bit-identical to one in-process call: each partition is explained exactly as the same call in
process would explain those rows. Whether that equals the call on all the rows depends on the
method and model giving each row a result independent of the other rows of the call: a Python
model evaluated row by row does (KernelShap, PermutationShapley); a native network's batched
products currently round a row differently with its position in the batch (last-bit
differences), see ``docs/architecture.md``.

Examples
--------
>>> import numpy as np, dask, dask.array as da, glassbox as gb, glassbox.dask
>>> model = gb.wrap(lambda X: X @ np.array([1.0, -2.0, 0.5]), n_inputs=3)
>>> X = np.random.default_rng(0).normal(size=(10, 3))
>>> explainer = gb.KernelShap(model, background=X[:4], seed=0)
>>> with dask.config.set(scheduler="synchronous"):
...     exp = glassbox.dask.explain(explainer, da.from_array(X, chunks=4))
...     exp.values.chunks[0], bool(np.array_equal(exp.compute().values, explainer(X).values))
((4, 4, 2), True)
"""

from __future__ import annotations

import copy
import itertools
import os
import uuid
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

import glassbox
from glassbox.explainers.base import Explainer
from glassbox.explanation import Explanation, stitch_rows

__all__ = ["DaskExplanation", "compute", "explain"]

_INSTALL = 'glassbox.dask needs dask: pip install "glassbox[dask]"'


def _dask() -> tuple[Any, Any, Any]:
    """``dask``, ``dask.array`` and ``dask.dataframe``, or an ImportError saying what to install."""
    try:
        import dask
        import dask.array as da
    except ImportError as error:
        raise ImportError(f"{_INSTALL} ({error})") from error
    try:
        import dask.dataframe as dd
    except ImportError:  # dask[array] alone: dask DataFrames cannot be passed anyway
        dd = None
    return dask, da, dd


@dataclass(frozen=True)
class DaskExplanation(Explanation):
    """An ``Explanation`` whose per-row fields are dask arrays (rows chunked as the data's
    partitions), returned by ``glassbox.dask.explain``; nothing has run yet.

    ``exp.values.compute()`` (or ``dask.compute(exp.values, exp.delta)``) computes fields;
    ``exp.compute()`` (``glassbox.dask.compute(exp)``) gives the in-memory ``Explanation`` of
    every field, with the per-call options (``n_evaluated``, ...) of the whole job; ``to_frame``,
    ``to_shap``, ``save`` and ``plot`` compute it first. ``options`` here is the explainer's
    configuration; ``feature_names``, ``output_names`` and ``method`` are those of the result.
    Rows are selected on the computed result: ``exp.compute()[rows]``.
    """

    #: The delayed in-memory Explanation of each partition, in row order.
    partitions: tuple[Any, ...] = field(default=(), repr=False, compare=False)
    #: The number of rows of each partition.
    lengths: tuple[int, ...] = field(default=(), repr=False, compare=False)

    def __post_init__(self) -> None:
        """No checks here: they would compute the arrays (each partition's Explanation checked
        its own fields)."""

    def __repr__(self) -> str:
        return (
            f"DaskExplanation(method={self.method!r}, values.shape={tuple(self.values.shape)}, "
            f"npartitions={len(self.partitions)})"
        )

    def __getitem__(self, rows: Any) -> Explanation:
        raise TypeError(
            "a DaskExplanation is lazy: select rows of the computed result, "
            "glassbox.dask.compute(exp)[rows], or slice a field, exp.values[rows]"
        )

    def compute(self, **compute_kwargs: Any) -> Explanation:
        """The in-memory Explanation (``glassbox.dask.compute``)."""
        return compute(self, **compute_kwargs)

    def to_frame(self, kind: str = "wide") -> Any:
        """``to_frame`` of the computed Explanation."""
        return self.compute().to_frame(kind)

    def to_shap(self) -> Any:
        """``to_shap`` of the computed Explanation."""
        return self.compute().to_shap()

    def save(self, path: Any) -> None:
        """``save`` of the computed Explanation."""
        self.compute().save(path)

    def plot(self, **kwargs: Any) -> Any:
        """``plot`` of the computed Explanation."""
        return self.compute().plot(**kwargs)


def compute(exp: Explanation, **compute_kwargs: Any) -> Explanation:
    """The in-memory ``Explanation`` of a ``DaskExplanation``: every partition computed (one
    ``dask.compute``; ``compute_kwargs`` go to it) and put together in row order, per-call options
    merged as one call on all the rows gives them (count options such as ``n_evaluated``: their
    maximum). An in-memory Explanation is returned as it is.

    Examples
    --------
    >>> import numpy as np
    >>> exp = Explanation(values=np.ones((2, 1)), data=np.zeros((2, 1)))
    >>> compute(exp) is exp
    True
    """
    if not isinstance(exp, DaskExplanation):
        if isinstance(exp, Explanation):
            return exp
        raise TypeError(f"exp: expected an Explanation, got {type(exp).__name__}")
    dask, _, _ = _dask()
    parts = dask.compute(*exp.partitions, **compute_kwargs)
    rows = [np.arange(a, b) for a, b in _spans(exp.lengths)]
    out = stitch_rows(list(zip(rows, parts, strict=True)), sum(exp.lengths))
    # the configuration as the user gave it (the workers ran with progress=False, and in a
    # distributed worker one thread), the per-call figures of the whole job
    return replace(out, options={**out.options, **exp.options})


# ---- the job -----------------------------------------------------------------------------


def explain(explainer: Explainer, data: Any, **call_kwargs: Any) -> DaskExplanation:
    """Explain the rows of a dask collection with ``explainer``, partition by partition, on the
    active dask scheduler (a ``dask.distributed`` Client's cluster, else dask's local scheduler).

    Parameters
    ----------
    explainer : a glassbox explainer
        Configured as for an in-process call (seed, budget, ``n_threads`` per task); shipped to
        the workers once, model included.
    data : dask.array.Array or dask.dataframe.DataFrame
        Rows x features, or samples of the model's input shape (rows, *shape), chunked along the
        rows only (``data.rechunk({1: -1, ...})``); a DataFrame of numeric (or bool) columns,
        whose names become the feature names.
    **call_kwargs
        The explainer call's keywords (``target=``, ``baselines=``, ...). A dask array / Series
        is per row (aligned with ``data``); ``target`` as a 1-D array or list is per row too;
        anything else goes whole to every partition.

    Returns
    -------
    DaskExplanation
        Lazy: per-row fields are dask arrays chunked as ``data``'s rows; ``.compute()`` gives
        the in-memory Explanation.

    Examples
    --------
    >>> import numpy as np, pandas as pd, dask, dask.dataframe as dd, glassbox as gb
    >>> import glassbox.dask
    >>> spec = gb.NetworkSpec(input_shape=(2,))
    >>> _ = spec.add("dense", "fc", weight=np.array([[1.0, -1.0]]), bias=np.array([0.5]))
    >>> frame = dd.from_pandas(pd.DataFrame({"a": [1.0, 2.0, 3.0], "b": [0.0, 1.0, 2.0]}),
    ...                        npartitions=2)
    >>> with dask.config.set(scheduler="synchronous"):
    ...     exp = glassbox.dask.explain(gb.IntegratedGradients(gb.build_network(spec)), frame)
    ...     exp.feature_names, exp.values.compute().tolist()
    (['a', 'b'], [[1.0, -0.0], [2.0, -1.0], [3.0, -2.0]])
    """
    dask, da, dd = _dask()
    if not isinstance(explainer, Explainer):
        raise TypeError(
            f"explainer: expected a glassbox explainer (e.g. glassbox.KernelShap(model, ...)), "
            f"got {type(explainer).__name__}"
        )
    parts, lengths, float32_columns = _partitions(data, da, dd)
    n = sum(lengths)
    per_row, shared = _split_kwargs(call_kwargs, lengths, n, da, dd)
    keep = [i for i, m in enumerate(lengths) if m > 0]  # an explainer refuses empty batches
    if not keep:
        raise ValueError(f"data: has no rows (its {len(lengths)} partitions are empty)")
    first_rows = [a for a, _ in _spans(lengths)]

    shipped = copy.copy(explainer)
    shipped.progress = False  # no bar on the workers, and a progress callable is not shipped
    probe = _probe(copy.copy(shipped), parts[keep[0]], per_row, keep[0], shared, dask)
    data_dtype = None
    if float32_columns is not None:  # a DataFrame: see Schema.originals
        data_dtype = np.dtype(np.float32 if float32_columns else np.float64)

    payload = _ship(dask, (shipped, shared))
    delayed = dask.delayed(_explain_partition, pure=False)
    tasks = [
        delayed(
            payload,
            parts[i],
            first_rows[i],
            {key: blocks[i] for key, blocks in per_row.items()},
            data_dtype,
            dask_key_name=f"glassbox-explain-{type(explainer).__name__}-{uuid.uuid4().hex}-{i}",
        )
        for i in keep
    ]
    sizes = [lengths[i] for i in keep]
    fields = _lazy_fields(probe, tasks, sizes, data_dtype, dask, da)
    layers = None
    if probe.layer_relevance is not None:
        layers = {
            name: _lazy_rows(tasks, sizes, ("layer_relevance", name), array, dask, da)
            for name, array in probe.layer_relevance.items()
        }
    return DaskExplanation(
        **fields,
        feature_names=probe.feature_names,
        output_names=probe.output_names,
        method=probe.method,
        options=dict(explainer.options),
        layer_relevance=layers,
        conservation_layers=probe.conservation_layers,
        skip_tokens=probe.skip_tokens,
        inputs=probe.inputs,
        partitions=tuple(tasks),
        lengths=tuple(sizes),
    )


def _spans(lengths: Any) -> list[tuple[int, int]]:
    """The (first, end) rows of consecutive partitions of ``lengths`` rows."""
    return list(itertools.pairwise(itertools.accumulate(lengths, initial=0)))


def _partitions(data: Any, da: Any, dd: Any) -> tuple[list[Any], list[int], bool | None]:
    """``data``'s partitions (delayed), their row counts, and for a DataFrame whether every column
    is float32 (None for an array); bad collections are refused here, before any work."""
    if isinstance(data, da.Array):
        if data.ndim < 2:
            raise ValueError(
                f"data: expected a dask array of rows (n, features) or (n, *sample_shape), got "
                f"shape {data.shape}; one row is data[None]"
            )
        if any(np.isnan(c) for chunks in data.chunks for c in chunks):
            raise ValueError(
                "data: the dask array's chunk sizes are unknown; call data.compute_chunk_sizes() "
                "first"
            )
        split = [axis for axis in range(1, data.ndim) if len(data.chunks[axis]) > 1]
        if split:
            rechunk = ", ".join(f"{axis}: -1" for axis in range(1, data.ndim))
            raise ValueError(
                f"data: chunked along axis {split[0]} (chunks {data.chunks[split[0]]}); "
                "glassbox explains whole rows, so chunk along the rows only: "
                f"data.rechunk({{{rechunk}}})"
            )
        parts = list(data.to_delayed().reshape(-1))
        return parts, [int(c) for c in data.chunks[0]], None
    if dd is not None and isinstance(data, dd.DataFrame):
        from glassbox.data import _is_numeric

        bad = [str(c) for c, t in data.dtypes.items() if not _is_numeric("pandas", t)]
        if bad:
            raise TypeError(
                f"data: columns {bad} are not numeric; glassbox.dask explains numeric (or bool) "
                "columns: encode them first, or select the numeric ones"
            )
        if not len(data.columns):
            raise ValueError("data: the DataFrame has no columns")
        lengths = [int(m) for m in data.map_partitions(len, meta=(None, "int64")).compute()]
        float32 = all(np.dtype(t) == np.float32 for t in data.dtypes)
        return list(data.to_delayed()), lengths, float32
    if dd is not None and isinstance(data, dd.Series):
        raise TypeError(
            "data: expected a dask DataFrame or array, got a dask Series; use data.to_frame()"
        )
    raise TypeError(
        f"data: expected a dask array or dask DataFrame, got {type(data).__name__}; in-memory "
        "data: call the explainer itself, or wrap it (dask.array.from_array(X, chunks=rows), "
        "dask.dataframe.from_pandas(frame, npartitions=k))"
    )


def _split_kwargs(
    kwargs: dict[str, Any], lengths: list[int], n: int, da: Any, dd: Any
) -> tuple[dict[str, list[Any]], dict[str, Any]]:
    """The call's keywords: per row (name -> one value per partition) and shared by every
    partition."""
    per_row: dict[str, list[Any]] = {}
    shared: dict[str, Any] = {}
    for key, value in kwargs.items():
        if dd is not None and isinstance(value, (dd.Series, dd.DataFrame)):
            value = value.to_dask_array(lengths=True)
        if isinstance(value, da.Array):
            if value.ndim < 1 or value.shape[0] != n:
                raise ValueError(
                    f"{key}: a dask array is taken per row of data, so it needs {n} rows; got "
                    f"shape {value.shape}"
                )
            blocks = value.rechunk((tuple(lengths), *(-1,) * (value.ndim - 1))).to_delayed()
            per_row[key] = list(blocks.reshape(-1))
        elif key == "target" and _is_sequence(value):
            target = np.asarray(value)
            if target.shape[0] != n:
                raise ValueError(
                    f"target: a 1-D target is one output per row of data, so it needs {n} "
                    f"values; got {target.shape[0]}"
                )
            per_row[key] = [target[a:b] for a, b in _spans(lengths)]
        else:
            shared[key] = value
    return per_row, shared


def _is_sequence(value: Any) -> bool:
    """A 1-D list / array / Series (not a str)."""
    if isinstance(value, (str, bytes)) or value is None:
        return False
    try:
        return np.ndim(value) == 1
    except (TypeError, ValueError):
        return False


def _probe(
    explainer: Explainer,
    part: Any,
    per_row: dict[str, list[Any]],
    index: int,
    shared: dict[str, Any],
    dask: Any,
) -> Explanation:
    """The explainer called in-process on the first row of partition ``index`` (its own checks
    of the data and keywords, before any work on the workers; the result's shapes and names)."""
    first = {key: blocks[index] for key, blocks in per_row.items()}
    part, first = dask.compute(part, first)
    row = part.iloc[:1] if hasattr(part, "iloc") else part[:1]
    first = {
        key: value.iloc[:1] if hasattr(value, "iloc") else value[:1] for key, value in first.items()
    }
    return explainer(row, **shared, **first)


def connect(address: str, name: str = "scheduler") -> Any:
    """A ``distributed.Client`` of the Dask scheduler at ``address`` (not made the default);
    an ImportError naming the extra without dask.distributed, an OSError naming ``name`` when
    no scheduler answers within 10 s."""
    try:
        from distributed import Client
    except ImportError as error:
        raise ImportError(
            f'{name}: needs dask.distributed: pip install "glassbox[dask]"'
        ) from error
    try:
        return Client(address, timeout="10s", set_as_default=False)
    except (OSError, TimeoutError, ValueError) as error:
        raise OSError(f"{name}: no Dask scheduler answered at {address!r} ({error})") from error


def _ship(dask: Any, payload: Any) -> Any:
    """``payload`` once on every worker: scattered (broadcast) when a distributed Client is the
    active scheduler, else one delayed object the graph's tasks share."""
    client = _active_client(dask)
    if client is not None:
        [future] = client.scatter([payload], broadcast=True, hash=False)
        return future
    name = f"glassbox-explainer-{uuid.uuid4().hex}"
    return dask.delayed(payload, traverse=False, name=name)


def _active_client(dask: Any) -> Any:
    """The distributed Client that runs dask's computations now, or None."""
    try:
        from distributed import default_client
    except ImportError:
        return None
    try:
        client = default_client()
    except ValueError:  # no Client
        return None
    return client if dask.base.get_scheduler() == client.get else None


def _explain_partition(
    payload: tuple[Explainer, dict[str, Any]],
    part: Any,
    start: int,
    per_row: dict[str, Any],
    data_dtype: np.dtype | None,
) -> Explanation:
    """One partition explained on a worker (one explainer call), its rows numbered from
    ``start`` for per-row seeds (``glassbox.row_offset``)."""
    shared_explainer, shared = payload
    explainer = copy.copy(shared_explainer)  # a task's own state (the worker's tasks share one)
    if explainer.n_threads is None and not os.environ.get("GLASSBOX_NUM_THREADS") and _in_worker():
        explainer.n_threads = 1  # dask's rule: a worker's threads are its parallelism
    with glassbox.row_offset(start):
        exp = explainer(part, **shared, **per_row)
    if data_dtype is not None and exp.data.dtype != data_dtype:
        exp = replace(exp, data=exp.data.astype(data_dtype))  # float32 and float64 parts
    return exp


def _in_worker() -> bool:
    """Whether this runs in a ``dask.distributed`` worker."""
    try:
        from distributed import get_worker
    except ImportError:
        return False
    try:
        get_worker()
    except ValueError:
        return False
    return True


def _lazy_fields(
    probe: Explanation,
    tasks: list[Any],
    sizes: list[int],
    data_dtype: np.dtype | None,
    dask: Any,
    da: Any,
) -> dict[str, Any]:
    """Each per-row field the probe has, as a dask array over the partitions' results."""
    out = {}
    for name in Explanation._ROW_FIELDS:
        value = getattr(probe, name)
        if value is None:
            out[name] = None
            continue
        value = np.asarray(value)
        if name == "data" and data_dtype is not None:
            value = value.astype(data_dtype)
        out[name] = _lazy_rows(tasks, sizes, (name,), value, dask, da)
    return out


def _lazy_rows(
    tasks: list[Any], sizes: list[int], path: tuple[str, ...], like: np.ndarray, dask: Any, da: Any
) -> Any:
    """One dask array of the field at ``path`` of every partition's Explanation, shaped as
    ``like`` (the probe's field, one row) with the partitions' rows."""
    pick = dask.delayed(_field, pure=True)
    blocks = [
        da.from_delayed(
            pick(task, path),
            shape=(m, *like.shape[1:]),
            dtype=like.dtype,
            meta=np.empty((0,) * like.ndim, like.dtype),
        )
        for task, m in zip(tasks, sizes, strict=True)
    ]
    return da.concatenate(blocks, axis=0) if len(blocks) > 1 else blocks[0]


def _field(exp: Explanation, path: tuple[str, ...]) -> np.ndarray:
    """The field at ``path`` of ``exp`` (("values",), ("layer_relevance", name))."""
    value: Any = getattr(exp, path[0])
    for key in path[1:]:
        value = value[key]
    return np.asarray(value)
