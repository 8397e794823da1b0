"""Layer and neuron attribution with Captum's semantics: LayerIntegratedGradients,
LayerGradientXActivation, NeuronIntegratedGradients. Each is one core call of the gradient loop
with the points entering at a layer (or the seed sitting at one); docs/methods.md has the
formulas.

The layer is a name of ``model.layer_names`` (the torch module's name, the ONNX node's name, the
Keras layer's name) or its position. For text models the usual layer is the embedding: its
attributions have the layer's shape ``(n, T, D)``; ``values.sum(-1)`` gives one score per token.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from glassbox import _core
from glassbox._validation import check_choice, check_int
from glassbox.explainers.base import Explainer
from glassbox.explainers.gradients import IG_METHODS, check_path
from glassbox.explanation import Explanation
from glassbox.inspect._network import layer_index
from glassbox.models.inputs import baseline_rows
from glassbox.models.native import NativeModel
from glassbox.progress import ProgressArg


class _LayerExplainer(Explainer):
    """What the layer methods share: the layer, resolved once, and where the points enter."""

    attributes_inputs = False  # values are the layer's
    attribute_to_input: bool = False

    def _setup(self) -> None:
        model: NativeModel = self.model  # type: ignore[assignment]
        self.layer_index = layer_index(model, self.layer)
        self.entry_slot = -1
        shapes = model.network.layer_shapes
        self.entry_shape = tuple(int(s) for s in shapes[self.layer_index])
        if self.attribute_to_input:
            sources = model.spec.layers[self.layer_index].inputs
            if len(sources) != 1:
                raise ValueError(
                    f"layer: {self.layer!r} reads {len(sources)} inputs; attributions to a "
                    "layer's input need a layer of one input (attribute to the output of the "
                    "layer computing the input you mean instead)"
                )
            self.entry_slot = 0
            source = sources[0]
            self.entry_shape = (
                tuple(model.input_shape) if source < 0 else tuple(int(s) for s in shapes[source])
            )

    def _layer_explanation(
        self, flat: np.ndarray, result: Any, targets: np.ndarray, **options: Any
    ) -> Explanation:
        values = np.asarray(result.values).reshape(flat.shape[0], *self.entry_shape)
        fields = {
            "base_values": result.base_values,
            "delta": result.delta,
            "feature_names": None,
        }
        return self._explanation(
            flat, values, targets, reshape=False, options=options or None, by_input=False, **fields
        )


class LayerIntegratedGradients(_LayerExplainer):
    """Integrated gradients in a layer's values (Captum's ``LayerIntegratedGradients``).

    The layer's output (or, with ``attribute_to_layer_input``, its input) runs along the straight
    line from its value at the baselines to its value at ``X`` while every other part of the
    network reads ``X`` (so a mask input, or position embeddings added after the layer, keep
    their values); the attributions are ``(a(x) - a(b)) * mean_k grad``, one per element of the
    layer, and ``delta`` is the completeness gap along that path.

    Parameters
    ----------
    model : NativeModel
    layer : str or int
        A name of ``model.layer_names`` (for text models typically the word embedding) or its
        position.
    n_steps : int, default 50
    method : str, default "gausslegendre"
        As ``IntegratedGradients``.
    attribute_to_layer_input : bool, default False
        Attribute to what the layer reads instead of what it computes (Captum's option).
    n_threads, memory_budget, progress
        As every explainer.

    Examples
    --------
    A bag of embeddings: the attributions of each token's embedding add up to the change of
    the logit from the all-padding sequence (``delta`` is the gap):

    >>> import numpy as np, glassbox as gb
    >>> from glassbox.models.spec import NetworkSpec
    >>> rng = np.random.default_rng(0)
    >>> spec = NetworkSpec(input_shape=(4,))
    >>> _ = spec.add("embedding", "emb", weight=rng.normal(size=(10, 3)), params={"padding_idx": 0})
    >>> _ = spec.add("reduce_mean", "pool", params={"axes": (0,)})
    >>> _ = spec.add("dense", "fc", weight=rng.normal(size=(2, 3)), bias=np.zeros(2))
    >>> _ = spec.add("tanh", "act")
    >>> model = gb.build_network(spec)
    >>> exp = gb.LayerIntegratedGradients(model, "emb")(np.array([[3, 5, 2, 0]]), target=1)
    >>> exp.values.shape, exp.values.sum(-1).shape, bool(abs(exp.delta).max() < 1e-4)
    ((1, 4, 3), (1, 4), True)
    """

    method_name = "layer_integrated_gradients"

    def __init__(
        self,
        model: NativeModel,
        layer: str | int,
        *,
        n_steps: int = 50,
        method: str = "gausslegendre",
        attribute_to_layer_input: bool = False,
        n_threads: int | None = None,
        memory_budget: int | None = None,
        progress: ProgressArg = None,
    ) -> None:
        self.layer = layer
        self.method, self.n_steps = check_path(method, n_steps)
        self.attribute_to_layer_input = bool(attribute_to_layer_input)
        self.attribute_to_input = self.attribute_to_layer_input
        super().__init__(model, n_threads=n_threads, memory_budget=memory_budget, progress=progress)

    def __call__(self, X: object, baselines: object = None, target: object = None) -> Explanation:
        """Attributions of the target output to the layer for each row of ``X``.

        ``X``: a batch, or for a model of several inputs a tuple / dict of batches.
        ``baselines``: None (token ids: the embedding's padding token; masks and other integer
        inputs: their values in X; real inputs: 0), a number or array, or per input a tuple /
        dict of those (None entries take the default).
        """
        _, flat, targets = self._inputs(X, target)
        base = baseline_rows(self.model, flat, baselines)
        self.model.rows(_split_like(self.model, base), "baselines")  # ids in the vocabulary
        result = self._call_core(
            _core.path_integrated_gradients,
            flat,
            baselines=base,
            targets=targets,
            method=self.method,
            n_steps=self.n_steps,
            entry_layer=self.layer_index,
            entry_slot=self.entry_slot,
        )
        return self._layer_explanation(flat, result, targets)


class LayerGradientXActivation(_LayerExplainer):
    """The gradient of the target output with respect to a layer, times the layer's values
    (Captum's ``LayerGradientXActivation``); ``multiply_by_inputs=False`` gives the gradient.

    Examples
    --------
    >>> import numpy as np, glassbox as gb
    >>> spec = gb.NetworkSpec(input_shape=(2,))
    >>> _ = spec.add("dense", "fc", weight=np.array([[1.0, 2.0], [0.0, 1.0]]), bias=None)
    >>> _ = spec.add("dense", "out", weight=np.array([[3.0, -1.0]]), bias=None)
    >>> gb.LayerGradientXActivation(gb.build_network(spec), "fc")(np.array([[1.0, 1.0]])).values
    array([[ 9., -1.]], dtype=float32)
    """

    method_name = "layer_gradient_x_activation"

    def __init__(
        self,
        model: NativeModel,
        layer: str | int,
        *,
        multiply_by_inputs: bool = True,
        attribute_to_layer_input: bool = False,
        n_threads: int | None = None,
        memory_budget: int | None = None,
        progress: ProgressArg = None,
    ) -> None:
        self.layer = layer
        self.multiply_by_inputs = bool(multiply_by_inputs)
        self.attribute_to_layer_input = bool(attribute_to_layer_input)
        self.attribute_to_input = self.attribute_to_layer_input
        super().__init__(model, n_threads=n_threads, memory_budget=memory_budget, progress=progress)

    def __call__(self, X: object, target: object = None) -> Explanation:
        _, flat, targets = self._inputs(X, target)
        result = self._call_core(
            _core.layer_gradient_x_activation,
            flat,
            targets=targets,
            entry_layer=self.layer_index,
            entry_slot=self.entry_slot,
            gradient_only=not self.multiply_by_inputs,
        )
        return self._layer_explanation(flat, result, targets)


class LayerConductance(_LayerExplainer):
    """Conductance of each element of a layer (Dhamdhere et al., 2018; Captum's
    ``LayerConductance``): along the straight path from the baselines to ``X``, the flow of the
    target output through the element, ``sum_k d f / d y_j(alpha_k) (y_j(alpha_{k+1}) -
    y_j(alpha_k))`` over ``n_steps + 1`` points of ``method`` (Captum's discretisation).

    The path runs in the model's input, or with ``path_layer`` in the values of an earlier layer
    (for a text model, its embedding: token ids have no straight path); every other layer reads
    ``X``. The layer's conductances add up to f(x) - f(baseline) up to ``delta``.

    Examples
    --------
    >>> import numpy as np, glassbox as gb
    >>> spec = gb.NetworkSpec(input_shape=(2,))
    >>> _ = spec.add("dense", "fc", weight=np.array([[1.0, 2.0], [0.0, 1.0]]), bias=None)
    >>> _ = spec.add("dense", "out", weight=np.array([[3.0, -1.0]]), bias=None)
    >>> model = gb.build_network(spec)
    >>> exp = gb.LayerConductance(model, "fc", n_steps=4, method="riemann_trapezoid")
    >>> exp(np.array([[1.0, 1.0]])).values  # linear: (y(x) - y(0)) * dF/dy with ends 0 and 1
    array([[ 9., -1.]], dtype=float32)
    """

    method_name = "layer_conductance"

    def __init__(
        self,
        model: NativeModel,
        layer: str | int,
        *,
        n_steps: int = 50,
        method: str = "gausslegendre",
        path_layer: str | int | None = None,
        n_threads: int | None = None,
        memory_budget: int | None = None,
        progress: ProgressArg = None,
    ) -> None:
        self.layer = layer
        self.method = check_choice(method, "method", IG_METHODS)
        self.n_steps = check_int(n_steps, "n_steps", 1)
        self.path_layer = path_layer
        super().__init__(model, n_threads=n_threads, memory_budget=memory_budget, progress=progress)

    def _setup(self) -> None:
        super()._setup()
        self.path_index = (
            -1
            if self.path_layer is None
            else layer_index(self.model, self.path_layer, "path_layer")  # type: ignore[arg-type]
        )
        if self.path_index >= self.layer_index:
            raise ValueError(
                f"path_layer: {self.path_layer!r} must come before the layer {self.layer!r} "
                "(the path runs in its values and the conductance is measured after it)"
            )

    def __call__(self, X: object, baselines: object = None, target: object = None) -> Explanation:
        """As ``LayerIntegratedGradients.__call__``."""
        _, flat, targets = self._inputs(X, target)
        base = baseline_rows(self.model, flat, baselines)
        result = self._call_core(
            _core.layer_conductance,
            flat,
            baselines=base,
            targets=targets,
            method=self.method,
            n_steps=self.n_steps,
            layer=self.layer_index,
            path_layer=self.path_index,
        )
        return self._layer_explanation(flat, result, targets)


class NeuronIntegratedGradients(Explainer):
    """Integrated gradients of one neuron of a hidden layer with respect to the inputs
    (Captum's ``NeuronIntegratedGradients``).

    ``neuron_selector`` is the neuron's index in the layer's per-sample shape (an int for a
    vector layer, a tuple otherwise), one for every row or one per row. With
    ``attribute_to_neuron_input`` the neuron is an element of what the layer reads.

    Examples
    --------
    >>> import numpy as np, glassbox as gb
    >>> spec = gb.NetworkSpec(input_shape=(2,))
    >>> _ = spec.add("dense", "fc", weight=np.array([[1.0, 2.0], [3.0, 4.0]]), bias=None)
    >>> _ = spec.add("dense", "out", weight=np.ones((1, 2)), bias=None)
    >>> exp = gb.NeuronIntegratedGradients(gb.build_network(spec), "fc")
    >>> exp(np.array([[1.0, 1.0]]), neuron_selector=1).values  # neuron 1 = 3 x0 + 4 x1
    array([[3., 4.]], dtype=float32)
    """

    method_name = "neuron_integrated_gradients"

    def __init__(
        self,
        model: NativeModel,
        layer: str | int,
        *,
        n_steps: int = 50,
        method: str = "gausslegendre",
        attribute_to_neuron_input: bool = False,
        n_threads: int | None = None,
        memory_budget: int | None = None,
        progress: ProgressArg = None,
    ) -> None:
        self.layer = layer
        self.method, self.n_steps = check_path(method, n_steps)
        self.attribute_to_neuron_input = bool(attribute_to_neuron_input)
        super().__init__(model, n_threads=n_threads, memory_budget=memory_budget, progress=progress)

    def _setup(self) -> None:
        model: NativeModel = self.model  # type: ignore[assignment]
        self.seed_layer = layer_index(model, self.layer)
        if self.attribute_to_neuron_input:
            sources = model.spec.layers[self.seed_layer].inputs
            if len(sources) != 1 or sources[0] < 0:
                raise ValueError(
                    f"layer: attribute_to_neuron_input needs a layer reading one other layer; "
                    f"{self.layer!r} reads {sources}"
                )
            self.seed_layer = sources[0]
        self.neuron_shape = tuple(int(s) for s in model.network.layer_shapes[self.seed_layer])

    def _neurons(self, selector: object, n_rows: int) -> np.ndarray:
        """Flat neuron indices per row from ``neuron_selector``."""
        array = np.asarray(selector)
        if array.dtype.kind not in "iu":
            raise TypeError(f"neuron_selector: expected integer indices, got {selector!r}")
        rank = len(self.neuron_shape)
        if array.ndim == 0 and rank == 1:
            array = array.reshape(1)
        if array.ndim == 1 and array.shape[0] == rank:
            array = np.broadcast_to(array, (n_rows, rank))
        elif array.ndim == 1 and rank == 1 and array.shape[0] == n_rows:
            array = array[:, None]
        if array.shape != (n_rows, rank):
            raise ValueError(
                f"neuron_selector: expected an index into the layer's shape {self.neuron_shape} "
                f"(one for every row, or one per row), got {selector!r}"
            )
        if (array < 0).any() or (array >= np.array(self.neuron_shape)).any():
            raise ValueError(
                f"neuron_selector: {selector!r} is outside the layer's shape {self.neuron_shape}"
            )
        return np.ravel_multi_index(tuple(array.T), self.neuron_shape).astype(np.int32)

    def __call__(self, X: object, neuron_selector: object, baselines: object = None) -> Explanation:
        batch, flat, _ = self._inputs(X, 0)  # the seed is a neuron, not an output
        neurons = self._neurons(neuron_selector, flat.shape[0])
        base = baseline_rows(self.model, flat, baselines, tokens="own")  # a path in the inputs
        result = self._call_core(
            _core.path_integrated_gradients,
            flat,
            baselines=base,
            targets=neurons,
            method=self.method,
            n_steps=self.n_steps,
            seed_layer=self.seed_layer,
        )
        values = np.asarray(result.values).reshape(batch.shape)
        return self._explanation(
            batch, values, None, reshape=False, base_values=result.base_values, delta=result.delta
        )


def _split_like(model: NativeModel, flat: np.ndarray) -> object:
    """Flat rows as ``model.rows`` takes them back (a tuple per input, or the batch)."""
    if not model.inputs:
        return flat.reshape(flat.shape[0], *model.input_shape)
    from glassbox.models.inputs import unpack

    return tuple(unpack(model.inputs, flat))
