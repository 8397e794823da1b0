"""glassbox: fast attributions for neural networks and black-box models on the CPU.

Examples
--------
>>> import glassbox as gb
>>> model = gb.from_torch(torch_net)  # doctest: +SKIP
>>> exp = gb.IntegratedGradients(model, n_steps=50)(X, baselines=0.0, target=1)  # doctest: +SKIP
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
from glassbox.explanation import Explanation
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

__version__ = "0.1.0"

__all__ = [
    "LRP",
    "CallableModel",
    "Composite",
    "Deconvolution",
    "DeepLift",
    "DeepLiftShap",
    "Explanation",
    "GradCAM",
    "GradientShap",
    "GuidedBackprop",
    "GuidedGradCAM",
    "InputXGradient",
    "IntegratedGradients",
    "NativeModel",
    "NetworkSpec",
    "Saliency",
    "SmoothGrad",
    "UnsupportedLayerError",
    "__version__",
    "as_model",
    "build_network",
    "from_keras",
    "from_onnx",
    "from_sklearn",
    "from_torch",
    "wrap",
]

# --- inspection (issue 5: permutation importance, PDP/ICE, ALE, H-statistic) ---
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

__all__ += [
    "ALE",
    "HStatistic",
    "PartialDependence",
    "PermutationImportance",
    "ale",
    "h_statistic",
    "partial_dependence",
    "permutation_importance",
]

# --- local model-agnostic methods (issue 5: LIME, occlusion, feature ablation, surrogate) ---
from glassbox.explainers.lime import Lime  # noqa: E402
from glassbox.explainers.occlusion import FeatureAblation, Occlusion  # noqa: E402
from glassbox.surrogate import SurrogateTree, surrogate_tree  # noqa: E402

__all__ += ["FeatureAblation", "Lime", "Occlusion", "SurrogateTree", "surrogate_tree"]
