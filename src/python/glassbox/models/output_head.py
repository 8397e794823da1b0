"""The ``output=`` option shared by every adapter: keep, strip or add the probability head.

Every adapter first translates the framework model into a ``NetworkSpec`` and then calls
:func:`apply_output`, so ``output="model" | "logits" | "probabilities"`` means the same thing for
torch, Keras, ONNX and scikit-learn models:

- ``"model"``: exactly what the framework model computes.
- ``"logits"``: the model without its final probability activation (softmax, log-softmax or
  sigmoid, ignoring trailing dropout / identity layers).
- ``"probabilities"``: class probabilities. A softmax head is kept, a log-softmax head becomes a
  softmax, a model that ends in logits gets a softmax appended. A single-logit binary model (one
  output column, with or without a sigmoid) becomes two columns ``[1 - p, p]``: a zero logit row
  is prepended to the final dense layer and a softmax is appended, since
  ``softmax([0, z]) = [1 - sigmoid(z), sigmoid(z)]``.

The scikit-learn adapter builds the logits network itself and names the head it would apply
(``head=``), because its "model" output (``predict_proba``) is not always a single layer.
"""

from __future__ import annotations

import copy
from typing import Final

import numpy as np

from glassbox.models.shapes import layer_shapes
from glassbox.models.spec import LayerSpec, NetworkSpec

OUTPUTS: Final = ("model", "logits", "probabilities")

#: Heads :func:`apply_output` understands.
#: ``"softmax"``, ``"log_softmax"``, ``"sigmoid"``: that activation on the logits.
#: ``"binary"``: a single logit ``z`` reported as ``[1 - sigmoid(z), sigmoid(z)]``.
#: ``"ovr"``: one-vs-rest sigmoids normalised to sum to one, ``sigmoid(z_k) / sum_j sigmoid(z_j)``.
#: ``None``: no head (the model ends in logits or is a regressor).
HEADS: Final = ("softmax", "log_softmax", "sigmoid", "binary", "ovr", None)

_PROBABILITY_KINDS: Final = frozenset({"softmax", "log_softmax", "sigmoid"})
_NO_OP_KINDS: Final = frozenset({"identity", "dropout"})
_AUTO: Final = "auto"

#: The name given to layers this module adds.
HEAD_NAME: Final = "probabilities"


def check_output(output: object) -> str:
    """Validate the ``output`` argument and return it.

    Examples
    --------
    >>> check_output("logits")
    'logits'
    """
    if not isinstance(output, str) or output not in OUTPUTS:
        raise ValueError(f"output: expected one of {OUTPUTS}, got {output!r}")
    return output


def output_width(spec: NetworkSpec) -> int:
    """Number of output columns of ``spec`` (the size of its last layer's output)."""
    shape = layer_shapes(spec)[-1] if spec.layers else tuple(spec.input_shape)
    return int(np.prod(shape, dtype=np.int64))


def split_head(spec: NetworkSpec) -> tuple[NetworkSpec, str | None, str | None]:
    """Split a final softmax / log-softmax / sigmoid off ``spec``.

    Trailing identity and dropout layers after that activation are dropped with it.

    Returns
    -------
    body : NetworkSpec
        The network up to the logits (a new spec; ``spec`` is not modified).
    head : str or None
        The kind of the activation removed, or None if the network does not end in one.
    head_name : str or None
        Its layer name.

    Examples
    --------
    >>> spec = NetworkSpec(input_shape=(3,))
    >>> _ = spec.add("dense", "fc", weight=np.ones((2, 3), np.float32), bias=None)
    >>> _ = spec.add("softmax", "sm")
    >>> body, head, name = split_head(spec)
    >>> [layer.name for layer in body.layers], head, name
    (['fc'], 'softmax', 'sm')
    """
    index = len(spec.layers) - 1
    while index >= 0 and spec.layers[index].kind in _NO_OP_KINDS:
        index = spec.layers[index].inputs[0]
    if index < 0 or spec.layers[index].kind not in _PROBABILITY_KINDS:
        return spec, None, None
    head = spec.layers[index]
    body = NetworkSpec(tuple(spec.input_shape), list(spec.layers[:index]))
    if head.inputs[0] != index - 1:
        # The activation reads an earlier layer: keep the network's output last.
        body.add("identity", head.name, inputs=list(head.inputs))
    return body, head.kind, head.name


def apply_output(
    spec: NetworkSpec,
    output: str,
    *,
    head: str | None = _AUTO,
    classifier: bool = True,
    what: str = "this model",
    head_name: str = HEAD_NAME,
) -> NetworkSpec:
    """Return the network that computes ``output`` (see the module docstring).

    Parameters
    ----------
    spec : NetworkSpec
        With ``head="auto"`` (the default): the network exactly as the framework computes it;
        its final probability activation, if any, is found by :func:`split_head`.
        Otherwise: the network up to the logits, and ``head`` names what the framework applies
        on top of them (one of ``HEADS``).
    output : {"model", "logits", "probabilities"}
    head : str or None
        See ``spec``.
    classifier : bool
        False for regressors and for classifiers whose scores are not logits of a probability
        model: ``output="probabilities"`` then raises ``ValueError``.
    what : str
        How to refer to the model in error messages.
    head_name : str
        Name of the layers this function adds (helper layers get ``f"{head_name}/..."``).

    Examples
    --------
    >>> spec = NetworkSpec(input_shape=(3,))
    >>> _ = spec.add("dense", "fc", weight=np.ones((1, 3), np.float32), bias=np.zeros(1))
    >>> probs = apply_output(spec, "probabilities")
    >>> [layer.kind for layer in probs.layers], probs.layers[0].weights["weight"].shape
    (['dense', 'softmax'], (2, 3))
    """
    output = check_output(output)
    if head == _AUTO:
        if output == "model":
            return spec
        body, head, existing = split_head(spec)
    else:
        if head not in HEADS:
            raise ValueError(f"head: expected one of {HEADS}, got {head!r}")
        body, existing = spec, None
    if output == "logits":
        result = _copy(body)
        if not result.layers:
            result.add("identity", "logits")
        return result
    if output == "probabilities":
        if head is None and not classifier:
            raise ValueError(
                f"output: 'probabilities' is not available for {what}, which does not output "
                "class scores of a probability model; use output='model' or output='logits'"
            )
        if head in (None, "sigmoid") and output_width(body) == 1:
            head, existing = "binary", None
        elif head in (None, "log_softmax"):
            head, existing = "softmax", None
    return _attach(_copy(body), head, existing or head_name)


def _copy(spec: NetworkSpec) -> NetworkSpec:
    """A copy of ``spec`` whose layer list and layer records may be changed freely."""
    layers = [copy.copy(layer) for layer in spec.layers]
    return NetworkSpec(tuple(spec.input_shape), layers, list(spec.inputs))


def _attach(spec: NetworkSpec, head: str | None, name: str) -> NetworkSpec:
    """Append ``head`` named ``name`` to the logits network ``spec`` (modified and returned)."""
    if head is None:
        return spec
    if head in _PROBABILITY_KINDS:
        spec.add(head, name)
    elif head == "binary":
        _prepend_zero_logit(spec, name)
        spec.add("softmax", name)
    elif head == "ovr":
        # sigmoid(z_k) / sum_j sigmoid(z_j) == softmax(log_sigmoid(z))_k and
        # log_sigmoid(z) = -softplus(-z).
        negate = -np.eye(output_width(spec), dtype=np.float32)
        spec.add("dense", f"{name}/negate", weight=negate, bias=None)
        spec.add("softplus", f"{name}/softplus", params={"beta": 1.0, "threshold": 20.0})
        spec.add("dense", f"{name}/log_sigmoid", weight=negate, bias=None)
        spec.add("softmax", name)
    else:  # pragma: no cover - guarded by apply_output
        raise ValueError(f"head: unknown head {head!r}")
    return spec


def _prepend_zero_logit(spec: NetworkSpec, name: str) -> None:
    """Turn a one-column logits network into the two columns ``[0, z]``."""
    last = spec.layers[-1] if spec.layers else None
    if last is not None and last.kind == "dense" and last.weights["weight"].shape[0] == 1:
        weight = last.weights["weight"]
        bias = last.weights.get("bias")
        zero = np.zeros_like(weight)
        new_weights = {"weight": np.ascontiguousarray(np.vstack([zero, weight]))}
        new_weights["bias"] = (
            None if bias is None else np.concatenate([np.zeros(1, np.float32), bias])
        )
        spec.layers[-1] = LayerSpec(
            last.kind, last.name, list(last.inputs), dict(last.params), new_weights
        )
    else:
        spec.add(
            "dense", f"{name}/zero_logit", weight=np.array([[0.0], [1.0]], np.float32), bias=None
        )
