"""``glassbox inspect MODEL``: the layer table and weight statistics printed, the graph written,
and bad input as one line with exit code 2."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import numpy as np
import pytest
import torch

import glassbox as gb
from glassbox.cli import main


@pytest.fixture
def saved(tmp_path):
    torch.manual_seed(0)
    net = torch.nn.Sequential(
        torch.nn.Conv2d(1, 4, 3), torch.nn.ReLU(), torch.nn.Flatten(), torch.nn.Linear(4 * 36, 3)
    )
    path = tmp_path / "net.gb"
    gb.from_torch(net, input_shape=(1, 8, 8)).save(path)
    return path, net


def test_prints_the_summary_and_the_weight_table(saved, tmp_path, capsys):
    path, net = saved
    svg = tmp_path / "net.svg"
    assert main(["inspect", str(path), "--svg", str(svg)]) == 0
    out = capsys.readouterr().out
    layers = gb.inspect.summary(gb.load(path))
    weights = gb.inspect.weights(gb.load(path))
    assert str(layers) in out and str(weights) in out
    total = sum(p.numel() for p in net.parameters())
    assert f"Total params: {total:,}" in out
    assert out.strip().endswith(f"wrote {svg}")
    root = ET.fromstring(svg.read_text(encoding="utf-8"))
    assert root.tag.endswith("svg")


def test_no_weights_prints_the_layer_table_only(saved, capsys):
    path, _ = saved
    assert main(["inspect", str(path), "--no-weights"]) == 0
    out = capsys.readouterr().out
    assert "Total params" in out and "Spectral norm" not in out


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda tmp: tmp / "missing.gb", "no file at"),
        (lambda tmp: _pickle(tmp), "--allow-pickle"),
        (lambda tmp: _explanation(tmp), "holds an Explanation"),
    ],
)
def test_bad_model_files_exit_2_with_one_line(tmp_path, capsys, make, message):
    assert main(["inspect", str(make(tmp_path))]) == 2
    err = capsys.readouterr().err
    assert err.startswith("glassbox inspect: error:") and message in err
    assert err.count("\n") == 1


def test_a_model_without_layers_is_a_clear_error(tmp_path, capsys):
    """A pickled scikit-learn tree ensemble runs only as a callable: nothing to show."""
    import pickle

    from sklearn.ensemble import RandomForestRegressor

    X = np.random.default_rng(0).normal(size=(30, 3))
    path = tmp_path / "forest.pkl"
    path.write_bytes(pickle.dumps(RandomForestRegressor(n_estimators=2).fit(X, X[:, 0])))
    assert main(["inspect", str(path), "--allow-pickle"]) == 2
    assert "summary needs a network" in capsys.readouterr().err


def _pickle(tmp):
    path = tmp / "model.pkl"
    path.write_bytes(b"not really a pickle")
    return path


def _explanation(tmp):
    model = gb.wrap(lambda X: X.sum(axis=1), n_inputs=2)
    exp = gb.FeatureAblation(model)(np.ones((2, 2), np.float32))
    path = tmp / "exp.gb"
    exp.save(path)
    return path
