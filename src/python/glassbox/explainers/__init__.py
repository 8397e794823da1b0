"""Explainers, one module per method family."""

from __future__ import annotations

from glassbox.explainers.deeplift import DeepLift, DeepLiftShap
from glassbox.explainers.gradients import (
    GradientShap,
    InputXGradient,
    IntegratedGradients,
    Saliency,
    SmoothGrad,
)
from glassbox.explainers.guided import Deconvolution, GradCAM, GuidedBackprop, GuidedGradCAM

__all__ = [
    "Deconvolution",
    "DeepLift",
    "DeepLiftShap",
    "GradCAM",
    "GradientShap",
    "GuidedBackprop",
    "GuidedGradCAM",
    "InputXGradient",
    "IntegratedGradients",
    "Saliency",
    "SmoothGrad",
]
