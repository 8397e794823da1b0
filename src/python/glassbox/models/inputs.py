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

#: Integers above this are not exact in float32.
MAX_EXACT_INT = 2**24


def _size(spec: InputSpec) -> int:
    return int(np.prod(spec.shape))


def split_parts(inputs: Sequence[InputSpec], X: object, name: str = "X") -> list[object]:
    """``X`` (a tuple / list of arrays in the inputs' order, or a dict keyed by input name) as
    one array-like per input; a clear error for anything else."""
    names = [spec.name for spec in inputs]
    if isinstance(X, Mapping):
        missing = [n for n in names if n not in X]
        extra = [str(k) for k in X if k not in names]
        if missing or extra:
            raise ValueError(
                f"{name}: the model takes inputs {names}; "
                + (f"missing {missing}" if missing else "")
                + ("; " if missing and extra else "")
                + (f"unknown {extra}" if extra else "")
            )
        return [X[n] for n in names]
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


def pack(inputs: Sequence[InputSpec], X: object, name: str = "X") -> np.ndarray:
    """The flat float32 rows ``(n, sum of sizes)`` of ``X`` given as a tuple or dict.

    Raises a ``TypeError`` / ``ValueError`` naming the input for a missing or unknown input, a
    wrong shape, rows that differ between inputs, or an "int" input with other values.
    """
    parts = [
        _checked_part(spec, part, name)
        for spec, part in zip(inputs, split_parts(inputs, X, name), strict=True)
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
        key = -1 if source == -1 and not spec.inputs else input_layers.get(source)
        if key is None:
            continue
        pad = layer.params.get("padding_idx", -1)
        found.setdefault(key, int(pad) if pad is not None and int(pad) >= 0 else 0)
    return found


def baseline_rows(
    model: Any, flat: np.ndarray, baselines: object, name: str = "baselines"
) -> np.ndarray:
    """The flat baseline rows for the rows ``flat`` of ``model`` (integrated gradients and its
    layer and neuron forms).

    ``baselines`` is None (the default per input: the embedding's padding token for token ids,
    the row's own values for other integer inputs such as masks, which are passed through, and
    0 for real-valued inputs), one number or array for a one-input model, or a tuple / dict of
    such per input (None: that input's default).
    """
    tokens = token_inputs(model)
    inputs = model.inputs
    if not inputs:
        default = float(tokens.get(-1, 0))
        value = default if baselines is None else baselines
        return _broadcast(value, flat.shape, name)
    parts = unpack(inputs, flat)
    given = [None] * len(inputs) if baselines is None else split_parts(inputs, baselines, name)
    out = []
    for k, (spec, part, value) in enumerate(zip(inputs, parts, given, strict=True)):
        where = f"{name}[{spec.name!r}]"
        if value is None:
            if k in tokens:
                value = float(tokens[k])
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
