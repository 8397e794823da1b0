"""Pruning probes: zero the weights of least magnitude (torch.nn.utils.prune semantics) or the
units / filters of least LRP relevance on reference data (Yeom et al. 2021)."""

from __future__ import annotations

import numbers
from typing import Any

import numpy as np

from glassbox._validation import as_batch, check_choice
from glassbox.compress._model import (
    CompressedModel,
    affine_layers,
    check_amount,
    compressed,
    describe,
    hidden_affine_layers,
    native_model,
    replace_weights,
    select_layers,
)
from glassbox.models.native import NativeModel
from glassbox.models.spec import NetworkSpec

METHODS = ("magnitude", "relevance")
SCOPES = ("layer", "global")


def prune(
    model: object,
    amount: float,
    method: str = "magnitude",
    *,
    structured: bool | None = None,
    scope: str = "layer",
    n: float = 1,
    layers: str | list[str] | None = None,
    data: object = None,
    target: object = None,
    composite: Any = "EpsilonPlus",
) -> CompressedModel:
    """A copy of ``model`` with ``amount`` of its weights (or units) set to zero.

    ``method="magnitude"`` follows ``torch.nn.utils.prune`` on each dense / conv2d weight
    (biases are never touched, as in torch):

    - unstructured, ``scope="layer"``: ``l1_unstructured`` per layer: the ``round(amount *
      size)`` weights of least |w| of each layer become 0;
    - unstructured, ``scope="global"``: ``global_unstructured`` with L1 over the layers
      together: the ``round(amount * total)`` weights of least |w| among all of them;
    - ``structured=True``: ``ln_structured(dim=0, n=n)`` per layer: the ``round(amount * units)``
      output units (dense rows) or filters (conv output channels) of least L_n norm become 0.

    ``method="relevance"`` (always structured; Yeom et al. 2021, "Pruning by explaining") runs
    LRP (``composite``, default "EpsilonPlus") on the reference rows ``data`` for ``target``
    (default: each row's predicted output), takes each unit's relevance at the layer's output
    (summed over a filter's positions), and zeros the ``round(amount * units)`` units of least
    mean |relevance| per layer (``scope="global"``: over all the layers together): their
    incoming weights and their bias.

    Parameters
    ----------
    model : NativeModel
        Not changed: the result is a new model with its own weight arrays.
    amount : float
        The fraction to remove, in [0, 1). (Counts, which torch also takes, are not: a
        fraction means the same in layers of any size.)
    method : {"magnitude", "relevance"}
    structured : bool, optional
        Remove whole units / filters. Default: False for "magnitude"; "relevance" is always
        structured (``structured=False`` is an error).
    scope : {"layer", "global"}
        Rank within each layer or across the layers. Structured magnitude pruning is per layer
        only (torch has no global structured pruning).
    n : float, default 1
        The norm order of structured magnitude pruning (``np.inf`` for the max norm).
    layers : str or list of str, optional
        The dense / conv2d layers to prune. Default: all of them for "magnitude" (the output
        layer included, as ``torch.nn.utils.prune`` on every layer), the hidden ones for
        "relevance" (an output layer's units are the outputs).
    data : array, required for "relevance"
        Reference rows (a few hundred suffice; their layer relevances are held in memory).
    target : int, output name or one per row, optional
        The output explained by LRP; default: the model's prediction (the only output of a
        one-output model).
    composite : str or Composite, default "EpsilonPlus"
        The LRP composite (``gb.LRP``'s); relevance is measured at each pruned layer's output.

    Returns
    -------
    CompressedModel
        A ``NativeModel``; ``.sparsity`` gives each layer's fraction of zero weights and
        ``.compression`` the full record (units removed, the relevances).

    Examples
    --------
    >>> import numpy as np, glassbox as gb
    >>> spec = gb.NetworkSpec(input_shape=(4,))
    >>> _ = spec.add("dense", "fc", weight=np.arange(1.0, 13.0).reshape(3, 4), bias=np.ones(3))
    >>> pruned = gb.compress.prune(gb.build_network(spec), 0.25)
    >>> pruned.spec.layers[0].weights["weight"][0].tolist(), pruned.sparsity
    ([0.0, 0.0, 0.0, 4.0], {'fc': 0.25})
    >>> rows = gb.compress.prune(gb.build_network(spec), 0.34, structured=True)
    >>> rows.compression.removed_units
    {'fc': array([0])}
    """
    method = check_choice(method, "method", METHODS)
    scope = check_choice(scope, "scope", SCOPES)
    amount = check_amount(amount)
    if structured is None:
        structured = method == "relevance"
    if not isinstance(structured, (bool, np.bool_)):
        raise TypeError(f"structured: expected True or False, got {structured!r}")
    if method == "relevance" and not structured:
        raise ValueError(
            "structured: relevance pruning removes whole units / filters (it ranks units, not "
            "weights); leave structured unset or pass structured=True"
        )
    if method == "magnitude" and structured and scope == "global":
        raise ValueError(
            "scope: structured magnitude pruning is per layer (torch.nn.utils.prune has no "
            "global structured pruning); pass scope='layer', or structured=False for global"
        )
    n = _check_norm(n)
    if method == "magnitude" and (data is not None or target is not None):
        raise ValueError("data / target: only relevance pruning reads data; drop them")
    native = native_model(model, data)
    spec = native.spec
    if method == "magnitude":
        chosen = select_layers(spec, layers, affine_layers(spec))
        new, removed = _magnitude(spec, chosen, amount, bool(structured), scope, n)
        pruned = replace_weights(spec, new)
        record = describe(pruned, method, amount=amount, removed_units=removed)
        return compressed(pruned, record, native)
    if data is None:
        raise ValueError(
            "data: relevance pruning needs reference rows to measure each unit's relevance on; "
            "pass data=X (a few hundred typical rows)"
        )
    chosen = select_layers(spec, layers, hidden_affine_layers(spec))
    if not chosen:
        raise ValueError(
            "layers: the model has no hidden dense / conv2d layer (only output layers), so "
            "relevance pruning has no units to remove"
        )
    relevance = unit_relevance(native, data, chosen, target, composite)
    return prune_units(native, chosen, relevance, amount, scope)


def _check_norm(n: object) -> float:
    if isinstance(n, bool) or not isinstance(n, numbers.Real) or not float(n) > 0:
        raise ValueError(f"n: expected a norm order > 0 (or np.inf), got {n!r}")
    return float(n)


def _smallest(scores: np.ndarray, count: int) -> np.ndarray:
    """Positions of the ``count`` smallest scores (ties: the first positions)."""
    return np.sort(np.argsort(scores, kind="stable")[:count])


def _magnitude(
    spec: NetworkSpec, chosen: list[int], amount: float, structured: bool, scope: str, n: float
) -> tuple[dict[int, dict[str, np.ndarray]], dict[str, np.ndarray]]:
    weights = {i: np.array(spec.layers[i].weights["weight"], dtype=np.float32) for i in chosen}
    removed: dict[str, np.ndarray] = {}
    if scope == "global":
        joined = np.concatenate([np.abs(w).ravel() for w in weights.values()])
        cut = np.zeros(joined.size, dtype=bool)
        cut[_smallest(joined, round(amount * joined.size))] = True
        start = 0
        for w in weights.values():
            w.ravel()[cut[start : start + w.size]] = 0.0
            start += w.size
    else:
        for i, w in weights.items():
            if structured:
                rows = w.reshape(w.shape[0], -1).astype(np.float64)
                norms = np.linalg.norm(rows, ord=n, axis=1)
                units = _smallest(norms, round(amount * w.shape[0]))
                w[units] = 0.0
                removed[spec.layers[i].name] = units
            else:
                flat = w.ravel()
                flat[_smallest(np.abs(flat), round(amount * flat.size))] = 0.0
    return {i: {"weight": w} for i, w in weights.items()}, removed


def unit_relevance(
    model: NativeModel, data: object, chosen: list[int], target: object, composite: Any
) -> dict[int, np.ndarray]:
    """Per layer in ``chosen``, each unit's mean |LRP relevance| over the rows of ``data`` (a
    filter's relevance summed over its positions first)."""
    from glassbox.explainers.lrp import LRP

    batch = as_batch(data, model.input_shape, "data")
    if target is None:
        target = model.predict(batch).argmax(axis=1) if model.n_outputs > 1 else 0
    names = [model.spec.layers[i].name for i in chosen]
    exp = LRP(model, composite=composite)(batch, target=target, layers=names)
    out = {}
    for i, name in zip(chosen, names, strict=True):
        relevance = np.asarray(exp.layer_relevance[name], dtype=np.float64)
        per_unit = relevance.reshape(relevance.shape[0], relevance.shape[1], -1).sum(axis=2)
        out[i] = np.abs(per_unit).mean(axis=0)
    return out


def prune_units(
    model: NativeModel,
    chosen: list[int],
    relevance: dict[int, np.ndarray],
    amount: float,
    scope: str,
) -> CompressedModel:
    """``model`` with the units of least ``relevance`` zeroed (incoming weights and bias)."""
    spec = model.spec
    if scope == "global":
        joined = np.concatenate([relevance[i] for i in chosen])
        cut = np.zeros(joined.size, dtype=bool)
        cut[_smallest(joined, round(amount * joined.size))] = True
        bounds = np.cumsum([0, *(relevance[i].size for i in chosen)])
        units = {i: np.flatnonzero(cut[bounds[k] : bounds[k + 1]]) for k, i in enumerate(chosen)}
    else:
        units = {i: _smallest(relevance[i], round(amount * relevance[i].size)) for i in chosen}
    new: dict[int, dict[str, np.ndarray]] = {}
    for i, removed in units.items():
        layer = spec.layers[i]
        weight = np.array(layer.weights["weight"], dtype=np.float32)
        weight[removed] = 0.0
        new[i] = {"weight": weight}
        if layer.weights.get("bias") is not None:
            bias = np.array(layer.weights["bias"], dtype=np.float32)
            bias[removed] = 0.0
            new[i]["bias"] = bias
    pruned = replace_weights(spec, new)
    record = describe(
        pruned,
        "relevance",
        amount=amount,
        removed_units={spec.layers[i].name: u for i, u in units.items()},
        relevance={spec.layers[i].name: relevance[i] for i in chosen},
    )
    return compressed(pruned, record, model)
