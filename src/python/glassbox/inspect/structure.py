"""``summary(model)``: a native network's layers, their shapes, parameters and multiply-adds."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from glassbox.inspect._network import native_network
from glassbox.models.layers import LAYERS
from glassbox.tables import Tabular, aligned_lines, pandas

Shape = tuple[int, ...]


@dataclass(frozen=True)
class Summary(Tabular):
    """The result of :func:`summary`: one entry per layer, in the network's topological order.

    ``input_shapes[i]`` is the per-sample shape layer ``i`` reads (a tuple of shapes for a layer
    reading several, as ``add`` and ``concat``); ``inputs[i]`` the layers it reads (indices, -1
    for the network input). ``params[i]`` counts the values of the layer's weight arrays (bias
    and batch-norm scale / shift included, as torch's ``p.numel()``); ``macs[i]`` the
    multiply-adds per sample of its weight matrix only (the layer table's ``macs``: dense and
    convolution layers; no bias, pooling, normalisation or residual adds).

    Examples
    --------
    >>> import numpy as np, glassbox as gb
    >>> spec = gb.NetworkSpec(input_shape=(4,))
    >>> _ = spec.add("dense", "fc1", weight=np.ones((8, 4)), bias=np.zeros(8))
    >>> _ = spec.add("relu", "relu")
    >>> _ = spec.add("dense", "fc2", weight=np.ones((3, 8)), bias=np.zeros(3))
    >>> result = gb.inspect.summary(gb.build_network(spec))
    >>> result.total_params, result.total_macs
    (67, 56)
    >>> result.to_frame()[["layer", "kind", "output_shape", "params", "macs"]]
      layer   kind output_shape  params  macs
    0   fc1  dense         (8,)      40    32
    1  relu   relu         (8,)       0     0
    2   fc2  dense         (3,)      27    24
    """

    layers: list[str]
    kinds: list[str]
    input_shapes: list[Any]
    output_shapes: list[Shape]
    params: np.ndarray
    macs: np.ndarray
    inputs: list[list[int]]
    input_shape: Shape

    @property
    def total_params(self) -> int:
        """Parameters of the whole network."""
        return int(self.params.sum())

    @property
    def total_macs(self) -> int:
        """Weight multiply-adds per sample of the whole network."""
        return int(self.macs.sum())

    def to_frame(self, kind: str = "wide") -> Any:
        """A pandas DataFrame, one row per layer: ``layer``, ``kind``, ``input_shape``,
        ``output_shape``, ``params``, ``macs`` and ``inputs`` (the names of the layers it reads,
        "input" for the network input). Totals are the attributes ``total_params`` and
        ``total_macs``. ``kind`` is "wide" (the only layout: a row per layer is already tidy)."""
        if kind != "wide":
            raise ValueError(f"kind: a summary has one layout, 'wide'; got {kind!r}")
        return pandas().DataFrame(
            {
                "layer": self.layers,
                "kind": self.kinds,
                "input_shape": self.input_shapes,
                "output_shape": self.output_shapes,
                "params": self.params,
                "macs": self.macs,
                "inputs": [tuple(self.source_names(i)) for i in range(len(self.layers))],
            }
        )

    def source_names(self, index: int) -> list[str]:
        """The names of the tensors layer ``index`` reads ("input" for the network input)."""
        return ["input" if j < 0 else self.layers[j] for j in self.inputs[index]]

    def graph_svg(self) -> str:
        """The layer graph as a standalone SVG document (see ``glassbox.inspect.graph_svg``)."""
        from glassbox.inspect.graph_svg import graph_svg

        return graph_svg(self)

    def __str__(self) -> str:
        header = ["Layer (kind)", "Input shape", "Output shape", "Params", "Mult-adds"]
        rows = [
            [
                f"{name} ({kind})",
                _shape_text(shape),
                _shape_text(out),
                f"{int(p):,}",
                human(int(m)),
            ]
            for name, kind, shape, out, p, m in zip(
                self.layers,
                self.kinds,
                self.input_shapes,
                self.output_shapes,
                self.params,
                self.macs,
                strict=True,
            )
        ]
        lines = aligned_lines(header, rows)
        rule = "=" * max(len(line) for line in lines)
        activations = sum(math.prod(shape) for shape in self.output_shapes)
        totals = [
            f"Total params: {self.total_params:,} ({human(self.total_params)})",
            f"Params size (float32): {human_bytes(4 * self.total_params)}",
            f"Total mult-adds per sample: {human(self.total_macs)}",
            f"Input size per sample: {human_bytes(4 * math.prod(self.input_shape))} "
            f"({_shape_text(self.input_shape)})",
            f"Layer outputs per sample: {human_bytes(4 * activations)}",
        ]
        return "\n".join([rule, lines[0], rule, *lines[1:], rule, *totals, rule])

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:  # IPython shows the table
        printer.text(str(self))


def _shape_text(shape: Any) -> str:
    """``[6, 24, 24]``; several shapes (a layer reading two tensors) joined by " + "."""
    if shape and isinstance(shape[0], tuple):
        return " + ".join(_shape_text(s) for s in shape)
    return "[" + ", ".join(str(int(d)) for d in shape) + "]"


def human(count: int) -> str:
    """A count in human units: 950, 61.71K, 416.5M, 4.1G.

    >>> human(950), human(61706), human(416_520_000)
    ('950', '61.71K', '416.5M')
    """
    for power, unit in ((12, "T"), (9, "G"), (6, "M"), (3, "K")):
        if abs(count) >= 10**power:
            return f"{count / 10**power:.4g}{unit}"
    return str(count)


def human_bytes(size: int) -> str:
    """A byte count in decimal units, as torchinfo: 246.82 KB.

    >>> human_bytes(246824), human_bytes(12)
    ('246.82 KB', '12 B')
    """
    for power, unit in ((9, "GB"), (6, "MB"), (3, "KB")):
        if size >= 10**power:
            return f"{size / 10**power:.2f} {unit}"
    return f"{size} B"


def summary(model: object, *, input_shape: object = None) -> Summary:
    """The structure of a network: each layer's kind, input and output shape (per sample),
    parameter count and weight multiply-adds per sample, with the totals.

    ``print(summary(model))`` shows the table as torchinfo does; ``.graph_svg()`` draws the layer
    graph; ``.to_frame()`` has one row per layer.

    Parameters
    ----------
    model : NativeModel, torch module, Keras model or scikit-learn MLP / linear model
        A network glassbox runs natively (``from_onnx(path)`` for an ONNX file). A model it can
        only call (a function, ``glassbox.wrap``, a tree ensemble) has no layers to show:
        TypeError.
    input_shape : tuple of int, optional
        The per-sample input shape, for a CNN converted without one (a lazy model).

    Returns
    -------
    Summary

    Examples
    --------
    >>> import torch, glassbox as gb
    >>> net = torch.nn.Sequential(torch.nn.Conv2d(1, 4, 3), torch.nn.ReLU(), torch.nn.Flatten(),
    ...                           torch.nn.Linear(4 * 6 * 6, 2))
    >>> result = gb.inspect.summary(net, input_shape=(1, 8, 8))
    >>> result.output_shapes[0], int(result.macs[0])  # 4 filters x 9 taps x 36 positions
    ((4, 6, 6), 1296)
    >>> result.total_params == sum(p.numel() for p in net.parameters())
    True
    """
    native = native_network(model, "summary", input_shape)
    spec, network = native.spec, native.network
    outputs = [tuple(int(d) for d in shape) for shape in network.layer_shapes]
    source = tuple(int(d) for d in spec.input_shape)
    input_shapes: list[Any] = []
    params, macs = [], []
    for layer, out in zip(spec.layers, outputs, strict=True):
        read = [source if j < 0 else outputs[j] for j in layer.inputs]
        input_shapes.append(read[0] if len(read) == 1 else tuple(read))
        params.append(sum(int(np.size(w)) for w in layer.weights.values() if w is not None))
        count = LAYERS[layer.kind].macs
        macs.append(0 if count is None else count(layer.weights, out))
    return Summary(
        layers=[layer.name for layer in spec.layers],
        kinds=[layer.kind for layer in spec.layers],
        input_shapes=input_shapes,
        output_shapes=outputs,
        params=np.asarray(params, dtype=np.int64),
        macs=np.asarray(macs, dtype=np.int64),
        inputs=[[int(j) for j in layer.inputs] for layer in spec.layers],
        input_shape=source,
    )
