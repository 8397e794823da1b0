"""Zennit (the reference implementation of LRP composites) as a peer.

``import_zennit`` imports it where PyPI's torchvision does not import: zennit's ``__init__``
imports torchvision for its ResNet canonizer, and PyPI's torchvision fails beside the CPU build
of torch this project pins ("operator torchvision::nms does not exist"). Then a stub holding the
two block classes zennit reads stands in for torchvision (they only name module types to match,
so nothing here uses them). ``epsilon_plus`` is Zennit's EpsilonPlus relevance, seeded like
glassbox's LRP with the target logit f_t(x).
"""

from __future__ import annotations

import importlib.util
import sys
import types
import warnings
from typing import Any

import numpy as np


def import_zennit() -> Any:
    """The ``zennit`` module, or None when it is not installed."""
    if importlib.util.find_spec("zennit") is None:
        return None
    import torch

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            import torchvision.models.resnet  # noqa: F401
        except Exception:  # missing, or PyPI's build beside the CPU torch
            for name in [m for m in sys.modules if m.split(".")[0] == "torchvision"]:
                del sys.modules[name]
            stub = types.ModuleType("torchvision")
            stub.models = types.ModuleType("torchvision.models")
            resnet = types.ModuleType("torchvision.models.resnet")
            resnet.Bottleneck = type("Bottleneck", (torch.nn.Module,), {})
            resnet.BasicBlock = type("BasicBlock", (torch.nn.Module,), {})
            stub.models.resnet = resnet
            stubs = {
                "torchvision": stub,
                "torchvision.models": stub.models,
                "torchvision.models.resnet": resnet,
            }
            sys.modules.update(stubs)
            try:
                import zennit.attribution
                import zennit.composites
            finally:  # zennit holds the two classes now; the stub must not outlive its import
                for name in stubs:  # (importlib.util.find_spec fails on a module without a spec,
                    sys.modules.pop(name, None)  # as torch.onnx's exporter calls it)
        import zennit.attribution
        import zennit.composites

    return zennit


def epsilon_plus(net: Any, X: np.ndarray, target: int, epsilon: float = 1e-6) -> np.ndarray:
    """Zennit's ``EpsilonPlus`` relevance of ``X`` (z+ on convolutions, epsilon on linear layers,
    activations passed, max pooling by its gradient), the output seeded with f_t(x) at ``target``
    (as glassbox seeds it)."""
    import torch

    zennit = import_zennit()
    x = torch.from_numpy(np.ascontiguousarray(X, dtype=np.float32))
    composite = zennit.composites.EpsilonPlus(epsilon=epsilon, stabilizer=epsilon)

    def seed(output: Any) -> Any:
        mask = torch.zeros_like(output)
        mask[:, target] = 1.0
        return output * mask

    with zennit.attribution.Gradient(model=net, composite=composite) as attributor:
        _, relevance = attributor(x, seed)
    return relevance.detach().numpy()
