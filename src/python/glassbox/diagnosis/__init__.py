"""Diagnosing a model's errors: ``diagnose(model, X, y)`` -> a :class:`Diagnosis` with the
confusion matrix (or residual summary), the error rows, an error tree, error rates by slice
and a contrast of attributions between error and correct rows."""

from glassbox.diagnosis.confusion import ConfusionMatrix, ErrorRows, ResidualSummary
from glassbox.diagnosis.contrast import Contrast
from glassbox.diagnosis.diagnose import Diagnosis, diagnose
from glassbox.diagnosis.error_tree import ErrorTree
from glassbox.diagnosis.slices import Slices

#: The result types of a Diagnosis' parts (each drawn by ``glassbox.plots.errors``).
PARTS = (ConfusionMatrix, ResidualSummary, ErrorRows, ErrorTree, Slices, Contrast)

__all__ = [
    "ConfusionMatrix",
    "Contrast",
    "Diagnosis",
    "ErrorRows",
    "ErrorTree",
    "ResidualSummary",
    "Slices",
    "diagnose",
]
