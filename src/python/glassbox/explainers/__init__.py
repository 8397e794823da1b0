"""Explainers, one module per method family."""

from __future__ import annotations

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
from glassbox.explainers.lrp import LRP

__all__ = [
    "LRP",
    "Composite",
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
