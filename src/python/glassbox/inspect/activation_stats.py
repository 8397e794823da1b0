"""Activation statistics: per unit of a native network's hidden layers, over the rows of X, its
mean and spread, how often it is exactly zero or saturated, and per layer a histogram; streamed
over chunks of rows in the C++ core (``core/inspect/activations.cpp``)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from glassbox import _core
from glassbox._validation import check_int, core_job, run_options
from glassbox.inspect._network import built_model, layer_index
from glassbox.models.layers import ACTIVATION_KINDS, LAYERS
from glassbox.models.native import NativeModel
from glassbox.progress import ProgressArg, check_progress
from glassbox.tables import Tabular, pandas

#: Columns of ``ActivationStats.to_frame()``.
COLUMNS = (
    "layer",
    "unit",
    "mean",
    "std",
    "zero_fraction",
    "saturated_fraction",
    "dead",
    "saturated",
)


@dataclass(frozen=True)
class ActivationStats(Tabular):
    """The result of :func:`activations`: one entry per unit of each inspected layer.

    A unit is a channel of an image layer (C, H, W) (its statistics pool rows and positions)
    and an element of any other layer. Per-unit arrays (``mean``, ``std``, ``zero_fraction``,
    ``saturated_fraction``, ``dead``, ``saturated``, ``unit_layer``) follow the layers in order.
    ``zero_fraction`` is the fraction of rows on which the unit is exactly zero (for a channel:
    its whole map is zero); ``saturated_fraction`` the fraction of rows on which it is within
    0.5% of its activation's range from either end (every position, for a channel), NaN for
    layers without a bounded range. ``dead`` / ``saturated``: on every row.

    Per layer: a histogram of all its values (``counts`` on ``edges``, ``below`` / ``above`` the
    values outside the edges) and the ``min`` / ``max`` over every value.

    Examples
    --------
    >>> import numpy as np, glassbox as gb
    >>> spec = gb.NetworkSpec(input_shape=(2,))
    >>> _ = spec.add("dense", "fc", weight=np.array([[1.0, 0.0], [0.0, 1.0]]),
    ...              bias=np.array([0.0, -100.0]))
    >>> _ = spec.add("relu", "act")
    >>> stats = gb.inspect.activations(gb.build_network(spec), np.ones((10, 2)), layers=["act"])
    >>> stats.to_frame()[["layer", "unit", "mean", "dead"]]
      layer  unit  mean   dead
    0   act     0   1.0  False
    1   act     1   0.0   True
    """

    layers: list[str]
    kinds: list[str]
    units: np.ndarray  # per layer
    unit_layer: np.ndarray  # per unit: its layer's position in ``layers``
    mean: np.ndarray
    std: np.ndarray
    zero_fraction: np.ndarray
    saturated_fraction: np.ndarray
    dead: np.ndarray
    saturated: np.ndarray
    edges: np.ndarray  # (layers, bins + 1)
    counts: np.ndarray  # (layers, bins)
    below: np.ndarray  # per layer
    above: np.ndarray
    min: np.ndarray
    max: np.ndarray
    n_rows: int

    def to_frame(self, kind: str = "wide") -> Any:
        """A pandas DataFrame with one row per unit and the columns ``layer``, ``unit`` (its
        index in the layer), ``mean``, ``std``, ``zero_fraction``, ``saturated_fraction``,
        ``dead`` and ``saturated``."""
        if kind != "wide":
            raise ValueError(f"kind: ActivationStats has one table, 'wide'; got {kind!r}")
        unit = np.concatenate([np.arange(u) for u in self.units]) if len(self.units) else []
        return pandas().DataFrame(
            {
                "layer": np.asarray(self.layers, dtype=object)[self.unit_layer],
                "unit": np.asarray(unit, dtype=np.int64),
                "mean": self.mean,
                "std": self.std,
                "zero_fraction": self.zero_fraction,
                "saturated_fraction": self.saturated_fraction,
                "dead": self.dead,
                "saturated": self.saturated,
            }
        )

    def histogram(self, layer: str) -> tuple[np.ndarray, np.ndarray]:
        """``(counts, edges)`` of ``layer``'s values (as ``np.histogram`` returns them)."""
        if layer not in self.layers:
            raise ValueError(f"layer: {layer!r} was not inspected; inspected: {self.layers}")
        i = self.layers.index(layer)
        return self.counts[i], self.edges[i]


def default_layers(model: NativeModel) -> list[int]:
    """The layers ``activations`` inspects by default: every activation layer and the output
    layer (when it is not an activation)."""
    kinds = [layer.kind for layer in model.spec.layers]
    chosen = [i for i, kind in enumerate(kinds) if kind in ACTIVATION_KINDS]
    if kinds and len(kinds) - 1 not in chosen:
        chosen.append(len(kinds) - 1)
    return chosen


def layer_bounds(model: NativeModel, index: int) -> tuple[float, float]:
    """A bounded activation layer's (low, high) output range (the layer table's ``bounds``), or
    (NaN, NaN). Softmax is not saturating per unit and has none."""
    layer = model.spec.layers[index]
    kind = LAYERS[layer.kind]
    bounds = kind.bounds(kind.complete(layer.params)) if kind.bounds else None
    return (float(bounds[0]), float(bounds[1])) if bounds else (np.nan, np.nan)


def _layers(model: NativeModel, layers: object) -> list[int]:
    if layers is None:
        return default_layers(model)
    if isinstance(layers, str):
        layers = [layers]
    try:
        names = list(layers)  # type: ignore[call-overload]
    except TypeError:
        raise TypeError(
            f"layers: expected None, a layer name or a list of names, got {type(layers).__name__}"
        ) from None
    if not names:
        raise ValueError("layers: expected at least one layer name (None: the default layers)")
    indices = [layer_index(model, name, "layers") for name in names]
    if len(set(indices)) != len(indices):
        raise ValueError(f"layers: names must be distinct, got {names}")
    return indices


def activations(
    model: object,
    X: object,
    layers: object = None,
    *,
    bins: int = 50,
    n_threads: int | None = None,
    memory_budget: int | None = None,
    progress: ProgressArg = None,
) -> ActivationStats:
    """Statistics of a native network's activations over the rows of ``X``.

    One forward pass per chunk of rows in the C++ core (the GIL released), reduced on the fly:
    memory does not grow with ``len(X)``, and results are bit-identical for any thread count.

    Parameters
    ----------
    model : NativeModel, torch module, Keras model or scikit-learn MLP
        A native network (``glassbox.from_torch``, ``from_keras``, ``from_onnx``, ...); a raw
        framework model is converted first (its layer names are the framework's).
    X : array (n, *input_shape)
        The rows.
    layers : str or list of str, optional
        Layer names (``model.layer_names``). None: every activation layer and the output layer
        when it is not an activation. Name others (a convolution before a residual add, a
        pooling layer) to inspect them.
    bins : int, default 50
        Histogram bins per layer. The edges are fixed before the pass: a bounded activation
        (sigmoid, tanh, hardsigmoid, ReLU6 / Hardtanh) spans its range; any other layer spans
        the min to max of its values on the first 256 rows of X, widened by 10% of that span on
        each side (from 0 when the minimum is >= 0). Values outside are counted in ``below`` /
        ``above``.
    n_threads, memory_budget : int, optional
        Threads (None: ``GLASSBOX_NUM_THREADS``, else every core) and bytes a worker's chunk may
        use (None: the core's default).
    progress : bool, callable or None
        See ``glassbox.progress``.

    Returns
    -------
    ActivationStats

    Examples
    --------
    >>> import numpy as np, glassbox as gb
    >>> spec = gb.NetworkSpec(input_shape=(3,))
    >>> _ = spec.add("dense", "fc", weight=np.eye(3) * 50, bias=np.zeros(3))
    >>> _ = spec.add("tanh", "act")
    >>> X = np.random.default_rng(0).normal(size=(200, 3))
    >>> stats = gb.inspect.activations(gb.build_network(spec), X, bins=10)
    >>> stats.layers, stats.saturated_fraction.round(2)
    (['act'], array([0.96, 0.96, 0.96]))
    """
    native, batch = built_model(model, X, "inspect.activations")
    indices = _layers(native, layers)
    bins = check_int(bins, "bins", 1, 1_000_000)
    options = run_options(n_threads, memory_budget)
    ranges = np.array([layer_bounds(native, i) for i in indices], dtype=np.float64).reshape(-1, 2)
    n = int(batch.shape[0])
    with core_job("inspect.activations", native, None, options, check_progress(progress), n):
        raw = _core.activation_stats(
            native.network, X=batch, layers=indices, ranges=ranges, bins=bins, options=options
        )
    units = np.asarray(raw.units, dtype=np.int64)
    bounded = np.repeat(np.isfinite(ranges[:, 0]), units)
    zero = np.asarray(raw.zero_rows) / n
    saturated = np.where(bounded, np.asarray(raw.saturated_rows) / n, np.nan)
    outside = np.asarray(raw.outside)
    names = native.layer_names
    return ActivationStats(
        layers=[names[i] for i in indices],
        kinds=[native.spec.layers[i].kind for i in indices],
        units=units,
        unit_layer=np.repeat(np.arange(len(indices)), units),
        mean=np.array(raw.mean),
        std=np.array(raw.std),
        zero_fraction=zero,
        saturated_fraction=saturated,
        dead=np.asarray(raw.zero_rows) == n,
        saturated=bounded & (np.asarray(raw.saturated_rows) == n),
        edges=np.array(raw.edges),
        counts=np.array(raw.counts),
        below=outside[:, 0].copy(),
        above=outside[:, 1].copy(),
        min=np.array(raw.min),
        max=np.array(raw.max),
        n_rows=n,
    )


__all__ = ["COLUMNS", "ActivationStats", "activations", "default_layers"]
