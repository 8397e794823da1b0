"""``glassbox importance`` and ``glassbox pdp``: the tables of ``permutation_importance`` and
``partial_dependence`` written as CSV, Parquet or JSON (or printed), through the shared loader."""

from __future__ import annotations

import numpy as np
import pytest

import glassbox as gb
from cli.cli_files import FEATURES, run

pd = pytest.importorskip("pandas")


@pytest.fixture(scope="module")
def labelled(files):
    frame = pd.read_csv(files["csv"])
    frame["y"] = frame["a"] * 2 - frame["c"]
    path = files["folder"] / "labelled.parquet"
    frame.drop(columns=["id", "name"]).to_parquet(path)
    return path, frame


def read_table(path):
    if path.suffix == ".json":
        import json

        return pd.DataFrame(json.loads(path.read_text(encoding="utf-8")))
    return pd.read_parquet(path) if path.suffix == ".parquet" else pd.read_csv(path)


@pytest.mark.parametrize("fmt", ["csv", "parquet", "json"])
def test_importance_table(files, labelled, tmp_path, fmt):
    data, frame = labelled
    out = tmp_path / f"importance.{fmt}"
    assert run("importance", files["gb"], data, "--label", "y", "--n-repeats", "3",
               "--out", out) == 0  # fmt: skip
    got = read_table(out)
    model = gb.load(files["gb"])
    expected = gb.permutation_importance(
        model, frame[FEATURES], frame["y"], metric="r2", n_repeats=3
    ).to_frame()
    assert list(got.columns) == list(expected.columns)
    assert got["feature"].tolist() == FEATURES
    np.testing.assert_allclose(got["importances_mean"], expected["importances_mean"], rtol=1e-12)


def test_importance_prints_without_out(files, labelled, capsys):
    data, _ = labelled
    assert run("importance", files["gb"], data, "--label", "y", "--metric", "mse") == 0
    out = capsys.readouterr().out
    assert out.splitlines()[0].split() == ["feature", "importances_mean", "importances_std"]


def test_importance_unknown_label(files, labelled, capsys):
    data, _ = labelled
    assert run("importance", files["gb"], data, "--label", "yy") == 2
    err = capsys.readouterr().err
    assert err.startswith("glassbox importance: error: --label: DATA has no column 'yy'")


def test_pdp_table(files, labelled, tmp_path):
    data, frame = labelled
    out = tmp_path / "pdp.csv"
    assert run("pdp", files["gb"], data, "--label", "y", "--feature", "a", "--feature", "c",
               "--grid-resolution", "7", "--out", out) == 0  # fmt: skip
    got = pd.read_csv(out)
    assert list(got.columns) == ["feature", "output", "value", "average"]
    assert got["feature"].tolist() == ["a"] * 7 + ["c"] * 7
    model = gb.load(files["gb"])
    expected = gb.partial_dependence(model, frame[FEATURES], "c", grid_resolution=7)
    np.testing.assert_allclose(got["average"][7:], expected.average.ravel(), rtol=1e-6)
    np.testing.assert_allclose(got["value"][7:], expected.grid_values[0], rtol=1e-6)


def test_pdp_ice_and_columns(files, tmp_path):
    out = tmp_path / "ice.parquet"
    assert run("pdp", files["gb"], files["csv"], "--columns", "a,b,c,d,e", "--feature", "b",
               "--kind", "individual", "--grid-resolution", "4", "--max-rows", "10",
               "--out", out) == 0  # fmt: skip
    got = pd.read_parquet(out)
    assert len(got) == 10 * 4 and "individual" in got.columns


def test_pdp_unknown_feature(files, capsys):
    assert run("pdp", files["gb"], files["csv"], "--columns", "a,b,c,d,e", "--feature", "q") == 2
    err = capsys.readouterr().err
    assert err.startswith("glassbox pdp: error: ") and "'q'" in err and err.count("\n") == 1
