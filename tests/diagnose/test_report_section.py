"""The report's "Errors" section builder (reporting/diagnosis.py) on a Context of the report."""

from __future__ import annotations

import matplotlib
import numpy as np
import pytest

import glassbox as gb
from conftest import make_data, make_net
from glassbox.reporting.context import read_inputs
from glassbox.reporting.diagnosis import diagnosis_section
from glassbox.reporting.plan import Clock

matplotlib.use("Agg")
pytest.importorskip("sklearn")


def _context(model, X, y, budget_s: float = 30.0):
    ctx = read_inputs(
        model, X, y, feature_names=None, clock=Clock(budget_s), seed=0, n_threads=None,
        progress=None,
    )  # fmt: skip
    ctx.cost = 1e-7
    return ctx


def test_section_of_a_native_network_has_figure_rules_and_contrast() -> None:
    net = make_net("relu_softmax")
    X = make_data(5, n_rows=200, seed=3)
    predicted = net.model.predict(X).argmax(axis=1)
    y = np.where(X[:, 1] > 0.7, (predicted + 1) % 3, predicted)
    section = diagnosis_section(_context(net.model, X, y))
    html = section.to_html()
    facts = dict(section.facts)
    assert section.figures == 1 and section.failed == 0 and not section.skipped
    assert facts["task"] == "classification" and int(facts["error rows"]) == (y != predicted).sum()
    assert "Error tree" in html and "|--- x1 &lt;=" in html
    assert "Attributions: errors vs correct rows" in html and "Worst slices" in html


def test_section_without_y_or_budget() -> None:
    X = make_data(3, n_rows=50)
    model = gb.wrap(lambda A: A[:, :1], n_inputs=3)
    section = diagnosis_section(_context(model, X, None))
    assert section.skipped and "needs y" in section.skipped
    ctx = _context(model, X, X[:, 0] + (X[:, 1] > 0), budget_s=1e-3)
    section = diagnosis_section(ctx)
    assert dict(section.facts)["contrast"].startswith("skipped")
    assert section.figures == 1 and "no explainer" in section.to_html()
