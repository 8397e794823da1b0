"""Occlusion and feature ablation: attributions from the output drop when features are replaced
by a baseline (Captum's ``Occlusion`` and ``FeatureAblation``). docs/methods.md has the formulas.

Both accept any model ``as_model`` accepts. Every (row, window / group) pair is one row of a
virtual batch that the core writes in chunks and evaluates under OpenMP (native networks) or in
calls of thousands of rows (Python callables).
"""

from __future__ import annotations

import numbers
from collections.abc import Sequence

import numpy as np

from glassbox import _core
from glassbox._validation import as_baselines, check_int
from glassbox.explainers.base import AgnosticExplainer
from glassbox.explanation import Explanation
from glassbox.masks import mask_groups
from glassbox.progress import ProgressArg


def _axis_ints(value: object, rank: int, name: str, minimum: int) -> tuple[int, ...]:
    """An int (every axis) or one int per axis of a sample, each >= minimum."""
    if isinstance(value, numbers.Integral) and not isinstance(value, bool):
        values: Sequence[object] = (value,) * rank
    elif isinstance(value, Sequence) and not isinstance(value, str):
        values = value
    else:
        raise TypeError(f"{name}: expected an int or a tuple of {rank} ints, got {value!r}")
    if len(values) != rank:
        raise ValueError(
            f"{name}: expected {rank} extents (one per axis of a sample), got {len(values)}"
        )
    return tuple(check_int(v, name, minimum) for v in values)


class Occlusion(AgnosticExplainer):
    """Occlusion (Zeiler & Fergus, 2014): slide a window over each sample, replace it by the
    baseline, and credit each feature with the mean output drop over the windows covering it.

    Same semantics as Captum's ``Occlusion``: windows start at 0 on every axis and move by
    ``strides`` until the axis is covered (the last window may be cut off at the edge); a
    feature's attribution is the average of f(x) - f(x with the window replaced) over the windows
    that contain it.

    Parameters
    ----------
    model : any model ``as_model`` accepts
    sliding_window_shapes : tuple of int
        Window extent per axis of a sample, e.g. (1, 4, 4) for (C, H, W) images or (2,) for rows.
    strides : int or tuple of int, default 1
        Step per axis; at most the window's extent on axes the window does not fill.
    baselines : float or array, default 0
        Replacement values: a scalar, one sample, or one sample per row.
    n_threads, memory_budget : int, optional
    progress : bool, callable or None, default None
        A bar on stderr while the job runs (True), nothing (False), ``callable(done, total)``
        with the rows done, or None: a bar only for long jobs in a terminal (see
        ``glassbox.progress``).

    Examples
    --------
    >>> import numpy as np, torch, glassbox as gb
    >>> from torch import nn
    >>> _ = torch.manual_seed(0)
    >>> cnn = nn.Sequential(nn.Conv2d(1, 4, 3), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
    ...                     nn.Linear(36, 3))  # layers named "0" .. "4", as torch names them
    >>> images = np.random.default_rng(0).random((2, 1, 8, 8), dtype=np.float32)
    >>> occlusion = gb.Occlusion(gb.from_torch(cnn), sliding_window_shapes=(1, 4, 4), strides=2)
    >>> occlusion(images, target=0).values.shape  # one attribution per pixel
    (2, 1, 8, 8)
    """

    method_name = "occlusion"

    def __init__(
        self,
        model: object,
        sliding_window_shapes: object,
        *,
        strides: object = 1,
        baselines: object = 0.0,
        n_threads: int | None = None,
        memory_budget: int | None = None,
        progress: ProgressArg = None,
    ) -> None:
        if isinstance(sliding_window_shapes, numbers.Integral):
            sliding_window_shapes = (sliding_window_shapes,)
        if not isinstance(sliding_window_shapes, Sequence) or isinstance(
            sliding_window_shapes, str
        ):
            raise TypeError(
                f"sliding_window_shapes: expected a tuple of ints, got {sliding_window_shapes!r}"
            )
        rank = len(sliding_window_shapes)
        self.sliding_window_shapes = _axis_ints(
            sliding_window_shapes, rank, "sliding_window_shapes", 1
        )
        self.strides = _axis_ints(strides, rank, "strides", 1)
        self.baselines = baselines
        super().__init__(model, n_threads=n_threads, memory_budget=memory_budget, progress=progress)

    def __call__(self, X: object, target: object = None) -> Explanation:
        if (split := self._by_pattern(X, target)) is not None:  # a mask input
            return split
        batch, flat, targets = self._inputs(X, target)
        shape = batch.shape[1:]
        window, strides = self.sliding_window_shapes, self.strides
        if len(window) != len(shape):
            raise ValueError(
                f"sliding_window_shapes: expected {len(shape)} extents (one per axis of a sample "
                f"{shape}), got {window}"
            )
        for axis, (extent, size, step) in enumerate(zip(shape, window, strides, strict=True)):
            if size > extent:
                raise ValueError(
                    f"sliding_window_shapes: the window {window} is larger than the sample "
                    f"{shape} on axis {axis}"
                )
            if size < extent and step > size:
                raise ValueError(
                    f"strides: {strides} may not exceed the window {window} on axis {axis} "
                    "(features would be skipped)"
                )
        values = self._call_core(
            _core.occlusion,
            flat,
            baselines=as_baselines(self.baselines, batch).reshape(flat.shape),
            sample_shape=list(shape),
            window=list(window),
            strides=list(strides),
            targets=targets,
            n_outputs=self.model.n_outputs,
        )
        return self._explanation(batch, values, targets)


def _groups(feature_mask: object, shape: tuple[int, ...]) -> tuple[np.ndarray, int]:
    """Per flattened feature, its group in [0, n_groups) or -1 (never replaced)."""
    d = int(np.prod(shape))
    if feature_mask is None:
        return np.arange(d, dtype=np.int64), d
    try:
        array = np.asarray(feature_mask)
    except ValueError:  # ragged list of groups
        array = None
    # an array (numpy, torch) is a mask that may broadcast; nested lists are groups unless
    # they have the sample's shape
    is_array = hasattr(feature_mask, "shape") and hasattr(feature_mask, "dtype")
    if array is not None and (is_array or array.shape in (shape, (1, *shape))):
        group_of, ids = mask_groups(array, [shape])
        return group_of, ids.size
    if not isinstance(feature_mask, Sequence) or isinstance(feature_mask, str):
        raise TypeError(
            f"feature_mask: expected None, an int array of shape {shape} (group ids, as Captum) "
            f"or a list of groups of feature indices; got {type(feature_mask).__name__}"
        )
    members = [np.asarray(group).reshape(-1) for group in feature_mask]
    if not members or any(m.size == 0 for m in members):
        raise ValueError("feature_mask: every group needs at least one feature")
    flat = np.concatenate(members)
    if not np.issubdtype(flat.dtype, np.integer):
        raise TypeError(f"feature_mask: group members must be feature indices, got {flat.dtype}")
    if flat.min() < 0 or flat.max() >= d:
        raise ValueError(f"feature_mask: expected feature indices (integers between 0 and {d - 1})")
    if np.unique(flat).size != flat.size:
        raise ValueError("feature_mask: groups overlap (a feature is listed twice)")
    group_of = np.full(d, -1, dtype=np.int64)
    group_of[flat] = np.repeat(np.arange(len(members)), [m.size for m in members])
    return group_of, len(members)


class FeatureAblation(AgnosticExplainer):
    """Feature ablation: replace each group of features by the baseline; every feature of the
    group is credited with the output drop f(x) - f(x with the group replaced).

    Same semantics as Captum's ``FeatureAblation`` for one input tensor.

    Parameters
    ----------
    model : any model ``as_model`` accepts
    feature_mask : None, int array, or list of groups
        None: every feature alone. An int array the shape of a sample, or broadcastable to it
        (Captum's mask; ``(1, H, W)`` shared by the channels; ``glassbox.superpixels``):
        features with equal ids form a group. A list of groups (sequences of flattened feature
        indices, disjoint): features in no group are never replaced and get 0. Values come back
        in X's shape, each feature holding its group's value; ``options["group_values"]`` holds
        them per group (n, n_groups), groups in the order of their ids.
    baselines : float or array, default 0
        Replacement values: a scalar, one sample, or one sample per row.
    n_threads, memory_budget : int, optional
    progress : bool, callable or None, default None
        A bar on stderr while the job runs (True), nothing (False), ``callable(done, total)``
        with the rows done, or None: a bar only for long jobs in a terminal (see
        ``glassbox.progress``).

    Examples
    --------
    Features 0 and 1 are removed together: each is credited with the drop of their product.

    >>> import numpy as np, glassbox as gb
    >>> model = gb.wrap(lambda X: X[:, 0] * X[:, 1] + X[:, 2], n_inputs=3)
    >>> gb.FeatureAblation(model, feature_mask=[[0, 1], [2]])(np.full((1, 3), 2.0)).values
    array([[4., 4., 2.]])
    """

    method_name = "feature_ablation"

    def __init__(
        self,
        model: object,
        feature_mask: object = None,
        *,
        baselines: object = 0.0,
        n_threads: int | None = None,
        memory_budget: int | None = None,
        progress: ProgressArg = None,
    ) -> None:
        self.feature_mask = feature_mask
        self.baselines = baselines
        super().__init__(model, n_threads=n_threads, memory_budget=memory_budget, progress=progress)

    def __call__(self, X: object, target: object = None) -> Explanation:
        if (split := self._by_pattern(X, target)) is not None:  # a mask input
            return split
        batch, flat, targets = self._inputs(X, target)
        group_of, n_groups = _groups(self.feature_mask, batch.shape[1:])
        values = self._call_core(
            _core.feature_ablation,
            flat,
            baselines=as_baselines(self.baselines, batch).reshape(flat.shape),
            group_of=group_of,
            n_groups=n_groups,
            targets=targets,
            n_outputs=self.model.n_outputs,
        )
        first = np.unique(group_of, return_index=True)[1][
            int(group_of.min() < 0) :
        ]  # a member each
        group_values = np.asarray(values).reshape(flat.shape)[:, first]
        return self._explanation(batch, values, targets, options={"group_values": group_values})
