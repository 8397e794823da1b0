"""Models with several inputs (``input_ids`` and ``attention_mask``; numeric and categorical
parts): the one place a tuple or dict of arrays becomes the flat float32 rows the core reads, and
flat rows become one array per input again.

A native network with named inputs (``NetworkSpec.inputs``) takes its inputs side by side in one
row: input k occupies the columns ``[offset_k, offset_k + size_k)``, and an ``input`` layer
reads them back. Integer inputs (token ids, masks, category codes) travel as float32, exact below
2**24, and are checked to be whole numbers in the range the model's embeddings accept.

Examples
--------
>>> from glassbox.models.spec import InputSpec
>>> inputs = [InputSpec("ids", (3,), "int"), InputSpec("mask", (3,), "int")]
>>> flat = pack(inputs, ([[5, 6, 7]], [[1, 1, 0]]))
>>> flat
array([[5., 6., 7., 1., 1., 0.]], dtype=float32)
>>> [part.tolist() for part in unpack(inputs, flat)]
[[[5.0, 6.0, 7.0]], [[1.0, 1.0, 0.0]]]
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from glassbox._validation import as_batch
from glassbox.data import read_array
from glassbox.models.spec import InputSpec

#: Layers that only pick or rearrange values: ids read through them are still ids.
_VIEWS = ("take", "reshape", "permute", "flatten")

#: Integers above this are not exact in float32.
MAX_EXACT_INT = 2**24


def _size(spec: InputSpec) -> int:
    return int(np.prod(spec.shape))


def split_parts(
    inputs: Sequence[InputSpec], X: object, name: str = "X", optional: bool = False
) -> list[object]:
    """``X`` (a tuple / list of arrays in the inputs' order, or a dict keyed by input name) as
    one array-like per input; a clear error for anything else. ``optional``: a dict may leave
    inputs out (None for them)."""
    names = [spec.name for spec in inputs]
    if isinstance(X, Mapping):
        missing = [] if optional else [n for n in names if n not in X]  # type: ignore[misc]
        extra = [str(k) for k in X if k not in names]
        if missing or extra:
            raise ValueError(
                f"{name}: the model takes inputs {names}; "
                + (f"missing {missing}" if missing else "")
                + ("; " if missing and extra else "")
                + (f"unknown {extra}" if extra else "")
            )
        return [X.get(n) for n in names]
    if isinstance(X, (tuple, list)) and len(X) == len(inputs):
        return list(X)
    total = sum(_size(spec) for spec in inputs)
    shape = getattr(X, "shape", ())
    if not isinstance(X, (tuple, list)) and len(shape) == 2 and int(shape[1]) == total:
        return unpack(inputs, read_array(X))  # the inputs side by side, as the core reads them
    got = f"{len(X)} items" if isinstance(X, (tuple, list)) else type(X).__name__
    raise TypeError(
        f"{name}: the model takes {len(inputs)} inputs {names}; pass a tuple of {len(inputs)} "
        f"arrays in that order, a dict keyed by those names, or their {total} values side by "
        f"side in one array (got {got}{' of shape ' + str(tuple(shape)) if shape else ''})"
    )


def _checked_part(spec: InputSpec, part: object, name: str) -> np.ndarray:
    """One input as a float32 batch of its shape; whole numbers below 2**24 for "int"."""
    where = f"{name}[{spec.name!r}]"
    array = as_batch(read_array(part), spec.shape, where)
    if spec.dtype == "int":
        bad = (array != np.round(array)) | (np.abs(array) > MAX_EXACT_INT)
        if bad.any():
            at = tuple(int(i) for i in np.argwhere(bad)[0])
            raise ValueError(
                f"{where}: expected whole numbers (token ids, mask values or codes) of at most "
                f"{MAX_EXACT_INT}; got {float(array[at])!r} at index {at}"
            )
    return array


def pack(
    inputs: Sequence[InputSpec], X: object, name: str = "X", optional: Sequence[str] = ()
) -> np.ndarray:
    """The flat float32 rows ``(n, sum of sizes)`` of ``X`` given as a tuple or dict.

    Raises a ``TypeError`` / ``ValueError`` naming the input for a missing or unknown input, a
    wrong shape, rows that differ between inputs, or an "int" input with other values. The
    inputs named in ``optional`` may be left out (None, or absent from a dict): zeros.
    """
    given = split_parts(inputs, X, name, optional=bool(optional))
    missing = [spec.name for spec, part in zip(inputs, given, strict=True) if part is None]
    if set(missing) - set(optional):
        raise ValueError(f"{name}: missing inputs {sorted(set(missing) - set(optional))}")
    parts = [
        None if part is None else _checked_part(spec, part, name)
        for spec, part in zip(inputs, given, strict=True)
    ]
    n = next((p.shape[0] for p in parts if p is not None), 0)
    parts = [
        np.zeros((n, *spec.shape), np.float32) if p is None else p
        for spec, p in zip(inputs, parts, strict=True)
    ]
    rows = {spec.name: part.shape[0] for spec, part in zip(inputs, parts, strict=True)}
    if len(set(rows.values())) > 1:
        raise ValueError(f"{name}: the inputs must have the same number of rows, got {rows}")
    return np.ascontiguousarray(
        np.concatenate([p.reshape(p.shape[0], -1) for p in parts], axis=1), dtype=np.float32
    )


def unpack(inputs: Sequence[InputSpec], flat: np.ndarray) -> list[np.ndarray]:
    """Flat rows ``(n, sum of sizes, ...)`` back to one array per input, ``(n, *shape, ...)``
    (trailing axes, such as outputs, are kept)."""
    flat = np.asarray(flat)
    out, offset = [], 0
    for spec in inputs:
        size = _size(spec)
        part = flat[:, offset : offset + size]
        out.append(part.reshape(flat.shape[0], *spec.shape, *flat.shape[2:]))
        offset += size
    return out


def check_embedding_ids(model: Any, flat: np.ndarray, name: str = "X") -> None:
    """Token ids within each embedding's vocabulary, checked before any work: an ``embedding``
    layer that reads an ``input`` layer directly names that input, the id and the vocabulary."""
    spec = model.spec
    for layer in spec.layers:
        if layer.kind != "embedding" or len(layer.inputs) != 1 or layer.inputs[0] < -1:
            continue
        source = layer.inputs[0]
        if source == -1:
            ids, what = flat, name
        elif spec.layers[source].kind == "input":
            params = spec.layers[source].params
            offset, size = int(params["offset"]), int(np.prod(params["shape"]))
            ids, what = flat[:, offset : offset + size], f"{name}[{spec.layers[source].name!r}]"
        else:
            continue
        vocabulary = int(np.asarray(layer.weights["weight"]).shape[0])
        bad = (ids < 0) | (ids >= vocabulary) | (ids != np.round(ids))
        if bad.any():
            row, column = (int(i) for i in np.argwhere(bad)[0])
            raise ValueError(
                f"{what}: token id {float(ids[row, column]):g} at row {row}, position {column} "
                f"is outside the vocabulary of embedding {layer.name!r} (ids 0 to "
                f"{vocabulary - 1}); check the tokenizer matches the model"
            )


def token_inputs(model: Any) -> dict[int, int]:
    """The inputs that hold token ids, each with its baseline token: ``{k: token}`` where ``k``
    is the index in ``model.inputs`` (-1: the single input of a one-input model) of an input an
    ``embedding`` layer reads directly, and ``token`` the embedding's ``padding_idx`` (0 when it
    has none)."""
    spec = model.spec
    found: dict[int, int] = {}
    # the k-th input is read by the k-th layer (NetworkSpec.add_input puts them first)
    input_layers = {k: k for k in range(len(spec.inputs))}
    for layer in spec.layers:
        if layer.kind != "embedding" or len(layer.inputs) != 1:
            continue
        source = layer.inputs[0]
        while source >= 0 and spec.layers[source].kind in _VIEWS:  # ids[:, 0]: part of an input
            source = spec.layers[source].inputs[0]
        key = -1 if source == -1 and not spec.inputs else input_layers.get(source)
        if key is None:
            continue
        pad = layer.params.get("padding_idx", -1)
        found.setdefault(key, int(pad) if pad is not None and int(pad) >= 0 else 0)
    return found


def baseline_rows(
    model: Any, flat: np.ndarray, baselines: object, name: str = "baselines", tokens: str = "pad"
) -> np.ndarray:
    """The flat baseline rows for the rows ``flat`` of ``model`` (integrated gradients and its
    layer and neuron forms, DeepLIFT).

    ``baselines`` is None (the default per input), one number (for every real-valued input),
    one array for a one-input model, or a tuple / dict of such per input (None: that input's
    default). Defaults: 0 for real-valued inputs; the row's own values for integer inputs
    such as masks, which are passed through; for token ids, the embedding's padding token
    when ``tokens="pad"`` (a path in the embedding's values: layer methods) or the row's own
    ids when ``tokens="own"`` (a path in the inputs, where ids have no gradient: a baseline
    given for an integer input is then refused).
    """
    token_ids = token_inputs(model)
    inputs = model.inputs
    if not inputs:
        default = float(token_ids.get(-1, 0))
        value = default if baselines is None else baselines
        return _broadcast(value, flat.shape, name)
    parts = unpack(inputs, flat)
    if baselines is None or (np.ndim(baselines) == 0 and not isinstance(baselines, Mapping)):
        given = [None if spec.dtype == "int" else baselines for spec in inputs]
    else:
        given = split_parts(inputs, baselines, name, optional=True)
    out = []
    for k, (spec, part, value) in enumerate(zip(inputs, parts, given, strict=True)):
        where = f"{name}[{spec.name!r}]"
        if spec.dtype == "int" and tokens == "own" and value is not None:
            raise ValueError(
                f"{where}: integer inputs (token ids, category codes, masks) keep each row's "
                "own values here (they have no gradient); pass None for it, and attribute "
                "token ids with LayerIntegratedGradients on their embedding"
            )
        if value is None:
            if k in token_ids and tokens == "pad":
                value = float(token_ids[k])
            elif spec.dtype == "int":
                value = part
            else:
                value = 0.0
        out.append(_broadcast(value, part.shape, where).reshape(part.shape[0], -1))
    return np.ascontiguousarray(np.concatenate(out, axis=1), dtype=np.float32)


def _broadcast(value: object, shape: tuple[int, ...], name: str) -> np.ndarray:
    """``value`` (a number, one sample, or one row per row) broadcast to ``shape``, float32."""
    array = np.asarray(read_array(value), dtype=np.float32)
    for candidate in (array, array[None] if array.ndim else array):
        try:
            out = np.broadcast_to(candidate, shape)
        except ValueError:
            continue
        if not np.isfinite(out).all():
            raise ValueError(f"{name}: contains NaN or Inf")
        return np.ascontiguousarray(out)
    raise ValueError(f"{name}: shape {array.shape} does not broadcast to the rows' {shape}")


# -- which inputs a method attributes ---------------------------------------------------------

#: How a method treats integer inputs. "gradient": none is attributed (ids and codes have no
#: gradient; masks are structure). "tokens": inputs an embedding reads (token ids, category
#: codes) are attributed (perturbation methods swap their values; LRP's embedding rule sums a
#: token's relevance); other integer inputs (masks) pass through.
ATTRIBUTION_KINDS = ("gradient", "tokens")


def passed_through(model: Any, kind: str) -> list[int]:
    """Indices (in ``model.inputs``) of the inputs a method of ``kind`` does not attribute: they
    keep each row's own values, as Captum's ``additional_forward_args``."""
    inputs = getattr(model, "inputs", None) or []
    read_by_embedding = token_inputs(model) if inputs else {}
    return [
        k
        for k, spec in enumerate(inputs)
        if spec.dtype == "int" and (kind == "gradient" or k not in read_by_embedding)
    ]


def input_columns(inputs: Sequence[InputSpec], indices: Sequence[int]) -> np.ndarray:
    """The flat-row columns of the inputs ``indices``, in order."""
    offsets = np.cumsum([0] + [_size(spec) for spec in inputs])
    parts = [np.arange(offsets[k], offsets[k + 1]) for k in indices]
    return np.concatenate(parts) if parts else np.zeros(0, np.int64)


def feature_labels(inputs: Sequence[InputSpec]) -> list[str]:
    """One name per flat column of ``inputs``: ``name[i]`` (``name[i, j]`` for a 2-D input;
    the bare name for an input of one value).

    >>> feature_labels([InputSpec("x", (2,)), InputSpec("age", (1,)), InputSpec("m", (1, 2))])
    ['x[0]', 'x[1]', 'age', 'm[0, 0]', 'm[0, 1]']
    """
    names = []
    for spec in inputs:
        if _size(spec) == 1:
            names.append(spec.name)
            continue
        for index in np.ndindex(*spec.shape):
            names.append(f"{spec.name}[{', '.join(str(i) for i in index)}]")
    return names


def row_patterns(flat: np.ndarray, columns: np.ndarray) -> list[tuple[np.ndarray, np.ndarray]]:
    """The rows of ``flat`` grouped by their values on ``columns``: ``(rows, values)`` per
    distinct pattern, in order of first appearance.

    >>> flat = np.array([[5, 1], [6, 0], [7, 1]], np.float32)
    >>> [(rows.tolist(), values.tolist()) for rows, values in row_patterns(flat, np.array([1]))]
    [([0, 2], [1.0]), ([1], [0.0])]
    """
    values, first, inverse = np.unique(
        flat[:, columns], axis=0, return_index=True, return_inverse=True
    )
    inverse = inverse.reshape(-1)
    return [(np.flatnonzero(inverse == g), values[g]) for g in np.argsort(first, kind="stable")]


def bind_inputs(model: Any, fixed: Sequence[int], values: np.ndarray) -> Any:
    """``model`` with the inputs ``fixed`` held at ``values`` (their flat values side by side,
    one sample): a native model of the other inputs, whose ``input`` layers come first as
    ``NetworkSpec.add_input`` requires, the fixed ones becoming ``constant`` layers. What a
    model-agnostic method explains for the rows that share those values (a mask, say)."""
    from glassbox.models.native import NativeModel
    from glassbox.models.spec import NetworkSpec

    spec, inputs = model.spec, model.inputs
    kept = [k for k in range(len(inputs)) if k not in set(fixed)]
    bound = NetworkSpec(input_shape=(0,))
    where: dict[int, int] = {-1: -1}
    for k in kept:  # the k-th input is the k-th layer
        where[k] = bound.add_input(inputs[k].name, inputs[k].shape, inputs[k].dtype)
    offset = 0
    for k in fixed:
        size = _size(inputs[k])
        value = np.asarray(values[offset : offset + size], np.float32).reshape(inputs[k].shape)
        where[k] = bound.add(
            "constant", inputs[k].name, [-1], {"shape": inputs[k].shape}, value=value
        )
        offset += size
    for index in range(len(inputs), len(spec.layers)):
        layer = spec.layers[index]
        where[index] = bound.add(
            layer.kind, layer.name, [where[i] for i in layer.inputs], layer.params, **layer.weights
        )
    return NativeModel(bound, output_names=model.output_names)


def sample_values(
    inputs: Sequence[InputSpec], kept: Sequence[int], value: object, name: str
) -> object:
    """A per-sample value (a baseline) over the inputs ``kept`` side by side: one number as it
    is, or a tuple / dict of one number or sample per input (of every input; the others are
    dropped), as flat float32 values."""
    if isinstance(value, (int, float, np.number)):
        return value
    parts = split_parts(inputs, value, name, optional=True)
    out = []
    for k in kept:
        where = f"{name}[{inputs[k].name!r}]"
        part = 0.0 if parts[k] is None else parts[k]
        out.append(_broadcast(part, inputs[k].shape, where).reshape(-1))
    return np.concatenate(out)
