"""plots.compression: each method's line is the sweep's numbers over its amounts, in order; the
original accuracy is the dashed line; it renders."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

import glassbox as gb
from plots.conftest import render


def sweep_result(labels: bool = True):
    torch.manual_seed(0)
    net = nn.Sequential(nn.Linear(5, 12), nn.ReLU(), nn.Linear(12, 3))
    model = gb.from_torch(net)
    X = np.random.default_rng(0).normal(size=(100, 5)).astype(np.float32)
    y = model.predict(X).argmax(axis=1) if labels else None
    methods = ("magnitude", "structured", "quantize")
    return gb.compress.sweep(model, X, y, amounts=(0.75, 0.2, 0.9), methods=methods)


def test_each_method_is_a_line_of_its_numbers_sorted_by_amount():
    result = sweep_result()
    fig = gb.plots.compression(result)
    assert [ax.get_ylabel() for ax in fig.axes] == ["agreement", "accuracy"]
    frame = result.to_frame()
    for ax, measure in zip(fig.axes, ("agreement", "accuracy"), strict=True):
        lines = {line.get_label(): line for line in ax.get_lines()}
        assert [name for name in lines if name != "original"] == [
            "magnitude",
            "structured",
            "quantize",
        ]
        for method, rows in frame.groupby("method", sort=False):
            rows = rows.sort_values("amount", kind="stable")
            x, values = lines[method].get_data()
            np.testing.assert_array_equal(x, rows["amount"])
            np.testing.assert_array_equal(values, rows[measure])
    (baseline,) = [line for line in fig.axes[1].get_lines() if line.get_label() == "original"]
    assert baseline.get_ydata()[0] == result.baseline_accuracy == 1.0
    assert baseline.get_linestyle() == "--"
    assert fig.axes[0].get_legend() is not None
    render(fig)


def test_measures_without_labels_and_chosen_ones():
    result = sweep_result(labels=False)
    assert [ax.get_ylabel() for ax in gb.plots.compression(result).axes] == ["agreement"]
    fig = gb.plots.compression(result, measures=["output_mse", "bytes"])
    x, bytes_drawn = fig.axes[1].get_lines()[2].get_data()  # quantize: 16, 8 and 3 bits
    np.testing.assert_array_equal(x, [0.2, 0.75, 0.9])
    np.testing.assert_array_equal(bytes_drawn, result.bytes[-3:][[1, 0, 2]])
    assert result.bits[-3:].tolist() == [8, 16, 3]
    assert gb.plots.plot(result).axes[0].get_ylabel() == "agreement"
    render(fig)


def test_bad_input_is_refused():
    with pytest.raises(TypeError, match="result: expected a glassbox Sweep"):
        gb.plots.compression(object())
    with pytest.raises(ValueError, match="measures: expected names among"):
        gb.plots.compression(sweep_result(), measures="speed")


def test_a_compressed_model_is_a_bar_per_layer_of_its_sparsity():
    torch.manual_seed(1)
    net = nn.Sequential(nn.Linear(5, 12), nn.ReLU(), nn.Linear(12, 8), nn.ReLU(), nn.Linear(8, 3))
    model = gb.compress.quantize(gb.from_torch(net), bits=2, layers=["2"])
    ax = gb.plots.compression(model)
    bars = sorted(ax.patches, key=lambda p: -p.get_y())  # top to bottom
    labels = [t.get_text() for t in ax.get_yticklabels()][::-1]
    assert labels == ["0", "2 (2 bits)", "4"]
    np.testing.assert_array_equal([b.get_width() for b in bars], list(model.sparsity.values()))
    assert model.sparsity["2"] > 0 and model.sparsity["0"] == 0
    assert gb.plots.plot(model.compression).get_yticklabels()[0].get_text() == "4"
    render(ax)
