"""glassbox: fast explanations of neural networks and black-box models on the CPU.

Examples
--------
>>> import glassbox as gb
>>> model = gb.from_torch(torch_net)  # doctest: +SKIP
>>> exp = gb.IntegratedGradients(model, n_steps=50)(X, baselines=0.0, target=1)  # doctest: +SKIP
>>> shap_values = gb.KernelShap(model, background=X[:100])(X[:10])  # doctest: +SKIP
"""

from __future__ import annotations

from glassbox.errors import UnsupportedLayerError
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
from glassbox.surrogate import SurrogateTree, surrogate_tree

__version__ = "0.1.0"

__all__ = [
    "ALE",
    "LRP",
    "CallableModel",
    "Composite",
    "Deconvolution",
    "DeepLift",
    "DeepLiftShap",
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
    "Lime",
    "NativeModel",
    "NetworkSpec",
    "Occlusion",
    "PartialDependence",
    "PermutationImportance",
    "PermutationShapley",
    "Saliency",
    "ShapleyInteractions",
    "SmoothGrad",
    "SurrogateTree",
    "UnsupportedLayerError",
    "__version__",
    "ale",
    "as_model",
    "build_network",
    "from_keras",
    "from_onnx",
    "from_sklearn",
    "from_torch",
    "h_statistic",
    "partial_dependence",
    "permutation_importance",
    "surrogate_tree",
    "wrap",
]
