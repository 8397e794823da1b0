"""Explainers, one module per method family."""

from __future__ import annotations

from glassbox.explainers.base import AgnosticExplainer, Explainer
from glassbox.explainers.composites import Composite
from glassbox.explainers.deeplift import DeepLift, DeepLiftShap
from glassbox.explainers.gradients import (
    GradientShap,
    InputXGradient,
    IntegratedGradients,
    Saliency,
    SmoothGrad,
)
from glassbox.explainers.guided import Deconvolution, GradCAM, GuidedBackprop, GuidedGradCAM
from glassbox.explainers.layer import (
    LayerConductance,
    LayerGradientXActivation,
    LayerIntegratedGradients,
    NeuronIntegratedGradients,
)
from glassbox.explainers.lrp import LRP
from glassbox.explainers.noise_tunnel import NoiseTunnel

__all__ = [
    "LRP",
    "AgnosticExplainer",
    "Composite",
    "Deconvolution",
    "DeepLift",
    "DeepLiftShap",
    "Explainer",
    "GradCAM",
    "GradientShap",
    "GuidedBackprop",
    "GuidedGradCAM",
    "InputXGradient",
    "IntegratedGradients",
    "LayerConductance",
    "LayerGradientXActivation",
    "LayerIntegratedGradients",
    "NeuronIntegratedGradients",
    "NoiseTunnel",
    "Saliency",
    "SmoothGrad",
]
