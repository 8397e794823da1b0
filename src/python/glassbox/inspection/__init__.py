"""Global inspection of any model: permutation importance, partial dependence and ICE,
accumulated local effects, and Friedman's H-statistic."""

from __future__ import annotations

from glassbox.inspection.ale import ALE, ale
from glassbox.inspection.interaction import HStatistic, h_statistic
from glassbox.inspection.partial_dependence import PartialDependence, partial_dependence
from glassbox.inspection.permutation import PermutationImportance, permutation_importance

__all__ = [
    "ALE",
    "HStatistic",
    "PartialDependence",
    "PermutationImportance",
    "ale",
    "h_statistic",
    "partial_dependence",
    "permutation_importance",
]
