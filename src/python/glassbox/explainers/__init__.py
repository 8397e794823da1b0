"""Explainers, one module per method family."""

from __future__ import annotations

from glassbox.explainers.gradients import (
    GradientShap,
    InputXGradient,
    IntegratedGradients,
    Saliency,
    SmoothGrad,
)

__all__ = ["GradientShap", "InputXGradient", "IntegratedGradients", "Saliency", "SmoothGrad"]
