"""``from_torch`` for modules ``torch.fx`` cannot trace: through their ONNX export.

A forward that reads its inputs' shapes and branches or slices on them (Hugging Face
transformers: ``BertForSequenceClassification`` and its kin) or that is wrapped by a decorator
taking ``*args, **kwargs`` cannot be traced symbolically. Such a module is exported with
``torch.onnx.export`` (the TorchScript exporter, ``dynamo=False``, opset 17, a dynamic batch axis)
into memory and translated by ``from_onnx``, which fuses the exporter's patterns (attention,
LayerNorm, GELU, masks) back into native layers. The TorchScript exporter runs the forward once on
example inputs, so shape-dependent code is fixed for the given ``input_shape`` (an attention
mask's values stay inputs of the graph), and so would be a branch on the inputs' values: the
translated network is therefore checked against the module on other inputs (random ids within
the vocabulary, masks of 0 and 1, normal floats), and refused if they disagree.

The native model takes the inputs under the names of ``forward``'s arguments; its layers are
named after the ONNX nodes, the module path and the op (``"/bert/embeddings/word_embeddings/
Gather"`` is BERT's word embedding, the layer for ``LayerIntegratedGradients``). A warning says
which path was taken. Without the ``onnx`` package, or without a known input shape, the tracing
error is raised as it is.
"""

from __future__ import annotations

import contextlib
import importlib.util
import inspect
import io
import warnings
from typing import TYPE_CHECKING, Any

import numpy as np

from glassbox.errors import UnsupportedLayerError
from glassbox.models.native import NativeModel
from glassbox.models.output_head import apply_output

if TYPE_CHECKING:
    import torch

#: The batch of the example inputs the exporter runs the forward on.
EXAMPLE_ROWS = 2


def through_onnx(
    module: torch.nn.Module,
    shape: Any,
    example_input: Any,
    error: UnsupportedLayerError,
    *,
    output: str,
    feature_names: Any,
    output_names: Any,
) -> NativeModel | None:
    """``module`` exported to ONNX and translated by ``from_onnx`` (the other arguments are
    ``from_torch``'s), or None where the export cannot be tried: no ``onnx`` package, or no
    per-sample shape (``shape`` None). ``error`` is the tracing error, kept as the cause of any
    error raised here."""
    if shape is None or importlib.util.find_spec("onnx") is None:
        return None
    import torch

    from glassbox.models.onnx_adapter import from_onnx

    inputs = _examples(module, shape, example_input)
    reason = (
        f"module: {type(module).__name__} could not be traced with torch.fx ({error.__cause__})"
    )
    names = list(inputs)
    buffer = io.BytesIO()
    try:
        with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):
            warnings.simplefilter("ignore")  # the exporter's tracer and deprecation warnings
            torch.onnx.export(
                module,
                (),
                buffer,
                kwargs=inputs,
                input_names=names,
                output_names=["output"],
                dynamic_axes={name: {0: "batch"} for name in [*names, "output"]},
                opset_version=17,
                dynamo=False,
            )
    except Exception as exc:
        raise UnsupportedLayerError(
            f"{reason}, and its ONNX export (torch.onnx.export, dynamo=False), glassbox's way "
            f"for such modules, failed too ({type(exc).__name__}: {exc}); pass "
            "example_input= with valid inputs if the example inputs built from input_shape "
            "(ids 0, masks 1, floats 0) do not suit the module"
        ) from exc
    shapes = {name: tuple(int(d) for d in value.shape[1:]) for name, value in inputs.items()}
    try:
        model = from_onnx(buffer.getvalue(), input_shape=shapes)
    except UnsupportedLayerError as exc:
        raise UnsupportedLayerError(
            f"{reason}; exported to ONNX instead (torch.onnx.export, dynamo=False), its graph has "
            f"nodes glassbox cannot translate: {exc}"
        ) from exc
    _check_export(module, model, inputs, reason, error)
    spec = apply_output(model.spec, output, what=f"this {type(module).__name__}")
    model = NativeModel(spec, feature_names=feature_names, output_names=output_names)
    warnings.warn(
        f"from_torch: {type(module).__name__} could not be traced with torch.fx, so it was "
        "exported with torch.onnx.export (dynamo=False) and translated by from_onnx: its layers "
        "are named after the ONNX nodes (e.g. '/bert/embeddings/word_embeddings/Gather'; see "
        "model.layer_names)",
        UserWarning,
        stacklevel=3,
    )
    return model


def _examples(module: torch.nn.Module, shape: Any, example_input: Any) -> dict[str, Any]:
    """Example inputs by ``forward``'s argument names, in its order: ``example_input`` as it is
    given, else batches of ``shape`` (a tuple, a tuple of tuples in argument order, or a dict by
    name) holding 1 in masks, 0 in ids (both int64) and 0.0 elsewhere."""
    import torch

    parameters = _arguments(module)
    single = isinstance(shape, tuple) and all(isinstance(d, int) for d in shape)
    given = example_input if example_input is not None else (shape,) if single else shape
    if isinstance(given, dict):
        unknown = [name for name in given if name not in parameters]
        if unknown:
            raise ValueError(
                f"input_shape: {unknown} are not arguments of {type(module).__name__}.forward "
                f"({parameters})"
            )
        named = {name: given[name] for name in parameters if name in given}
    else:
        items = list(given) if isinstance(given, (tuple, list)) else [given]
        if len(items) > len(parameters):
            raise ValueError(
                f"input_shape: {len(items)} inputs for {type(module).__name__}.forward, which "
                f"takes {parameters}"
            )
        named = dict(zip(parameters, items, strict=False))  # the first arguments
    if example_input is not None:
        return {name: torch.as_tensor(value) for name, value in named.items()}
    return {name: _example(name, tuple(value)) for name, value in named.items()}


def _arguments(module: torch.nn.Module) -> list[str]:
    """The names of ``module.forward``'s arguments; a TorchScript module (``torch.jit.load``)
    has no Python signature, so its compiled schema names them (after ``self``)."""
    schema = getattr(module.forward, "schema", None)
    if schema is not None:
        return [argument.name for argument in schema.arguments if argument.name != "self"]
    return [
        p.name
        for p in inspect.signature(module.forward).parameters.values()
        if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)
    ]


def _example(name: str, shape: tuple[int, ...]) -> Any:
    import torch

    size = (EXAMPLE_ROWS, *shape)
    lowered = name.lower()
    if "mask" in lowered:
        return torch.ones(size, dtype=torch.long)
    if "ids" in lowered or lowered.endswith("_id") or "token" in lowered:
        return torch.zeros(size, dtype=torch.long)
    return torch.zeros(size)


def _check_export(
    module: torch.nn.Module,
    model: NativeModel,
    examples: dict[str, Any],
    reason: str,
    error: Exception,
) -> None:
    """Raise if ``model`` and ``module`` (in eval mode) disagree on a batch other than the
    example: the export fixed a branch on the example's values."""
    import torch

    varied = _varied(model, examples)
    modes = {m: m.training for m in module.modules()}
    try:
        module.eval()
        with torch.no_grad():
            expected = _first_tensor(module(**varied)).detach().cpu().numpy()
    finally:
        for m, training in modes.items():
            m.training = training
    expected = expected.reshape(len(expected), -1).astype(np.float64)
    if not np.isfinite(expected).all():
        return  # inputs this module does not take (a log of a negative float): no verdict
    batch = tuple(value.numpy() for value in varied.values())
    got = model.predict(batch if model.inputs else batch[0])
    scale = max(float(np.abs(expected).max()), 1e-6)
    if got.shape != expected.shape or np.abs(got - expected).max() > 1e-3 * scale:
        raise UnsupportedLayerError(
            f"{reason}; its ONNX export (torch.onnx.export, dynamo=False) runs the forward once "
            "on example inputs and fixes every branch taken on their values; the exported graph "
            f"does not reproduce {type(module).__name__} on other inputs, so its forward "
            "branches on input values (if x.sum() > 0: ...); use glassbox.wrap for "
            "model-agnostic methods"
        ) from error


def _varied(model: NativeModel, examples: dict[str, Any]) -> dict[str, Any]:
    """A batch like ``examples`` of other values: ids drawn within the vocabulary of the
    embedding that reads them, masks of 0 and 1 (the first position 1), normal floats."""
    import torch

    spec = model.spec
    vocabulary = {
        layer.inputs[0]: int(np.asarray(layer.weights["weight"]).shape[0])
        for layer in reversed(spec.layers)
        if layer.kind == "embedding" and len(layer.inputs) == 1
    }
    rng = np.random.default_rng(0)
    varied = {}
    for k, (name, value) in enumerate(examples.items()):
        shape = tuple(value.shape)
        key = k if spec.inputs else -1  # the k-th named input is the k-th layer
        if key in vocabulary:
            array = rng.integers(0, vocabulary[key], size=shape)
        elif not value.is_floating_point():
            array = rng.integers(0, 2, size=shape)
            array.reshape(shape[0], -1)[:, 0] = 1
        else:
            array = rng.normal(size=shape)
        varied[name] = torch.as_tensor(array, dtype=value.dtype)
    return varied


def _first_tensor(output: Any) -> Any:
    """The first tensor of a module's output (a tensor, a tuple, a dict or ModelOutput)."""
    if isinstance(output, dict):
        output = next(iter(output.values()))
    elif isinstance(output, (tuple, list)):
        output = output[0]
    return _first_tensor(output) if isinstance(output, (dict, tuple, list)) else output
