"""Values of ONNX graphs that involve the batch axis itself (for ``from_onnx``).

Exporters of transformers index the attention mask per sample with the sample's own index:
``Range(0, batch)`` gives the batch indices, which ``GatherND`` (torch's dynamo exporter) or a
``Gather`` on the mask flattened with its batch (the legacy exporter: index ``b * T + j``) use
to read ``mask[b, j]``; attention reshapes merge the batch with the heads (``(B * H, T, D)``)
for a transpose. Neither is a constant nor a per-sample tensor, so two small symbolic values
carry them until they become one again:

- :class:`Batched`: integers ``a + m * b`` of full shape ``(batch, *shape)`` (``b`` the sample
  index), or only the shape when the values are not of that form (``Max`` of such values, whose
  shape alone is read);
- :class:`View`: a per-sample tensor seen with the batch axis elsewhere than first, perhaps
  merged with other axes (``nn.MultiheadAttention`` works sequence-first: ``(T, B, D)``, and
  ``(T, B * H, d)`` for its heads).

Each op on them is a function of the node's inputs and attributes; what else reads them is
reported as unsupported.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from glassbox.models.builder import BATCH, GraphBuilder, Tensor, Unsupported


@dataclass(eq=False)
class Batched:
    """Integers ``a + m * b`` (``b`` the sample index) of full shape ``(batch, *a.shape[1:])``;
    ``a`` and ``m`` have a leading axis of 1. ``a`` None: only the shape is known."""

    a: np.ndarray | None
    m: np.ndarray | None
    shape: tuple[int, ...]  # per sample

    @staticmethod
    def of(a: Any, m: Any) -> Batched:
        a, m = np.asarray(a, np.int64), np.asarray(m, np.int64)
        shape = np.broadcast_shapes(a.shape, m.shape)
        return Batched(np.broadcast_to(a, shape), np.broadcast_to(m, shape), tuple(shape[1:]))

    def parts(self) -> tuple[np.ndarray, np.ndarray]:
        if self.a is None or self.m is None:
            raise Unsupported("it reads values computed from the batch size")
        return self.a, self.m


@dataclass(eq=False)
class View:
    """The per-sample tensor ``x`` as a graph sees it with the batch axis elsewhere than first:
    native axes ``[lo, at)``, the batch, then native axes ``[at, hi)`` merged into framework axis
    ``lo`` (row-major); the other native axes are framework axes in order. ``lo = at = hi = 0``
    is a plain tensor (never a View)."""

    x: Tensor
    lo: int
    at: int
    hi: int

    def native(self, axis: int) -> list[int]:
        """The native axes of framework axis ``axis`` (non-negative)."""
        if axis < self.lo:
            return [axis]
        if axis == self.lo:
            return list(range(self.lo, self.hi))
        return [self.hi + axis - self.lo - 1]

    @property
    def rank(self) -> int:  # framework rank
        return len(self.x.shape) - (self.hi - self.lo) + 1  # type: ignore[arg-type]


def view(x: Tensor, lo: int, at: int, hi: int) -> Tensor | View:
    return x if lo == at == hi == 0 else View(x, lo, at, hi)


def as_view(x: Tensor | View) -> View:
    return x if isinstance(x, View) else View(x, 0, 0, 0)


Symbolic = (Batched, View)


def _full(value: Any, rank: int) -> np.ndarray:
    """A constant as an operand of full rank ``rank`` (batch axis first, of extent 1)."""
    array = np.asarray(value)
    if array.ndim > rank or (array.ndim == rank and rank and array.shape[0] != 1):
        raise Unsupported(f"a constant of shape {array.shape} changes the batch")
    return array.reshape((1,) * (rank - array.ndim) + array.shape)


def _split(value: Any, rank: int) -> tuple[np.ndarray, np.ndarray]:
    if isinstance(value, Batched):
        a, m = value.parts()
        return _full(a, rank), _full(m, rank)
    if isinstance(value, (Tensor, View)):
        raise Unsupported("it combines batch indices with a computed tensor")
    array = _full(np.asarray(value, np.int64), rank)
    return array, np.zeros_like(array)


def _rank(values: list[Any]) -> int:
    return max(
        len(v.shape) + 1 if isinstance(v, Batched) else np.ndim(v) for v in values if v is not None
    )


def _affine(op: str) -> Callable[[list[Any], dict[str, Any]], Batched]:
    def fold(inputs: list[Any], attrs: dict[str, Any]) -> Batched:
        rank = _rank(inputs)
        (a1, m1), (a2, m2) = (_split(v, rank) for v in inputs[:2])
        if op == "add":
            return Batched.of(a1 + a2, m1 + m2)
        if op == "sub":
            return Batched.of(a1 - a2, m1 - m2)
        if np.any(m1) and np.any(m2):
            raise Unsupported("a product of two batch indices")
        return Batched.of(a1 * a2, m1 * a2 + m2 * a1)

    return fold


def _shape_only(inputs: list[Any], attrs: dict[str, Any]) -> Batched:
    rank = _rank(inputs)
    shapes = [np.shape(_split_shape(v, rank)) for v in inputs if v is not None]
    shape = np.broadcast_shapes(*shapes)
    return Batched(None, None, tuple(shape[1:]))


def _split_shape(value: Any, rank: int) -> np.ndarray:
    if isinstance(value, Batched):
        return np.empty((1, *value.shape))
    return _full(value, rank)


def _unsqueeze(inputs: list[Any], attrs: dict[str, Any]) -> Batched:
    value, axes = inputs[0], node_axes(inputs, attrs)
    if axes is None:
        raise Unsupported("the axes must be constants")
    rank = len(value.shape) + 1 + len(axes)
    axes = sorted(a % rank for a in axes)
    if 0 in axes:
        raise Unsupported("an axis inserted before the batch axis")
    shape = list(value.shape)
    for axis in axes:
        shape.insert(axis - 1, 1)
    if value.a is None:
        return Batched(None, None, tuple(shape))
    return Batched.of(value.a.reshape(1, *shape), value.m.reshape(1, *shape))


def _expand(inputs: list[Any], attrs: dict[str, Any]) -> Batched:
    value, target = inputs[0], [int(d) for d in np.ravel(inputs[1])]
    target = [1 if d == BATCH else d for d in target]
    rank = max(len(target), len(value.shape) + 1)
    if len(target) > len(value.shape) + 1:
        raise Unsupported("an Expand that adds axes before the batch axis")
    shape = np.broadcast_shapes((1, *value.shape), tuple(target))
    if value.a is None:
        return Batched(None, None, tuple(shape[1:]))
    a, m = (np.broadcast_to(_full(v, rank), shape) for v in value.parts())
    return Batched.of(a, m)


def _concat(inputs: list[Any], attrs: dict[str, Any]) -> Batched:
    rank = _rank(inputs)
    axis = int(attrs.get("axis", 0)) % rank
    if axis == 0:
        raise Unsupported("batch indices joined along the batch axis")
    parts = [_split(v, rank) for v in inputs]
    return Batched.of(
        np.concatenate([a for a, _ in parts], axis), np.concatenate([m for _, m in parts], axis)
    )


def _cast(inputs: list[Any], attrs: dict[str, Any]) -> Batched:
    return inputs[0]


def node_axes(inputs: list[Any], attrs: dict[str, Any]) -> tuple[int, ...] | None:
    """The ``axes`` of a node: an input since opset 13 (18 for reductions), an attribute before;
    None when absent or not a constant."""
    axes = inputs[1] if len(inputs) > 1 and inputs[1] is not None else attrs.get("axes")
    if axes is None or isinstance(axes, (Tensor, Batched, View)):
        return None
    return tuple(int(a) for a in np.ravel(axes))


def batch_range(start: Any, limit: Any, delta: Any) -> Batched:
    """``Range(0, batch, 1)``: the sample indices."""
    if [int(np.ravel(v)[0]) for v in (start, limit, delta)] != [0, BATCH, 1]:
        raise Unsupported("a Range that depends on the batch size other than Range(0, batch, 1)")
    return Batched.of(np.zeros(1), np.ones(1))


def shape(value: Batched) -> np.ndarray:
    return np.array([BATCH, *value.shape], np.int64)


#: Ops on :class:`Batched` values (no tensor among the inputs).
BATCHED_OPS: dict[str, Callable[[list[Any], dict[str, Any]], Any]] = {
    "Add": _affine("add"),
    "Sub": _affine("sub"),
    "Mul": _affine("mul"),
    "Max": _shape_only,
    "Min": _shape_only,
    "Unsqueeze": _unsqueeze,
    "Expand": _expand,
    "Concat": _concat,
    "Cast": _cast,
    "Identity": _cast,
    "Shape": lambda inputs, attrs: shape(inputs[0])[attrs.get("start", 0) : attrs.get("end")],
}


# -- the ops that turn them back into per-sample tensors -----------------------------------------


def gather_rows(builder: GraphBuilder, name: str, x: Tensor, lead: int, rows: np.ndarray) -> Tensor:
    """``x`` (per-sample ``(*L, *rest)``, ``lead = len(L)``) read at the flat indices ``rows``
    into ``prod(L)``: per-sample shape ``rows.shape + rest``."""
    shape = x.shape
    count, rest = math.prod(shape[:lead]), tuple(shape[lead:])  # type: ignore[index]
    if rows.size and (rows.min() < 0 or rows.max() >= count):
        raise Unsupported(f"indices outside [0, {count})")
    out_shape = (*rows.shape, *rest)
    flat = x
    if not np.array_equal(rows.ravel(), np.arange(count)):
        if tuple(shape[:lead]) != (count,) or lead != 1:  # type: ignore[index]
            flat = builder.reshape(f"{name}/rows", x, [BATCH, count, *rest])
        flat = builder.take(name, flat, 1, [int(r) for r in rows.ravel()])
    if flat.shape == out_shape:
        return flat
    return builder.reshape(name, flat, [BATCH, *out_shape])


def gather_nd(
    builder: GraphBuilder, name: str, x: Tensor, index: Batched, batch_dims: int
) -> Tensor:
    """``GatherND(x, index)`` where ``index[..., 0]`` is the sample's own index."""
    a, m = index.parts()
    if batch_dims != 0 or not a.shape or a.shape[-1] < 1:
        raise Unsupported("only batch_dims=0 with indices that start with the sample index")
    first_ok = np.all(m[..., 0] == 1) and np.all(a[..., 0] == 0)
    if not first_ok or np.any(m[..., 1:]):
        raise Unsupported("only indices [sample index, constants...] are supported")
    k = a.shape[-1] - 1  # per-sample axes indexed
    if not k:
        raise Unsupported("GatherND of whole samples")
    dims = x.shape[:k]  # type: ignore[index]
    inner = a[0, ..., 1:]
    if np.any(inner < 0) or np.any(inner >= np.array(dims)):
        raise Unsupported(f"indices outside the sample shape {x.shape}")
    rows = np.ravel_multi_index(tuple(np.moveaxis(inner, -1, 0)), dims)
    return gather_rows(builder, name, x, k, np.asarray(rows))


def gather_merged(builder: GraphBuilder, name: str, data: View, index: Batched) -> Tensor:
    """``Gather(data, index, axis=0)`` of a tensor merged with the batch, where ``index = rows *
    b + j`` (``rows`` the extent merged after the batch): row ``j`` of sample ``b``."""
    a, m = index.parts()
    rows = math.prod(data.x.shape[data.at : data.hi])  # type: ignore[index]
    if data.lo != 0 or data.at != 0 or not np.all(m == rows):
        raise Unsupported("indices into a merged batch that do not stay in their sample")
    return gather_rows(builder, name, data.x, data.hi, a[0])


def reshape(builder: GraphBuilder, name: str, data: Tensor | View, dims: list[int]) -> Any:
    """A framework reshape of a tensor whose batch may be merged with other axes: ``dims`` (0
    copies, one -1 or :data:`BATCH` holds the batch) keeps the batch within one axis ``q``:
    ``dims[q] = A * batch * C`` with ``A`` from the native axes before it and ``C`` after."""
    v = as_view(data)
    shape = tuple(v.x.shape)  # type: ignore[arg-type]
    framework = [*shape[: v.lo], -1, *shape[v.hi :]]
    dims = [framework[i] if d == 0 and i < len(framework) else d for i, d in enumerate(dims)]
    groups = [i for i, d in enumerate(dims) if d < -1 and d % BATCH == 0]  # from a Shape
    if len(groups) == 1 and dims.count(-1) == 1:  # the -1 is then an ordinary extent
        known = math.prod(d for i, d in enumerate(dims) if i != groups[0] and d != -1)
        dims[dims.index(-1)] = math.prod(shape) // max(1, known * (dims[groups[0]] // BATCH))
    batch = [i for i, d in enumerate(dims) if d == -1 or (d < 0 and d % BATCH == 0)]
    if not batch and builder.fixed_batch is not None:  # a graph exported for one batch size
        batch = [i for i, d in enumerate(dims) if d == builder.fixed_batch]
    if len(batch) != 1 or any(d < 1 for i, d in enumerate(dims) if i != batch[0]):
        raise Unsupported(f"a reshape of samples of shape {shape} to {dims} (batch axis unclear)")
    q = batch[0]
    pre, post = math.prod(shape[: v.at]), math.prod(shape[v.at :])
    before, after = math.prod(dims[:q]), math.prod(dims[q + 1 :])
    if pre % before or post % after:
        raise Unsupported(f"a reshape of samples of shape {shape} to {dims} mixes samples")
    a, c = pre // before, post // after
    target = [*dims[:q], *([a] if a > 1 else []), *([c] if c > 1 else []), *dims[q + 1 :]]
    if not target:
        raise Unsupported(f"a reshape of samples of shape {shape} to {dims}")
    x = v.x
    if tuple(target) != shape:
        x = builder.reshape(name, x, [BATCH, *target])
    return view(x, q, q + (a > 1), q + (a > 1) + (c > 1))


def transpose(builder: GraphBuilder, name: str, data: Tensor | View, perm: list[int]) -> Any:
    """A framework transpose: the batch group moves as a whole; the native axes are permuted."""
    v = as_view(data)
    if sorted(perm) != list(range(v.rank)):
        raise Unsupported(f"perm={perm} for a tensor of rank {v.rank}")
    native: list[int] = []
    lo = 0
    for axis in perm:
        if axis == v.lo:
            lo = len(native)
        native.extend(v.native(axis))
    x = v.x
    if native != sorted(native):
        x = builder.layer("permute", name, [x], {"perm": tuple(native)})
    return view(x, lo, lo + v.at - v.lo, lo + v.hi - v.lo)
