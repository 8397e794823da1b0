"""Layer-wise relevance propagation: ``gb.LRP(model, composite=...)(X, target=...)``.

The composite (explainers/composites.py) is resolved here into one rule per layer; the core runs
one backward pass per row through the network with those rules (network/lrp_rules.hpp). Before
that, the BatchNorm canonizer folds every batch norm that directly follows a dense / conv layer
(or directly precedes a dense layer) into that layer; the folded network computes the same
function. docs/methods.md has the rules' formulas.
"""

from __future__ import annotations

import copy
from typing import Any

import numpy as np

from glassbox import _core
from glassbox.explainers.base import Explainer
from glassbox.explainers.composites import (
    Composite,
    Graph,
    epsilon_composite,
    make_composite,
    resolve,
)
from glassbox.explanation import Explanation
from glassbox.models.native import NativeModel, build_network
from glassbox.models.shapes import layer_shapes
from glassbox.models.spec import LayerSpec, NetworkSpec
from glassbox.progress import ProgressArg

_AFFINE = ("dense", "conv2d")


def _consumers(spec: NetworkSpec) -> dict[int, list[int]]:
    readers: dict[int, list[int]] = {}
    for index, layer in enumerate(spec.layers):
        for source in layer.inputs:
            readers.setdefault(source, []).append(index)
    return readers


def fold_batch_norms(spec: NetworkSpec) -> NetworkSpec:
    """Canonizer: fold each batch norm into the affine layer next to it.

    A ``batch_norm`` whose only input is a dense/conv layer read by nothing else becomes part of
    that layer (W' = scale * W per output unit, b' = scale * b + shift); one whose output only a
    dense layer reads, on flat features, folds forward (W' = W * scale per input, b' = b + W
    shift). The batch norm stays in the spec as an ``identity`` layer of the same name, so layer
    names and indices do not change. Batch norms that fit neither case are left alone.

    Examples
    --------
    >>> import numpy as np, glassbox as gb
    >>> from glassbox.explainers.lrp import fold_batch_norms
    >>> spec = gb.NetworkSpec(input_shape=(2,))
    >>> _ = spec.add("dense", "fc", weight=np.array([[1.0, 2.0]]), bias=np.array([0.5]))
    >>> _ = spec.add("batch_norm", "bn", scale=np.array([2.0]), shift=np.array([-1.0]))
    >>> folded = fold_batch_norms(spec)
    >>> [layer.kind for layer in folded.layers], folded.layers[0].weights["weight"].tolist()
    (['dense', 'identity'], [[2.0, 4.0]])
    """
    if not any(layer.kind == "batch_norm" for layer in spec.layers):
        return spec
    out = copy.deepcopy(spec)
    readers = _consumers(out)
    shapes = layer_shapes(out)
    for index, layer in enumerate(out.layers):
        # a batch norm scales per-sample axis 0: the output units of a dense layer only on flat
        # vectors (on a sequence (T, D) it would scale positions)
        if layer.kind != "batch_norm" or len(layer.inputs) != 1 or len(shapes[index]) == 2:
            continue
        scale = np.asarray(layer.weights["scale"], dtype=np.float64).reshape(-1)
        shift = np.asarray(layer.weights["shift"], dtype=np.float64).reshape(-1)
        source = layer.inputs[0]
        if source >= 0 and out.layers[source].kind in _AFFINE and readers.get(source) == [index]:
            _fold_after(out.layers[source], scale, shift)
        else:
            after = readers.get(index, [])
            if (
                len(after) != 1
                or out.layers[after[0]].kind != "dense"
                or len(out.layers[after[0]].inputs) != 1
            ):
                continue
            _fold_before(out.layers[after[0]], scale, shift)
        out.layers[index] = LayerSpec("identity", layer.name, list(layer.inputs))
    return out


def _fold_after(affine: LayerSpec, scale: np.ndarray, shift: np.ndarray) -> None:
    weight = np.asarray(affine.weights["weight"], dtype=np.float64)
    bias = affine.weights.get("bias")
    b = np.zeros(weight.shape[0]) if bias is None else np.asarray(bias, dtype=np.float64)
    shape = (-1,) + (1,) * (weight.ndim - 1)
    affine.weights["weight"] = np.ascontiguousarray(weight * scale.reshape(shape), np.float32)
    affine.weights["bias"] = np.ascontiguousarray(b * scale + shift, np.float32)


def _fold_before(dense: LayerSpec, scale: np.ndarray, shift: np.ndarray) -> None:
    weight = np.asarray(dense.weights["weight"], dtype=np.float64)
    bias = dense.weights.get("bias")
    b = np.zeros(weight.shape[0]) if bias is None else np.asarray(bias, dtype=np.float64)
    dense.weights["bias"] = np.ascontiguousarray(b + weight @ shift, np.float32)
    dense.weights["weight"] = np.ascontiguousarray(weight * scale[None, :], np.float32)


class LRP(Explainer):
    """Layer-wise relevance propagation (Bach et al. 2015; Montavon et al. 2019).

    Relevance starts at the target output as its value f_t(x) (as Captum does; with Zennit,
    pass ``attr_output = one_hot * f_t(x)`` for the same numbers) and flows back layer by layer,
    each layer with the rule the composite gives it.

    Parameters
    ----------
    model : NativeModel
    composite : str, Composite or None
        A preset name ("EpsilonPlus", "EpsilonPlusFlat", "EpsilonGammaBox", "EpsilonAlpha2Beta1",
        "EpsilonAlpha2Beta1Flat", "Epsilon") or a ``Composite``. None: the epsilon rule on every
        affine layer (Captum's default).
    epsilon : float, optional
        The epsilon of the epsilon rule. Default: 1e-9 without a composite (Captum's), the
        preset's own default (1e-6, Zennit's) with one.
    canonize : bool, default True
        Fold batch norms into adjacent affine layers first (predictions are unchanged).
    **composite_options
        Options of the preset, e.g. ``low=0.0, high=1.0`` for "EpsilonGammaBox" or ``gamma``.

    Examples
    --------
    >>> import numpy as np, torch, glassbox as gb
    >>> from torch import nn
    >>> _ = torch.manual_seed(0)
    >>> cnn = nn.Sequential(nn.Conv2d(1, 4, 3), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
    ...                     nn.Linear(36, 3))  # layers named "0" .. "4", as torch names them
    >>> images = np.random.default_rng(0).random((2, 1, 8, 8), dtype=np.float32)
    >>> lrp = gb.LRP(gb.from_torch(cnn), composite="EpsilonPlus")
    >>> exp = lrp(images, target=0, layers=["2"])  # also record the relevance after pooling
    >>> exp.values.shape, exp.layer_relevance["2"].shape
    ((2, 1, 8, 8), (2, 4, 3, 3))
    >>> lrp.rules  # per layer; None: the gradient (max pooling: the winner takes all)
    {'0': 'zplus', '1': 'pass', '2': None, '3': None, '4': 'epsilon'}
    """

    method_name = "lrp"
    integer_inputs = "tokens"  # the embedding rule gives each token its vector's relevance

    def __init__(
        self,
        model: NativeModel,
        composite: str | Composite | None = None,
        *,
        epsilon: float | None = None,
        canonize: bool = True,
        n_threads: int | None = None,
        memory_budget: int | None = None,
        progress: ProgressArg = None,
        **composite_options: Any,
    ) -> None:
        self.composite = composite
        self.epsilon = epsilon
        self.canonize = bool(canonize)
        self.composite_options = composite_options
        preset_options = dict(composite_options)
        if epsilon is not None:
            preset_options["epsilon"] = epsilon
        if composite is None:
            if set(preset_options) - {"epsilon"}:
                raise TypeError(
                    f"options {sorted(set(preset_options) - {'epsilon'})} need a composite"
                )
            self.resolved_composite = epsilon_composite(**preset_options)
        else:
            self.resolved_composite = make_composite(composite, **preset_options)
        super().__init__(model, n_threads=n_threads, memory_budget=memory_budget, progress=progress)

    def _setup(self) -> None:
        """The BatchNorm canonizer and one rule per layer (needs the built network)."""
        model = self.model
        spec = fold_batch_norms(model.spec) if self.canonize else model.spec
        self._network = build_network(spec).network if spec is not model.spec else model.network
        kinds = [layer.kind for layer in spec.layers]
        names = [layer.name for layer in spec.layers]
        shapes = [tuple(s) for s in self._network.layer_shapes]
        input_shapes = [
            tuple(spec.input_shape) if layer.inputs[0] < 0 else shapes[layer.inputs[0]]
            for layer in spec.layers
        ]
        self._names = names
        self._shapes = shapes
        graph = Graph(spec.layers, spec.inputs)
        self._rules = resolve(self.resolved_composite, kinds, names, input_shapes, graph)

    @property
    def rules(self) -> dict[str, str | None]:
        """The rule name per layer (None: the gradient), once the model is built."""
        if not hasattr(self, "_rules"):
            raise ValueError(
                "rules: the model's layers are not known until it is built from the first batch "
                "(call the explainer once, or pass input_shape= to the adapter)"
            )
        return {
            n: None if r is None else r[0] for n, r in zip(self._names, self._rules, strict=True)
        }

    def _core_model(self) -> object:
        return self._network  # the canonized network

    def __call__(
        self, X: object, target: object = None, layers: list[str] | None = None
    ) -> Explanation:
        """Relevance of each input (``values``) and, for ``layers``, at those layers' outputs.

        ``exp.conservation[:, k]`` is the total relevance at the input (k = 0) and at the output
        of layer k - 1 (names in ``exp.conservation_layers``); the last column is the relevance
        put in at the output, f_t(x). ``exp.delta`` = sum(values) - f_t(x).
        """
        batch, flat, targets = self._inputs(X, target)
        record = self._layer_indices(layers)
        result = self._call_core(
            _core.lrp, flat, targets=targets, rules=list(self._rules), record=record
        )
        n = batch.shape[0]
        layer_relevance = {
            self._names[i]: np.asarray(r).reshape((n, *self._shapes[i]))
            for i, r in zip(record, result.layer_relevance, strict=True)
        }
        sums = result.sums
        return self._explanation(
            batch,
            result.values,
            targets,
            outputs=np.asarray(result.output),
            delta=sums[:, 0] - result.output,
            layer_relevance=layer_relevance,
            conservation=sums,
            conservation_layers=["<input>", *self._names],
        )

    def _layer_indices(self, layers: list[str] | None) -> list[int]:
        if layers is None:
            return []
        if isinstance(layers, str):
            layers = [layers]
        index = {name: i for i, name in enumerate(self._names)}
        unknown = [name for name in layers if name not in index]
        if unknown:
            raise ValueError(f"layers: unknown layer name(s) {unknown}; known: {self._names}")
        return [index[name] for name in layers]
