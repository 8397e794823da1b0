"""glassbox: fast explanations of neural networks and black-box models on the CPU.

Examples
--------
Convert a model once, then explain many rows in one call:

>>> import numpy as np, torch, glassbox as gb
>>> _ = torch.manual_seed(0)
>>> net = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.Tanh(), torch.nn.Linear(8, 3))
>>> model = gb.from_torch(net)
>>> X = np.random.default_rng(0).normal(size=(5, 4)).astype(np.float32)
>>> exp = gb.IntegratedGradients(model, n_steps=32)(X, baselines=0.0, target=1)
>>> exp.values.shape, bool(abs(exp.delta).max() < 1e-3)  # delta: the completeness gap
((5, 4), True)
>>> shap = gb.KernelShap(model, background=X)(X[:2], target=1)
>>> bool(abs(shap.delta).max() < 1e-6)  # efficiency: sum(values) = f(x) - E[f(background)]
True
"""

from __future__ import annotations

# First: imports the compiled core (on a portable x86-64 build, the CPU level it chooses) as
# glassbox._core, which the modules below import.
from glassbox._core_loader import cpu_level
from glassbox.diagnosis import Diagnosis, diagnose
from glassbox.errors import NonFiniteWarning, UnsupportedLayerError
from glassbox.explainers import (
    LRP,
    Composite,
    Deconvolution,
    DeepLift,
    DeepLiftShap,
    GradCAM,
    GradientShap,
    GuidedBackprop,
    GuidedGradCAM,
    InputXGradient,
    IntegratedGradients,
    LayerConductance,
    LayerGradientXActivation,
    LayerIntegratedGradients,
    NeuronIntegratedGradients,
    NoiseTunnel,
    Saliency,
    SmoothGrad,
)
from glassbox.explainers.lime import Lime
from glassbox.explainers.occlusion import FeatureAblation, Occlusion
from glassbox.explainers.shapley import (
    ExactShapley,
    KernelShap,
    PermutationShapley,
    ShapleyInteractions,
)
from glassbox.explainers.treeshap import TreeShap, TreeShapInteractions
from glassbox.explanation import Explanation
from glassbox.inspection import (
    ALE,
    HStatistic,
    PartialDependence,
    PermutationImportance,
    ale,
    h_statistic,
    partial_dependence,
    permutation_importance,
)
from glassbox.masks import superpixels
from glassbox.models import (
    CallableModel,
    NativeModel,
    NetworkSpec,
    as_model,
    build_network,
    from_keras,
    from_onnx,
    from_sklearn,
    from_torch,
    wrap,
)
from glassbox.models.trees import TreeModel, from_trees
from glassbox.reporting import report
from glassbox.rows import row_offset
from glassbox.saving import load
from glassbox.surrogate import SurrogateTree, surrogate_tree

# isort: split
from glassbox import compress  # a module of probes: gb.compress.prune(...), ...

__version__ = "0.1.0"

__all__ = [
    "ALE",
    "LRP",
    "CallableModel",
    "Composite",
    "Deconvolution",
    "DeepLift",
    "DeepLiftShap",
    "Diagnosis",
    "ExactShapley",
    "Explanation",
    "FeatureAblation",
    "GradCAM",
    "GradientShap",
    "GuidedBackprop",
    "GuidedGradCAM",
    "HStatistic",
    "InputXGradient",
    "IntegratedGradients",
    "KernelShap",
    "LayerConductance",
    "LayerGradientXActivation",
    "LayerIntegratedGradients",
    "Lime",
    "NativeModel",
    "NetworkSpec",
    "NeuronIntegratedGradients",
    "NoiseTunnel",
    "NonFiniteWarning",
    "Occlusion",
    "PartialDependence",
    "PermutationImportance",
    "PermutationShapley",
    "Saliency",
    "ShapleyInteractions",
    "SmoothGrad",
    "SurrogateTree",
    "TreeModel",
    "TreeShap",
    "TreeShapInteractions",
    "UnsupportedLayerError",
    "__version__",
    "ale",
    "as_model",
    "build_network",
    "compress",
    "cpu_level",
    "dask",
    "diagnose",
    "from_keras",
    "from_onnx",
    "from_sklearn",
    "from_torch",
    "from_trees",
    "h_statistic",
    "inspect",
    "load",
    "partial_dependence",
    "permutation_importance",
    "plots",
    "report",
    "row_offset",
    "superpixels",
    "surrogate_tree",
    "wrap",
]


def __getattr__(name: str) -> object:
    """``glassbox.plots`` on first use (it imports matplotlib; ``import glassbox`` never does), and
    ``glassbox.inspect`` (looking inside a network), ``glassbox.dask`` (dask collections; it
    imports dask at its first call)."""
    if name in ("plots", "inspect", "dask"):
        import importlib

        return importlib.import_module(f"glassbox.{name}")
    raise AttributeError(f"module 'glassbox' has no attribute {name!r}")
