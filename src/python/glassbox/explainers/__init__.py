"""Explainers, one module per method family."""

from __future__ import annotations

from glassbox.explainers.composites import Composite
from glassbox.explainers.gradients import (
    GradientShap,
    InputXGradient,
    IntegratedGradients,
    Saliency,
    SmoothGrad,
)
from glassbox.explainers.lrp import LRP

__all__ = [
    "LRP",
    "Composite",
    "GradientShap",
    "InputXGradient",
    "IntegratedGradients",
    "Saliency",
    "SmoothGrad",
]
