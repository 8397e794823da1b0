"""NativeModel: a network running in the compiled engine, built once from a NetworkSpec."""

from __future__ import annotations

import math
import os
from collections.abc import Callable
from typing import Any

import numpy as np

from glassbox import _core, saving
from glassbox._validation import as_batch, check_threads
from glassbox.data import read_array
from glassbox.models.inputs import check_embedding_ids, pack
from glassbox.models.layers import LAYERS, check_size
from glassbox.models.spec import InputSpec, LayerSpec, NetworkSpec, spec_from_dict, spec_to_dict

#: Builds the spec of a model whose per-sample input shape became known (a lazy model).
SpecFactory = Callable[[tuple[int, ...]], NetworkSpec]


def _float(value: Any) -> float:
    """``float(value)``; an int beyond float's range is +-inf (the core reports it with the
    parameter's allowed range) rather than an OverflowError."""
    try:
        return float(value)
    except OverflowError:
        return math.inf if value > 0 else -math.inf


def _scalars(params: dict[str, Any]) -> dict[str, float]:
    """Numbers (bools as 0/1) as they are; a sequence ``key=(a, b)`` as ``key.0``, ``key.1`` and
    ``key.rank`` (how the core reads stride, padding, kernel, shape, ...). Strings are dropped."""
    scalars: dict[str, float] = {}
    for key, value in params.items():
        if isinstance(value, (bool, np.bool_, int, float, np.integer, np.floating)):
            scalars[key] = _float(value)
        elif isinstance(value, (list, tuple, np.ndarray)):
            items = [_float(item) for item in np.asarray(value).ravel()]
            scalars[f"{key}.rank"] = float(len(items))
            scalars.update({f"{key}.{i}": item for i, item in enumerate(items)})
    return scalars


def _input_shape(spec: NetworkSpec) -> list[int]:
    """The spec's per-sample input shape as ints, checked against ``MAX_ACTIVATION_SIZE``."""
    dims = spec.input_shape
    if not isinstance(dims, (tuple, list)) or not all(
        isinstance(d, (int, np.integer)) and not isinstance(d, (bool, np.bool_)) for d in dims
    ):
        raise TypeError(f"spec: input_shape must be a tuple of ints, got {dims!r}")
    return list(check_size(dims, "spec: input_shape"))


def _layer_arguments(
    layer: LayerSpec, index: int
) -> tuple[str, list[int], dict[str, float], dict[str, np.ndarray]]:
    """What ``_core.Network.add_layer`` takes for spec layer ``index``, after checking the types
    a spec from an untrusted source (a pickle) may get wrong; the core checks the rest (kinds'
    parameters, shapes, geometry, finite weights) and names the layer in its errors."""
    if not isinstance(layer, LayerSpec) or not isinstance(layer.name, str):
        raise TypeError(f"spec: layer {index} must be a LayerSpec with a str name, got {layer!r}")
    where = f"layer {layer.name!r}"
    if not isinstance(layer.kind, str) or layer.kind not in LAYERS:
        raise ValueError(f"{where}: unknown kind {layer.kind!r}; known: {', '.join(LAYERS)}")
    inputs = layer.inputs
    if (
        not isinstance(inputs, (list, tuple))
        or not inputs
        or not all(isinstance(i, (int, np.integer)) and not isinstance(i, bool) for i in inputs)
        or not all(-1 <= i < index for i in inputs)
    ):
        raise ValueError(
            f"{where}: inputs must be a non-empty list of -1 (the network input) or indices of "
            f"earlier layers (below {index}), got {inputs!r}"
        )
    if not isinstance(layer.params, dict) or not isinstance(layer.weights, dict):
        raise TypeError(f"{where}: params and weights must be dicts")
    defaults = LAYERS[layer.kind].params
    for key, value in layer.params.items():  # the core drops strings: a wrong one would vanish
        if isinstance(value, str) and not isinstance(defaults.get(key), str):
            raise TypeError(f"{where}: parameter {key!r} must be a number, got {value!r}")
    try:
        scalars = _scalars(layer.params)
        kind = LAYERS[layer.kind].native_kind(layer.params)
    except (TypeError, ValueError) as error:
        raise TypeError(
            f"{where}: params must be numbers or sequences of numbers ({error})"
        ) from None
    arrays: dict[str, np.ndarray] = {}
    for key, value in layer.weights.items():
        if value is None:
            continue
        array = np.asarray(value) if isinstance(value, np.ndarray) else None
        if array is None or array.dtype.kind not in "biuf" or not isinstance(key, str):
            raise TypeError(
                f"{where}: weight {key!r} must be a numeric NumPy array, got "
                f"{getattr(value, 'dtype', type(value).__name__)}"
            )
        with np.errstate(over="ignore", invalid="ignore"):  # out of float32 range: inf, rejected
            arrays[key] = np.ascontiguousarray(array, dtype=np.float32)
    return kind, [int(i) for i in inputs], scalars, arrays


def _compile(spec: NetworkSpec) -> _core.Network:
    """The frozen core network of ``spec`` (read-only: see ``NativeModel.network``)."""
    if not isinstance(spec, NetworkSpec) or not isinstance(spec.layers, list):
        raise TypeError(f"spec: expected a NetworkSpec, got {type(spec).__name__}")
    network = _core.Network(_input_shape(spec))
    for index, layer in enumerate(spec.layers):
        kind, inputs, scalars, arrays = _layer_arguments(layer, index)
        network.add_layer(kind, layer.name, inputs, scalars, arrays)
    network.freeze()
    return network


class NativeModel:
    """A model the compiled engine evaluates, with gradients: every explainer accepts it.

    Build it with an adapter (``glassbox.from_torch``, ``from_sklearn``, ``from_onnx``,
    ``from_keras``) or from a ``NetworkSpec`` with ``build_network``. It pickles by its spec;
    unpickling checks the spec like a model file (``TypeError`` for wrong types,
    ``ValueError`` naming the layer for invalid kinds, inputs, geometry, sizes or non-finite
    weights), though, as with any pickle, load only pickles you trust. Its compiled
    ``network`` is frozen: build a new model instead of changing one.

    Examples
    --------
    >>> import numpy as np
    >>> from glassbox.models.spec import NetworkSpec
    >>> spec = NetworkSpec(input_shape=(2,))
    >>> _ = spec.add("dense", "fc", weight=np.array([[1.0, -1.0]]), bias=np.array([0.5]))
    >>> build_network(spec).predict(np.array([[2.0, 1.0]]))
    array([[1.5]], dtype=float32)
    """

    def __init__(
        self,
        spec: NetworkSpec | None = None,
        *,
        feature_names: list[str] | None = None,
        output_names: list[str] | None = None,
        factory: SpecFactory | None = None,
        what: str = "model",
    ) -> None:
        if (spec is None) == (factory is None):
            raise TypeError("NativeModel: pass either a spec or a factory")
        self.feature_names = None if feature_names is None else [str(f) for f in feature_names]
        self.output_names = None if output_names is None else [str(o) for o in output_names]
        self._factory = factory
        self._what = what
        self._spec: NetworkSpec | None = None
        self._network: _core.Network | None = None
        if spec is not None:
            self._compile(spec)

    def _compile(self, spec: NetworkSpec) -> None:
        network = _compile(spec)
        self._spec, self._network = spec, network
        self._factory = None
        if self.feature_names is not None and len(self.feature_names) != self.n_inputs:
            raise ValueError(
                f"feature_names: expected {self.n_inputs} names, got {len(self.feature_names)}"
            )
        if self.output_names is not None and len(self.output_names) != self.n_outputs:
            raise ValueError(
                f"output_names: expected {self.n_outputs} names, got {len(self.output_names)}"
            )

    @property
    def built(self) -> bool:
        """False until a lazy model (a CNN converted without ``input_shape``) has seen data."""
        return self._network is not None

    def build(self, sample_shape: tuple[int, ...]) -> None:
        """Build a lazy model for samples of ``sample_shape`` (the shape of ``X[0]``).

        Every explainer and ``predict`` call this with the first batch they are given; a built
        model only checks that the shape is its own.
        """
        shape = tuple(int(s) for s in sample_shape)
        if self._factory is None:
            if shape != self.input_shape:
                raise ValueError(f"X: expected samples of shape {self.input_shape}, got {shape}")
            return
        if not shape or any(s < 1 for s in shape):
            raise ValueError(f"X: expected a batch with a per-sample shape, got samples {shape}")
        self._compile(self._factory(shape))

    def _built(self) -> tuple[NetworkSpec, _core.Network]:
        if self._spec is None or self._network is None:
            raise ValueError(
                f"model: the input shape of this {self._what} is not known yet; it is taken from "
                "the first batch the model is given (model.predict(X) or any explainer call with "
                "X of shape (n, C, H, W)), or pass input_shape= to the adapter"
            )
        return self._spec, self._network

    @property
    def spec(self) -> NetworkSpec:
        """The framework-neutral description the native network was compiled from."""
        return self._built()[0]

    @property
    def network(self) -> _core.Network:
        """The compiled core network. It is frozen: explainers read it from many threads at
        once, so ``add_layer`` on it raises ``ValueError``; build a new model instead."""
        return self._built()[1]

    @property
    def input_shape(self) -> tuple[int, ...]:
        """The per-sample input shape (``(C, H, W)`` or ``(F,)``)."""
        return tuple(int(s) for s in self.spec.input_shape)

    @property
    def n_inputs(self) -> int:
        """Features per sample (the product of ``input_shape``)."""
        return int(self.network.n_inputs)

    @property
    def n_outputs(self) -> int:
        """Outputs per sample."""
        return int(self.network.n_outputs)

    @property
    def inputs(self) -> list[InputSpec]:
        """The named inputs of a model with several (``input_ids`` and ``attention_mask``), in
        the order ``predict`` takes them; empty for a model of one input."""
        return list(self.spec.inputs) if self.built else []

    def rows(self, X: object, name: str = "X") -> np.ndarray:
        """``X`` as the flat float32 rows (n, n_inputs) the core reads, checked: a batch of
        ``input_shape`` samples, or for a model with several inputs a tuple / dict of one batch
        per input. Token ids are checked against the embeddings' vocabularies."""
        if self.built and self.inputs:
            flat = pack(self.inputs, X, name)
        else:
            X = read_array(X)  # through __array__ only (a DataFrame's numbers too)
            if not self.built:
                self.build(X.shape[1:])
            batch = as_batch(X, self.input_shape, name)
            flat = batch.reshape(batch.shape[0], -1)
        check_embedding_ids(self, flat, name)
        return flat

    @property
    def layer_names(self) -> list[str]:
        """Layer names as the framework named them, in topological order."""
        return list(self.network.layer_names)

    def predict(self, X: object, *, n_threads: int | None = None) -> np.ndarray:
        """Outputs of the network for a batch ``X`` of shape (n, *input_shape), float32; for a
        model with several inputs (``inputs``), a tuple of one batch per input in that order
        or a dict keyed by their names: ``model.predict((input_ids, attention_mask))``."""
        flat = self.rows(X)  # first: it builds a lazy model
        return self.network.predict(flat, check_threads(n_threads))

    def __repr__(self) -> str:
        if not self.built:
            return f"NativeModel({self._what}, input shape not known yet)"
        kinds = ", ".join(layer.kind for layer in self.spec.layers)
        return f"NativeModel(input_shape={self.input_shape}, n_outputs={self.n_outputs}, [{kinds}])"

    def __getstate__(self) -> dict[str, Any]:
        return {
            "spec": self.spec if self.built else None,
            "factory": self._factory,
            "what": self._what,
            "feature_names": self.feature_names,
            "output_names": self.output_names,
        }

    def __setstate__(self, state: dict[str, Any]) -> None:
        # a pickle is untrusted input: check its shape here, the spec when it is compiled
        keys = {"spec", "factory", "what", "feature_names", "output_names"}
        if not isinstance(state, dict) or not {"spec", "feature_names", "output_names"} <= set(
            state
        ):
            raise TypeError(f"NativeModel: invalid pickled state; expected a dict with {keys}")
        factory, what = state.get("factory"), state.get("what", "model")
        if (factory is not None and not callable(factory)) or not isinstance(what, str):
            raise TypeError("NativeModel: invalid pickled state (factory or what)")
        self.__init__(  # type: ignore[misc]
            state["spec"],
            feature_names=state["feature_names"],
            output_names=state["output_names"],
            factory=factory,
            what=what,
        )

    def save(self, path: str | os.PathLike[str]) -> None:
        """Write the model to one file at exactly ``path``; ``glassbox.load(path)`` reads it back.

        The file is an ``.npz`` archive (a zip) holding the weights as ``.npy`` arrays and the
        network spec, names and format version as JSON, never a pickle (see "Saved files" in
        ``docs/architecture.md``). The loaded model predicts and explains bit-identically. A
        lazy model (converted without ``input_shape``) must be built first.

        Examples
        --------
        >>> import os, tempfile, numpy as np, glassbox as gb
        >>> spec = gb.NetworkSpec(input_shape=(3,))
        >>> _ = spec.add("dense", "fc", weight=np.eye(3), bias=None)
        >>> _ = spec.add("relu", "act")
        >>> folder = tempfile.mkdtemp()
        >>> gb.build_network(spec).save(os.path.join(folder, "model.gb"))
        >>> os.listdir(folder), gb.load(os.path.join(folder, "model.gb"))
        (['model.gb'], NativeModel(input_shape=(3,), n_outputs=3, [dense, relu]))
        """
        if not self.built:
            raise ValueError(
                f"model: this {self._what} is not built yet (its input shape comes from the "
                "first batch), so it cannot be saved; build it first with model.predict(X) or "
                "model.build(sample_shape), or pass input_shape= to the adapter"
            )
        state = self.__getstate__()
        del state["factory"]  # None once built
        spec = spec_to_dict(state.pop("spec"))
        saving.write(path, saving.MODEL, {"spec": spec, "state": state})


def model_from_content(content: dict[str, Any], path: str) -> NativeModel:
    """The model a saved file's content describes (``saving.read``), compiled and checked like
    an adapter's; any problem is a ``ValueError`` naming ``path``."""
    try:
        if set(content) != {"spec", "state"} or not isinstance(content["state"], dict):
            raise ValueError("expected content with 'spec' and a 'state' object")
        state = content["state"]
        if {"spec", "factory"} & set(state):
            raise ValueError("state must not hold 'spec' or 'factory'")
        model = NativeModel.__new__(NativeModel)
        model.__setstate__({**state, "spec": spec_from_dict(content["spec"]), "factory": None})
    except (TypeError, ValueError) as error:
        raise ValueError(f"path: {path!r} is not a valid glassbox model: {error}") from None
    return model


def build_network(
    spec: NetworkSpec,
    *,
    feature_names: list[str] | None = None,
    output_names: list[str] | None = None,
) -> NativeModel:
    """Compile a ``NetworkSpec`` into a ``NativeModel``.

    Examples
    --------
    >>> import numpy as np
    >>> from glassbox.models.spec import NetworkSpec
    >>> spec = NetworkSpec(input_shape=(3,))
    >>> _ = spec.add("dense", "fc", weight=np.ones((2, 3)), bias=None)
    >>> build_network(spec).n_outputs
    2
    """
    return NativeModel(spec, feature_names=feature_names, output_names=output_names)
