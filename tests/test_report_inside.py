"""The report's look inside a native network: the layer graph in "Model", the weight and
activation tables of "Weights and activations" (a planted dead unit shown), the compression
curve with y; and what it says for a model it can only call, or without y."""

from __future__ import annotations

import html

import matplotlib
import numpy as np
import pytest

import glassbox as gb
from test_report import read

matplotlib.use("Agg")


@pytest.fixture(scope="module")
def planted():
    """A ReLU MLP whose hidden unit 3 is dead (bias -1e3), its rows and labels."""
    rng = np.random.default_rng(0)
    spec = gb.NetworkSpec(input_shape=(4,))
    bias = np.zeros(8)
    bias[3] = -1e3
    _ = spec.add("dense", "fc1", weight=rng.normal(size=(8, 4)), bias=bias)
    _ = spec.add("relu", "act1")
    _ = spec.add("dense", "fc2", weight=rng.normal(size=(2, 8)), bias=np.zeros(2))
    model = gb.build_network(spec)
    X = rng.normal(size=(200, 4)).astype(np.float32)
    y = model.predict(X).argmax(axis=1)
    y[:10] = 1 - y[:10]  # ten errors
    return model, X, y


def _cells(section: str) -> list[list[str]]:
    rows = []
    for row in section.split("<tr>")[2:]:
        cells = [html.unescape(c.split("</td>")[0]) for c in row.split("<td")[1:]]
        rows.append([c.split(">", 1)[1] if ">" in c else c for c in cells])
    return rows


def test_the_inside_sections_show_what_inspect_and_compress_compute(planted, tmp_path):
    model, X, y = planted
    page = read(gb.report(model, X, y, tmp_path / "r.html", budget_s=30))
    assert model.layer_names and gb.inspect.summary(model).graph_svg() in page.sections["Model"]
    health = page.sections["Weights and activations"]
    assert page.figures("Weights and activations") == 2 and 'class="failed"' not in health
    stats = gb.inspect.activations(model, X)
    (act1,) = [r for r in _cells(health) if r and r[0] == "act1"]
    assert act1[:4] == ["act1", "8", str(int(stats.to_frame()["dead"].sum())), "0"]
    assert act1[2] == "1"  # the planted dead unit
    weights = gb.inspect.weights(model)
    (fc1,) = [r for r in _cells(health) if r and r[0] == "fc1"]
    assert float(fc1[4]) == pytest.approx(weights.spectral_norm[0], rel=1e-3)
    assert page.figures("Compression") == 1
    sweep = gb.compress.sweep(model, X, y, (0.25, 0.5, 0.75, 0.9), ("magnitude", "quantize"))
    shown = [
        r for r in _cells(page.sections["Compression"]) if r and r[0] in ("magnitude", "quantize")
    ]
    assert [float(r[4]) for r in shown] == pytest.approx(sweep.agreement.tolist(), abs=1e-4)


def test_a_callable_model_and_no_y_say_why_the_sections_are_empty(planted, tmp_path):
    model, X, _ = planted
    wrapped = gb.wrap(model.predict, n_inputs=4, n_outputs=2)
    page = read(gb.report(wrapped, X, None, tmp_path / "r.html", budget_s=10))
    for title in ("Weights and activations", "Compression"):
        assert "runs natively" in page.sections[title] and page.figures(title) == 0
    page = read(gb.report(model, X, None, tmp_path / "r2.html", budget_s=10))
    assert "needs y" in page.sections["Compression"]
    assert page.figures("Weights and activations") == 2
