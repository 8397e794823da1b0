"""A torch twin of any ``NetworkSpec`` built from ``torch.nn`` modules, one module per layer, so
that hook-based peers (Captum's DeepLift, GuidedBackprop, LayerGradCam, ...) see every ReLU and
max-pool as its own module, and any layer can be handed to Captum by its glassbox name.

Each max-pool runs after a no-op ``x * 1.0`` module: Captum's DeepLift hooks give wrong
multipliers when a hooked ReLU feeds a hooked MaxPool directly (its convergence delta is then far
from zero; with any op in between it is exact, cf. captum issues #1104 and #1276), and the no-op
keeps the twin's function unchanged.

Residual ``add`` and ``concat`` are small modules too (so Grad-CAM can target them); batch norm is
the folded per-channel affine map ``x * scale + shift`` the spec stores.
"""

from __future__ import annotations

from typing import Any

import numpy as np


def _pad4(value: Any) -> tuple[int, int, int, int]:
    if isinstance(value, (int, np.integer)):
        return (int(value),) * 4  # type: ignore[return-value]
    items = [int(v) for v in value]
    if len(items) == 2:
        return items[0], items[1], items[0], items[1]
    return items[0], items[1], items[2], items[3]


def torch_graph(spec: Any) -> Any:
    """The ``torch.nn.Module`` (float32, eval mode) computing what ``spec`` computes; its
    ``layer(name)`` returns the module of a named layer."""
    import torch
    from torch import nn

    def tensor(a: Any) -> Any:
        return torch.as_tensor(np.asarray(a, dtype=np.float32))

    class Affine(nn.Module):
        def __init__(self, scale: Any, shift: Any) -> None:
            super().__init__()
            self.register_buffer("scale", tensor(scale))
            self.register_buffer("shift", tensor(shift))

        def forward(self, x: Any) -> Any:
            view = (1, -1) + (1,) * (x.dim() - 2)
            return x * self.scale.reshape(view) + self.shift.reshape(view)

    class Add(nn.Module):
        def forward(self, *xs: Any) -> Any:
            y = xs[0]
            for other in xs[1:]:
                y = y + other
            return y

    class Concat(nn.Module):
        def __init__(self, axis: int) -> None:
            super().__init__()
            self.axis = axis

        def forward(self, *xs: Any) -> Any:
            return torch.cat(xs, dim=self.axis + 1)

    class NoOp(nn.Module):
        def forward(self, x: Any) -> Any:
            return x * 1.0

    class Reshape(nn.Module):
        def __init__(self, shape: tuple[int, ...]) -> None:
            super().__init__()
            self.shape = shape

        def forward(self, x: Any) -> Any:
            return x.reshape(x.shape[0], *self.shape)

    def module_of(layer: Any) -> Any:
        p, w, kind = layer.params, layer.weights, layer.kind
        if kind == "conv2d":
            weight = tensor(w["weight"])
            bias = w.get("bias")
            top, left, bottom, right = _pad4(p.get("padding", 0))
            conv = nn.Conv2d(
                weight.shape[1] * int(p.get("groups", 1)),
                weight.shape[0],
                tuple(weight.shape[2:]),
                stride=tuple(p.get("stride", (1, 1))),
                padding=(top, left) if (top, left) == (bottom, right) else 0,
                dilation=tuple(p.get("dilation", (1, 1))),
                groups=int(p.get("groups", 1)),
                bias=bias is not None,
            )
            with torch.no_grad():
                conv.weight.copy_(weight)
                if bias is not None:
                    conv.bias.copy_(tensor(bias))
            if (top, left) != (bottom, right):
                return nn.Sequential(nn.ZeroPad2d((left, right, top, bottom)), conv)
            return conv
        if kind in ("max_pool2d", "avg_pool2d"):
            top, left, bottom, right = _pad4(p.get("padding", 0))
            if (top, left) != (bottom, right):
                raise NotImplementedError("asymmetric pooling padding")
            common = {
                "kernel_size": tuple(p["kernel"]),
                "stride": tuple(p.get("stride", p["kernel"])),
                "padding": (top, left),
                "ceil_mode": bool(p.get("ceil_mode", False)),
            }
            if kind == "max_pool2d":
                pool = nn.MaxPool2d(dilation=tuple(p.get("dilation", (1, 1))), **common)
                return nn.Sequential(NoOp(), pool)
            return nn.AvgPool2d(count_include_pad=bool(p.get("count_include_pad", True)), **common)
        if kind == "adaptive_avg_pool2d":
            return nn.AdaptiveAvgPool2d(tuple(p["output_size"]))
        if kind == "batch_norm":
            return Affine(w["scale"], w["shift"])
        if kind == "add":
            return Add()
        if kind == "concat":
            return Concat(int(p.get("axis", 0)))
        if kind == "reshape":
            return Reshape(tuple(int(s) for s in p["shape"]))
        if kind == "dense":
            weight = tensor(w["weight"])
            lin = nn.Linear(weight.shape[1], weight.shape[0], bias=w.get("bias") is not None)
            with torch.no_grad():
                lin.weight.copy_(weight)
                if w.get("bias") is not None:
                    lin.bias.copy_(tensor(w["bias"]))
            return lin
        simple = {
            "relu": nn.ReLU,
            "tanh": nn.Tanh,
            "sigmoid": nn.Sigmoid,
            "flatten": nn.Flatten,
            "identity": nn.Identity,
            "dropout": nn.Identity,
        }
        if kind in simple:
            return simple[kind]()
        if kind == "leaky_relu":
            return nn.LeakyReLU(p.get("negative_slope", 0.01))
        if kind == "elu":
            return nn.ELU(p.get("alpha", 1.0))
        if kind == "softmax":
            return nn.Softmax(dim=1)
        raise NotImplementedError(kind)

    class Graph(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.names = [layer.name for layer in spec.layers]
            self.inputs = [list(layer.inputs) for layer in spec.layers]
            self.layers = nn.ModuleList(module_of(layer) for layer in spec.layers)

        def layer(self, name: str) -> Any:
            return self.layers[self.names.index(name)]

        def forward(self, x: Any) -> Any:
            outputs: list[Any] = []
            for module, inputs in zip(self.layers, self.inputs, strict=True):
                outputs.append(module(*[x if i == -1 else outputs[i] for i in inputs]))
            return outputs[-1]

    return Graph().eval()


def captum_lrp_sequential(spec: Any) -> Any:
    """A ``torch.nn.Sequential`` twin (float32, eval mode) of a sequential conv/dense/ReLU/2x2
    max-pool/flatten spec, shaped for Captum's LRP.

    Captum's LRP has no rule for a Flatten module, so the flatten is folded into the module that
    follows it.
    """
    import torch
    from torch import nn

    class FlattenThen(nn.Module):
        """Flatten, then the wrapped module (one module, so Captum sees no Flatten)."""

        def __init__(self, inner: nn.Module) -> None:
            super().__init__()
            self.inner = inner

        def forward(self, x: Any) -> Any:
            return self.inner(x.flatten(1))

    modules: list[nn.Module] = []
    for layer in spec.layers:
        if layer.kind in ("conv2d", "dense"):
            w, b = layer.weights["weight"], layer.weights.get("bias")
            if layer.kind == "conv2d":
                m: nn.Module = nn.Conv2d(w.shape[1], w.shape[0], w.shape[2:], bias=b is not None)
            else:
                m = nn.Linear(w.shape[1], w.shape[0], bias=b is not None)
            with torch.no_grad():
                m.weight.copy_(torch.from_numpy(np.asarray(w, dtype=np.float32)))
                if b is not None:
                    m.bias.copy_(torch.from_numpy(np.asarray(b, dtype=np.float32)))
        elif layer.kind == "relu":
            m = nn.ReLU()
        elif layer.kind == "max_pool2d":
            m = nn.MaxPool2d(2, 2)
        elif layer.kind == "flatten":
            m = nn.Flatten()
        else:
            raise NotImplementedError(f"captum_lrp_sequential: layer kind {layer.kind!r}")
        modules.append(m)
    at = next(i for i, m in enumerate(modules) if isinstance(m, nn.Flatten))
    modules[at : at + 2] = [FlattenThen(modules[at + 1])]
    return nn.Sequential(*modules).eval()
