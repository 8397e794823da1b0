"""``glassbox explain``: the values equal the Python API's for every output format, the columns are
the attributions then the ids, DATA is read and explained in batches, and models of every kind
(saved glassbox, ONNX, TorchScript, pickled scikit-learn / XGBoost) are read."""

from __future__ import annotations

import pickle
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import glassbox as gb
from cli.cli_files import FEATURES, N_ROWS, assert_values, read_values, run

pd = pytest.importorskip("pandas")
pq = pytest.importorskip("pyarrow.parquet")


@pytest.mark.parametrize("data", ["csv", "parquet", "npy"])
@pytest.mark.parametrize("fmt", ["csv", "parquet", "npy"])
def test_ig_values_equal_the_python_api(files, tmp_path, data, fmt):
    out = tmp_path / f"out.{fmt}"
    assert run("explain", files["gb"], files[data], "--method", "ig", "--n-steps", "16",
               "--columns", "a,b,c,d,e" if data != "npy" else "x0,x1,x2,x3,x4",
               "--out", out, "--batch-rows", "100") == 0  # fmt: skip
    model = gb.load(files["gb"])
    expected = gb.IntegratedGradients(model, n_steps=16)(files["X"], target=0).values
    names = FEATURES if data != "npy" else [f"x{j}" for j in range(5)]
    assert_values(out, expected, names)
    assert not Path(f"{out}.progress.json").exists()  # a finished run removes it


def test_columns_are_the_attributions_then_the_ids(files, tmp_path):
    out = tmp_path / "out.parquet"
    assert run("explain", files["onnx"], files["parquet"], "--method", "saliency",
               "--id-column", "id", "--id-column", "name", "--out", out,
               "--batch-rows", "64") == 0  # fmt: skip
    table = pq.read_table(out)
    assert table.column_names == [*FEATURES, "id", "name"]
    frame = pd.read_parquet(files["parquet"])
    assert table.column("id").to_pylist() == frame["id"].tolist()
    assert table.column("name").to_pylist() == frame["name"].tolist()
    # one row group per batch of 64 rows
    assert pq.ParquetFile(out).metadata.num_row_groups == -(-N_ROWS // 64)
    model = gb.from_onnx(str(files["onnx"]))
    expected = gb.Saliency(model)(files["X"], target=0).values
    assert_values(out, expected)


def test_csv_reorders_columns_and_keeps_ids(files, tmp_path):
    out = tmp_path / "out.csv"
    assert run("explain", files["gb"], files["csv"], "--method", "inputxgradient",
               "--columns", "a,b,c,d,e", "--id-column", "name", "--out", out) == 0  # fmt: skip
    frame = pd.read_csv(out)
    assert list(frame.columns) == [*FEATURES, "name"]
    assert frame["name"].tolist() == [f"row{i}" for i in range(N_ROWS)]


@pytest.mark.parametrize("data", ["csv", "parquet", "npy"])
def test_data_is_explained_in_batches(files, tmp_path, monkeypatch, data):
    from glassbox.jobs.explain import Job

    seen = []
    explain = Job.explain

    def recording(self, first_row, batch):
        seen.append((first_row, len(batch)))
        return explain(self, first_row, batch)

    monkeypatch.setattr(Job, "explain", recording)
    columns = "a,b,c,d,e" if data != "npy" else "0,1,2,3,4"
    out = tmp_path / "out.npy"
    assert run("explain", files["gb"], files[data], "--method", "saliency", "--columns",
               columns, "--out", out, "--batch-rows", "50") == 0  # fmt: skip
    assert seen == [(first, min(50, N_ROWS - first)) for first in range(0, N_ROWS, 50)]


def test_each_batch_is_explained_inside_row_offset(files, tmp_path, monkeypatch):
    import contextlib

    offsets = []

    @contextlib.contextmanager
    def row_offset(first_row):
        offsets.append(first_row)
        yield

    monkeypatch.setattr(gb, "row_offset", row_offset)
    out = tmp_path / "out.parquet"
    assert run("explain", files["gb"], files["parquet"], "--method", "smoothgrad",
               "--n-samples", "4", "--columns", "a,b,c,d,e", "--out", out,
               "--batch-rows", "100") == 0  # fmt: skip
    assert offsets == [0, 100, 200, 300]


def test_kernelshap_background_rows_and_seed(files, tmp_path):
    out = tmp_path / "out.csv"
    assert run("explain", files["gb"], files["parquet"], "--method", "kernelshap",
               "--columns", "a,b,c,d,e", "--background-rows", "20", "--n-samples", "64",
               "--seed", "3", "--out", out, "--batch-rows", "128") == 0  # fmt: skip
    model = gb.load(files["gb"])
    X = files["X"]
    shap = gb.KernelShap(model, background=X[:20], n_samples=64, seed=3)
    # batches of 128 rows give the bits of one call over every row (docs/methods.md)
    np.testing.assert_array_equal(read_values(out), shap(X, target=0).values)


def test_lime_in_batches_equals_one_call_over_the_file(files, tmp_path):
    out = tmp_path / "out.parquet"
    assert run("explain", files["gb"], files["parquet"], "--method", "lime",
               "--columns", "a,b,c,d,e", "--background-rows", "50", "--n-samples", "200",
               "--seed", "5", "--out", out, "--batch-rows", "70") == 0  # fmt: skip
    X = files["X"]
    lime = gb.Lime(gb.load(files["gb"]), training_data=X[:50], num_samples=200, seed=5)
    np.testing.assert_array_equal(read_values(out), lime(X, target=0).values)


def test_torchscript_classifier_explains_the_predicted_class(files, tmp_path):
    out = tmp_path / "out.csv"
    assert run("explain", files["pt"], files["csv"], "--method", "saliency",
               "--columns", "a,b,c,d,e", "--id-column", "id", "--out", out) == 0  # fmt: skip
    frame = pd.read_csv(out)
    assert list(frame.columns) == [*FEATURES, "id", "target"]
    torch = pytest.importorskip("torch")
    with torch.no_grad():
        predicted = files["classes"](torch.from_numpy(files["X"])).numpy().argmax(axis=1)
    assert frame["target"].tolist() == [f"output {k}" for k in predicted]
    model = gb.from_torch(files["classes"])
    expected = gb.Saliency(model)(files["X"], target=predicted).values
    np.testing.assert_allclose(read_values(out), expected, rtol=1e-5, atol=1e-7)


def test_target_by_name_and_index(files, tmp_path):
    out = tmp_path / "out.npy"
    assert run("explain", files["pt"], files["npy"], "--method", "saliency", "--target",
               "output 2", "--out", out) == 0  # fmt: skip
    by_name = np.load(out)
    assert run("explain", files["pt"], files["npy"], "--method", "saliency", "--target", "2",
               "--out", out) == 0  # fmt: skip
    np.testing.assert_array_equal(np.load(out), by_name)


@pytest.fixture(scope="module")
def pickles(files):
    sklearn = pytest.importorskip("sklearn.linear_model")
    X, folder = files["X"], files["folder"]
    y = (X[:, 0] + X[:, 1] > 0).astype(int)
    logistic = sklearn.LogisticRegression().fit(X, y)
    with open(folder / "logistic.pkl", "wb") as handle:
        pickle.dump(logistic, handle)
    paths = {"logistic": folder / "logistic.pkl", "model": logistic}
    xgboost = pytest.importorskip("xgboost")
    booster = xgboost.XGBRegressor(n_estimators=8, max_depth=3).fit(X, X[:, 0] * X[:, 2])
    with open(folder / "xgb.pkl", "wb") as handle:
        pickle.dump(booster, handle)
    paths.update(xgb=folder / "xgb.pkl", booster=booster)
    return paths


def test_pickle_needs_allow_pickle(files, pickles, tmp_path, capsys):
    out = tmp_path / "out.csv"
    argv = ["explain", pickles["logistic"], files["npy"], "--method", "kernelshap",
            "--n-samples", "32", "--background-rows", "10", "--out", out]  # fmt: skip
    assert run(*argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("glassbox explain: error: MODEL:") and err.count("\n") == 1
    assert "--allow-pickle" in err and "runs code" in err
    assert run(*argv, "--allow-pickle") == 0
    assert "runs code" in capsys.readouterr().err  # the warning, also when allowed
    X = files["X"]
    predicted = pickles["model"].predict_proba(X).argmax(axis=1)
    shap = gb.KernelShap(pickles["model"], background=X[:10], n_samples=32)
    assert_values(out, shap(X, target=predicted).values, ["x0", "x1", "x2", "x3", "x4"])
    classes = pickles["model"].classes_  # the output names: the class labels
    assert pd.read_csv(out)["target"].tolist() == classes[predicted].tolist()


def test_xgboost_pickle_with_treeshap(files, pickles, tmp_path):
    out = tmp_path / "out.npy"
    assert run("explain", pickles["xgb"], files["npy"], "--method", "treeshap",
               "--allow-pickle", "--out", out, "--batch-rows", "100") == 0  # fmt: skip
    expected = gb.TreeShap(pickles["booster"])(files["X"], target=0).values
    np.testing.assert_array_equal(np.load(out), expected)


BAD_INPUT = [
    (["{gb}", "{folder}/missing.csv"], "DATA: no file at"),
    (["{folder}/missing.onnx", "{csv}"], "MODEL: no file at"),
    (["{gb}", "{csv}", "--method", "shazam"], "--method: unknown method 'shazam'"),
    (["{gb}", "{csv}", "--columns", "a,zz"], "--columns: DATA has no column 'zz'"),
    (["{gb}", "{csv}", "--id-column", "idd"], "did you mean 'id'"),
    (["{gb}", "{csv}", "--method", "treeshap", "--columns", "a,b,c,d,e"], "--method treeshap:"),
    (["{xgb}", "{npy}", "--allow-pickle"], "--method ig: estimator 'xgbregressor'"),
    (["{gb}", "{csv}", "--columns", "a,b,c,d,e", "--target", "4"], "--target: output 4 is out"),
    (["{gb}", "{csv}", "--out", "x.txt"], "--format: cannot tell"),
    (["{gb}", "{npy}", "--id-column", "0", "--out", "x.npy"], "--id-column: an .npy output"),
    (["{gb}", "{csv}"], "--columns: the model takes 5 inputs, and 7 columns"),
    (["{gb}", "{csv}", "--columns", "a,b,c,d,name"], "X: columns ['name'] are not numeric"),
]


@pytest.mark.parametrize(("argv", "match"), BAD_INPUT)
def test_bad_input_is_exit_2_in_one_line(
    files, pickles, tmp_path, monkeypatch, capsys, argv, match
):
    """Each bad argument is named (``--method ig`` unless the case gives a method)."""
    monkeypatch.chdir(tmp_path)
    names = {key: value for key, value in {**files, **pickles}.items() if isinstance(value, Path)}
    method = [] if "--method" in argv else ["--method", "ig"]
    assert run("explain", *[a.format(**names) for a in argv], *method) == 2
    err = capsys.readouterr().err.splitlines()[-1]  # after the note on loading a pickle
    assert err.startswith("glassbox explain: error: "), err
    assert match in err, err


def test_bad_usage_exits_2(files, capsys):
    with pytest.raises(SystemExit) as stopped:
        run("explain", files["gb"], files["csv"])  # no --method
    assert stopped.value.code == 2
    with pytest.raises(SystemExit) as stopped:
        run("explain", files["gb"], files["csv"], "--method", "ig", "--batch-rows", "0")
    assert stopped.value.code == 2


def test_a_failure_is_exit_1(files, tmp_path, monkeypatch, capsys):
    from glassbox.jobs.explain import Job

    def broken(self, first_row, batch):
        raise RuntimeError("disk on fire\nsecond line")

    monkeypatch.setattr(Job, "explain", broken)
    out = tmp_path / "out.csv"
    assert run("explain", files["gb"], files["npy"], "--method", "ig", "--out", out) == 1
    assert capsys.readouterr().err == "glassbox explain: error: disk on fire second line\n"


@pytest.mark.parametrize("command", ["explain", "importance", "pdp", "report", "inspect"])
def test_help_has_examples_and_exit_codes(command, capsys):
    with pytest.raises(SystemExit) as stopped:
        run(command, "--help")
    assert stopped.value.code == 0
    out = capsys.readouterr().out
    assert "example" in out and f"glassbox {command} " in out
    assert "exit codes: 0" in out and "130 interrupted" in out


def test_python_m_glassbox_in_a_subprocess(files, tmp_path):
    out = tmp_path / "out.parquet"
    root = Path(gb.__file__).resolve().parents[1]
    done = subprocess.run(
        [sys.executable, "-m", "glassbox", "explain", str(files["onnx"]), str(files["parquet"]),
         "--method", "ig", "--id-column", "id", "--columns", "a,b,c,d,e", "--out", str(out),
         "--no-progress"],
        capture_output=True, text=True, env={"PYTHONPATH": str(root), "PATH": ""}, timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == f"wrote {out} ({N_ROWS} rows, ig)"
    model = gb.from_onnx(str(files["onnx"]))
    assert_values(out, gb.IntegratedGradients(model)(files["X"], target=0).values)


def test_torchscript_that_cannot_be_converted_is_called_as_a_function(files, tmp_path, capsys):
    torch = pytest.importorskip("torch")
    import warnings

    class Branchy(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = torch.nn.Linear(5, 1)

        def forward(self, x):
            if bool(x.sum() > 0):  # a branch on the values: no native translation
                return self.fc(x)
            return -self.fc(x)

    path = tmp_path / "branchy.pt"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.jit.save(torch.jit.script(Branchy().eval()), str(path))
    out = tmp_path / "out.npy"
    assert run("explain", path, files["npy"], "--method", "ig", "--out", out) == 2
    err = capsys.readouterr().err
    assert "called as a Python function" in err and "--method ig:" in err.splitlines()[-1]
    assert run("explain", path, files["npy"], "--method", "featureablation", "--out", out) == 0
    assert np.load(out).shape == (N_ROWS, 5)


def test_a_model_with_feature_names_picks_its_columns(files, tmp_path):
    """Without --columns, a model that names its inputs reads those columns of DATA, in its
    order (ids, labels and other columns left out); a width that does not fit is one line."""
    net = files["net"]
    names = ["e", "d", "c", "b", "a"]
    gb.from_torch(net, feature_names=names).save(tmp_path / "named.gb")
    out = tmp_path / "out.parquet"
    assert run("explain", tmp_path / "named.gb", files["parquet"], "--method", "saliency",
               "--id-column", "id", "--out", out) == 0  # fmt: skip
    table = pq.read_table(out)
    assert table.column_names == [*names, "id"]
    X = files["X"][:, ::-1].copy()  # DATA's a..e as the model's e..a
    expected = gb.Saliency(gb.load(tmp_path / "named.gb"))(X, target=0).values
    np.testing.assert_array_equal(np.column_stack([table.column(n) for n in names]), expected)


def test_columns_that_do_not_fit_the_model_are_one_line(files, tmp_path, capsys):
    code = run("explain", files["gb"], files["parquet"], "--method", "saliency",
               "--columns", "a,b", "--out", tmp_path / "o.csv")  # fmt: skip
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1
    assert "--columns: the model takes 5 inputs, and 2 columns of DATA would be explained" in err
