"""``glassbox.report``: one self-contained HTML page whose sections hold the numbers computed, and
say how, with every figure drawn (or a box naming the error), within the time budget."""

from __future__ import annotations

import html
import re
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import matplotlib
import numpy as np
import pytest

import glassbox as gb

matplotlib.use("Agg")

SECTIONS = (
    "Model",
    "Data",
    "Global importance",
    "Summary",
    "Partial dependence",
    "Accumulated local effects",
    "Interactions",
    "Local explanations",
    "Errors",
    "Weights and activations",
    "Compression",
    "About this report",
)
MAX_BYTES = 3 * 1024 * 1024


@pytest.fixture(scope="module")
def breast_cancer():
    """The demo's MLP on the breast-cancer data (glassbox.demo), converted natively, with the
    standardised data, the labels and the feature names."""
    pytest.importorskip("sklearn")
    from glassbox.demo import _fit_model

    mlp, X, y, names = _fit_model(seed=0)
    return gb.from_sklearn(mlp, output="probabilities"), X, y, names


class Page(HTMLParser):
    """The parts of a report a test reads: the sections (title -> HTML), attributes that load
    something, tags seen."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self.links: list[tuple[str, str, str]] = []
        self.tags: set[str] = set()
        self.feed(text)
        self.text = text
        parts = re.split(r'<section id="[^"]*"><h2>', text)[1:]
        self.sections = {part[: part.index("</h2>")]: part for part in parts}

    def handle_starttag(self, tag, attrs):
        self.tags.add(tag)
        for name, value in attrs:
            if name in ("src", "href", "xlink:href", "srcset", "data", "action", "poster"):
                self.links.append((tag, name, value or ""))

    def figures(self, title: str) -> int:
        return self.sections[title].count('<figure class="gb-figure">')

    def facts(self, title: str) -> dict[str, str]:
        found = re.findall(r"<span><b>([^<]*):</b> ([^<]*)</span>", self.sections[title])
        return {label: html.unescape(value) for label, value in found}


def read(path) -> Page:
    return Page(Path(path).read_text(encoding="utf-8"))


def test_breast_cancer_report_has_every_section_and_figure(breast_cancer, tmp_path):
    model, X, y, names = breast_cancer
    path = gb.report(model, X, y, tmp_path / "report.html", feature_names=names)
    assert path == str(tmp_path / "report.html")
    assert Path(path).stat().st_size < MAX_BYTES
    page = read(path)
    assert list(page.sections) == list(SECTIONS)
    assert 'class="failed"' not in page.text and 'class="skipped"' not in page.text
    expected = {
        "Global importance": 2,  # permutation importance and mean |attribution|
        "Summary": 1,
        "Partial dependence": 4,
        "Accumulated local effects": 4,
        "Interactions": 1,
        "Local explanations": 4,  # two most confident, two worst predicted
        "Errors": 1,  # plots.errors of the diagnosis
        "Model": 1,  # the layer graph
        "Weights and activations": 2,
        "Compression": 1,
    }
    for title, count in expected.items():
        assert page.figures(title) == count, title
    total = sum(expected.values())
    assert f'data-figures="{total}"' in page.text
    assert page.text.count("<svg") + page.text.count("<img") == total
    summary = page.facts("Summary")
    assert summary["method"] == "kernel_shap"
    assert float(summary["max |delta| (efficiency gap)"]) < 1e-6
    assert 0 <= float(summary["stderr median"]) <= float(summary["stderr max"])
    assert "run time" in summary and "200 of 569 rows explained" in summary["options"]
    model_facts = page.facts("Model")
    assert model_facts["parameters"] == str(30 * 64 + 64 + 64 * 32 + 32 + 32 * 2 + 2)
    assert "mlpclassifier.1/relu" in page.sections["Model"]
    assert "binary classifier's positive class" in model_facts["explained output"]
    local = html.unescape(page.sections["Local explanations"])
    # two rows of each kind, each named in the facts and in its caption
    assert local.count("among the most confident") == local.count("among the worst predicted") == 4
    outcomes = re.findall(
        r"Row (\d+) \([^)]*\); output '1': base value \S+, f\(x\) = ([^<\s]+)<", local
    )
    assert len(outcomes) == 4  # each waterfall ends at f(x), the model's output for its row
    for row, fx in outcomes:
        assert float(fx) == pytest.approx(model.predict(X[int(row)][None])[0, 1], abs=1e-4)


def test_the_page_loads_nothing(breast_cancer, tmp_path):
    model, X, y, _ = breast_cancer
    page = read(gb.report(model, X[:80], y[:80], tmp_path / "r.html", budget_s=5))
    assert "script" not in page.tags and "link" not in page.tags and "iframe" not in page.tags
    outside = [
        link for link in page.links if not link[2].startswith(("#", "data:image/png;base64,"))
    ]
    assert outside == []
    assert not re.search(r"url\((?!#)|@import|@font-face", page.text)


def test_given_explanation_numbers_are_on_the_page(breast_cancer, tmp_path):
    model, X, y, names = breast_cancer
    rows = X[:60]
    exp = gb.KernelShap(model, background=X[100:110], n_samples=200)(rows)  # every output
    path = gb.report(
        model, rows, y[:60], tmp_path / "r.html", explanations=exp, feature_names=names
    )
    page = read(path)
    assert page.facts("Summary")["options"].startswith("given (explanations=), 60 rows")
    mean_abs = np.abs(exp.values[..., 1]).mean(axis=0)  # output 1: the positive class
    cells = re.findall(
        r'<tr><td class="num">(\d+)</td><td>([^<]*)</td><td class="num">([^<]*)</td>',
        page.sections["Global importance"],
    )
    order = np.argsort(-mean_abs)
    assert [name for _, name, _ in cells] == [names[j] for j in order[:15]]
    np.testing.assert_allclose([float(v) for *_, v in cells], mean_abs[order[:15]], rtol=1e-3)
    assert float(page.facts("Summary")["max |delta| (efficiency gap)"]) == pytest.approx(
        np.abs(exp.delta[:, 1]).max(), rel=1e-3, abs=1e-12
    )


def test_feature_names_are_escaped(tmp_path):
    pd = pytest.importorskip("pandas")
    rng = np.random.default_rng(0)
    evil = "<script>alert(1)</script>"
    X = pd.DataFrame(rng.normal(size=(50, 3)), columns=[evil, "b & c", 'say "hi"'])
    model = gb.wrap(lambda Z: np.asarray(Z)[:, 0] + 2 * np.asarray(Z)[:, 1], n_inputs=3)
    text = Path(gb.report(model, X, path=tmp_path / "r.html", budget_s=5)).read_text("utf-8")
    assert "<script" not in text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in text
    assert "b &amp; c" in text and "say &quot;hi&quot;" in text


def test_without_y_permutation_importance_is_explained_away(tmp_path):
    X = np.random.default_rng(1).normal(size=(60, 4))
    model = gb.wrap(lambda Z: Z[:, 0] * Z[:, 1] - Z[:, 2], n_inputs=4)
    page = read(gb.report(model, X, path=tmp_path / "r.html", budget_s=5, title="No labels"))
    assert "<h1>No labels</h1>" in page.text
    assert "Permutation importance needs y" in page.sections["Global importance"]
    assert page.figures("Global importance") == 1
    assert page.facts("Summary")["method"] == "exact_shapley"  # 4 features: exact
    assert "highest prediction" in page.sections["Local explanations"]
    assert "No y was given" in page.sections["Data"]


def test_a_failing_plot_is_a_box_and_the_rest_is_drawn(monkeypatch, tmp_path):
    def broken(*args, **kwargs):
        raise RuntimeError("the <beeswarm> broke")

    monkeypatch.setattr(gb.plots, "beeswarm", broken)
    X = np.random.default_rng(2).normal(size=(40, 3))
    model = gb.wrap(lambda Z: Z.sum(axis=1), n_inputs=3)
    page = read(gb.report(model, X, path=tmp_path / "r.html", budget_s=5))
    assert (
        "This figure failed: RuntimeError: the &lt;beeswarm&gt; broke" in page.sections["Summary"]
    )
    assert page.figures("Summary") == 0 and page.figures("Global importance") == 1
    assert page.figures("Local explanations") == 2


def test_a_tiny_budget_skips_the_optional_sections_and_says_why(tmp_path):
    X = np.random.default_rng(3).normal(size=(300, 12))
    model = gb.wrap(lambda Z: np.tanh(Z @ np.arange(12.0)), n_inputs=12)
    y = np.tanh(X @ np.arange(12.0))
    page = read(gb.report(model, X, y, tmp_path / "r.html", budget_s=1e-3))
    for title in ("Partial dependence", "Accumulated local effects", "Interactions"):
        assert "Not computed:" in page.sections[title] and "budget_s=" in page.sections[title]
        assert page.figures(title) == 0
    assert page.figures("Summary") == 1  # the attributions are never skipped
    about = page.sections["About this report"]
    assert "Partial dependence: skipped" in about and "even the smallest settings" in about


def test_rows_are_the_waterfalls(tmp_path):
    X = np.random.default_rng(4).normal(size=(50, 3))
    model = gb.wrap(lambda Z: Z[:, 0] - Z[:, 2], n_inputs=3)
    page = read(gb.report(model, X, path=tmp_path / "r.html", rows=[5, -1], budget_s=5))
    local = page.sections["Local explanations"]
    assert page.figures("Local explanations") == 2
    assert "Row 5 (asked for (rows=))" in local and "Row 49 (asked for (rows=))" in local


def test_string_labels_and_a_multiclass_estimator(tmp_path):
    pd = pytest.importorskip("pandas")
    from sklearn.datasets import load_iris
    from sklearn.linear_model import LogisticRegression

    data = load_iris(as_frame=True)
    X = data.data
    y = pd.Series(np.asarray(data.target_names)[data.target])
    model = LogisticRegression(max_iter=500).fit(X, y)
    page = read(gb.report(model, X, y, tmp_path / "r.html", budget_s=8))
    assert "each row&#x27;s predicted class" in page.text
    assert "sepal length (cm)" in page.sections["Global importance"]
    assert "metric accuracy" in page.facts("Global importance")["permutation importance"]
    assert "setosa" in page.sections["Data"]
    assert page.figures("Global importance") == 2
    assert 'class="failed"' not in page.text


def test_polars_frame_names_the_features(tmp_path):
    pl = pytest.importorskip("polars")
    rng = np.random.default_rng(5)
    X = pl.DataFrame({"height": rng.normal(size=40), "weight": rng.normal(size=40)})
    model = gb.wrap(lambda Z: np.asarray(Z)[:, 0] * 2, n_inputs=2)
    page = read(gb.report(model, X, path=tmp_path / "r.html", budget_s=5, rows=[3]))
    assert "height" in page.sections["Global importance"]
    assert page.facts("Data")["kind"] == "DataFrame"


@pytest.mark.parametrize(
    ("options", "error", "match"),
    [
        ({"budget_s": 0}, ValueError, "budget_s: expected a number of seconds > 0"),
        ({"feature_names": ["a"]}, ValueError, "feature_names: expected 3 names"),
        ({"rows": [99]}, ValueError, "rows: row 99 is out of range"),
        ({"rows": ["a"]}, TypeError, "rows: expected row indices"),
        ({"explanations": object()}, TypeError, "explanations: expected glassbox results"),
        ({"target": "nope"}, ValueError, "target: no output named 'nope'"),
        ({"seed": 1.5}, TypeError, "seed: expected an integer"),
    ],
)
def test_bad_arguments_name_themselves(tmp_path, options, error, match):
    X = np.random.default_rng(6).normal(size=(20, 3))
    model = gb.wrap(lambda Z: Z[:, :2], n_inputs=3)
    with pytest.raises(error, match=match):
        gb.report(model, X, path=tmp_path / "r.html", **options)
    assert not (tmp_path / "r.html").exists()


def test_explanations_of_images_are_refused(tmp_path):
    X = np.random.default_rng(7).normal(size=(4, 3))
    exp = gb.Explanation(values=np.zeros((4, 1, 2, 2)), data=np.zeros((4, 1, 2, 2)))
    model = gb.wrap(lambda Z: Z[:, 0], n_inputs=3)
    with pytest.raises(ValueError, match="explanations: the report shows tabular"):
        gb.report(model, X, path=tmp_path / "r.html", explanations=exp)


# -- the command line: glassbox report MODEL DATA ------------------------------------------------


@pytest.fixture(scope="module")
def saved(breast_cancer, tmp_path_factory):
    """The breast-cancer model saved by glassbox, and its data as CSV (with the label)."""
    pd = pytest.importorskip("pandas")
    model, X, y, names = breast_cancer
    folder = tmp_path_factory.mktemp("cli")
    model.save(folder / "model.gb")
    frame = pd.DataFrame(X[:120], columns=names)
    frame["diagnosis"] = np.where(y[:120] == 1, "1", "0")
    frame.to_csv(folder / "data.csv", index=False)
    np.save(folder / "data.npy", np.column_stack([X[:120], y[:120]]))
    return folder


def run_cli(*argv):
    from glassbox.cli import main

    return main(["report", *map(str, argv)])


def test_cli_writes_the_report_from_a_model_and_a_csv(saved, tmp_path, capsys):
    out = tmp_path / "cli.html"
    code = run_cli(
        saved / "model.gb",
        saved / "data.csv",
        "--label",
        "diagnosis",
        "--out",
        out,
        "--rows",
        "3,7",
        "--budget",
        "10",
        "--seed",
        "2",
    )
    assert code == 0, capsys.readouterr().err
    assert capsys.readouterr().out.strip() == f"wrote {out}"
    page = read(out)
    assert "worst radius" in page.sections["Global importance"]  # names from the header
    assert "metric accuracy" in page.facts("Global importance")["permutation importance"]
    assert "Row 3 (asked for (rows=))" in page.sections["Local explanations"]
    assert "seed=2" in page.facts("Summary")["options"]
    assert 'class="failed"' not in page.text


def test_cli_npy_label_by_index_and_target(saved, tmp_path):
    out = tmp_path / "npy.html"
    assert (
        run_cli(
            saved / "model.gb",
            saved / "data.npy",
            "--label",
            "-1",
            "--out",
            out,
            "--target",
            "0",
            "--budget",
            "5",
        )
        == 0
    )
    page = read(out)
    assert page.facts("Model")["explained output"] == "output '0' (chosen with target=)"
    assert page.facts("Data")["features"] == "30"


def test_cli_parquet_through_polars(tmp_path):
    pl = pytest.importorskip("polars")
    rng = np.random.default_rng(8)
    pl.DataFrame({"a": rng.normal(size=30), "b": rng.normal(size=30)}).write_parquet(
        tmp_path / "d.parquet"
    )
    spec = gb.NetworkSpec(input_shape=(2,))
    spec.add("dense", "fc", weight=np.array([[1.0, -2.0]]), bias=np.array([0.5]))
    gb.build_network(spec).save(tmp_path / "m.gb")
    out = tmp_path / "p.html"
    assert run_cli(tmp_path / "m.gb", tmp_path / "d.parquet", "--out", out, "--budget", "5") == 0
    assert "<td>fc</td><td>dense</td>" in read(out).sections["Model"]


def test_cli_refuses_a_pickle_without_allow_pickle(breast_cancer, tmp_path, capsys):
    import joblib
    from sklearn.linear_model import LogisticRegression

    _, X, y, _ = breast_cancer
    joblib.dump(LogisticRegression(max_iter=200).fit(X[:100], y[:100]), tmp_path / "m.joblib")
    np.save(tmp_path / "x.npy", X[:50])
    out = tmp_path / "pickle.html"
    assert run_cli(tmp_path / "m.joblib", tmp_path / "x.npy", "--out", out) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "--allow-pickle" in err and "runs code" in err
    assert not out.exists()
    assert (
        run_cli(
            tmp_path / "m.joblib",
            tmp_path / "x.npy",
            "--out",
            out,
            "--allow-pickle",
            "--budget",
            "5",
        )
        == 0
    )
    assert "sklearn.linear_model" in read(out).facts("Model")["type"]


@pytest.mark.parametrize(
    ("argv", "match"),
    [
        (["nothere.gb", "{data}"], "MODEL: no file at"),
        (["{model}", "nothere.csv"], "DATA: no file at"),
        (["{model}", "{model}"], "DATA: expected a .csv, .parquet or .npy file"),
        (["{model}", "{data}", "--label", "nope"], "--label: DATA has no column 'nope'"),
        (["{data}", "{data}"], "path:"),
        (["{model}", "{data}", "--label", "diagnosis", "--target", "zzz"], "target: no output"),
    ],
)
def test_cli_bad_input_is_exit_2_in_one_line(saved, capsys, argv, match):
    files = {"model": saved / "model.gb", "data": saved / "data.csv"}
    assert run_cli(*[arg.format(**files) for arg in argv]) == 2
    err = capsys.readouterr().err
    assert err.startswith("glassbox report: error: ") and err.count("\n") == 1
    assert match in err


def test_cli_bad_usage_and_failures(saved, monkeypatch, capsys):
    with pytest.raises(SystemExit) as stopped:
        run_cli(saved / "model.gb", saved / "data.csv", "--budget", "-1")
    assert stopped.value.code == 2

    def broken(*args, **kwargs):
        raise RuntimeError("disk on fire\nsecond line")

    monkeypatch.setattr("glassbox.reporting.report", broken)
    assert run_cli(saved / "model.gb", saved / "data.csv") == 1
    assert capsys.readouterr().err.endswith("error: disk on fire second line\n")


def test_cli_help_has_an_example(capsys):
    with pytest.raises(SystemExit) as stopped:
        run_cli("--help")
    assert stopped.value.code == 0
    assert "glassbox report model.gb data.csv --label" in capsys.readouterr().out


def test_cli_in_a_subprocess(saved, tmp_path):
    out = tmp_path / "sub.html"
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "glassbox",
            "report",
            str(saved / "model.gb"),
            str(saved / "data.csv"),
            "--label",
            "diagnosis",
            "--out",
            str(out),
            "--budget",
            "5",
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == f"wrote {out}" and out.stat().st_size < MAX_BYTES
    assert list(read(out).sections) == list(SECTIONS)


def test_cli_onnx_model(tmp_path):
    onnx = pytest.importorskip("onnx")
    from onnx import TensorProto, helper, numpy_helper

    rng = np.random.default_rng(9)
    weights = numpy_helper.from_array(rng.normal(size=(4, 3)).astype(np.float32), "W")
    graph = helper.make_graph(
        [
            helper.make_node("Gemm", ["x", "W"], ["z"], name="fc"),
            helper.make_node("Softmax", ["z"], ["y"], name="softmax", axis=-1),
        ],
        "tiny",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["n", 4])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["n", 3])],
        initializer=[weights],
    )
    onnx.save(
        helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), tmp_path / "m.onnx"
    )
    np.save(tmp_path / "x.npy", rng.normal(size=(40, 4)).astype(np.float32))
    out = tmp_path / "onnx.html"
    assert run_cli(tmp_path / "m.onnx", tmp_path / "x.npy", "--out", out, "--budget", "5") == 0
    page = read(out)
    assert "<td>fc</td><td>dense</td>" in page.sections["Model"]
    assert page.facts("Model")["parameters"] == "12"
    assert "each row's predicted class" in page.facts("Model")["explained output"]


def test_a_pipeline_on_a_mixed_frame(tmp_path):
    pd = pytest.importorskip("pandas")
    from sklearn.compose import make_column_transformer
    from sklearn.linear_model import Ridge
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder

    rng = np.random.default_rng(10)
    colour = rng.choice(["red", "green", "blue"], 120)
    X = pd.DataFrame(
        {"size": rng.normal(size=120), "colour": colour, "age": rng.integers(1, 9, 120)}
    )
    y = 2 * X["size"] + 3 * (X["colour"] == "red") + rng.normal(0, 0.1, 120)
    encode = make_column_transformer((OneHotEncoder(), ["colour"]), remainder="passthrough")
    model = make_pipeline(encode, Ridge()).fit(X, y)
    page = read(gb.report(model, X, y, tmp_path / "r.html", budget_s=10))
    assert 'class="failed"' not in page.text
    assert "<td>colour</td><td>categorical</td>" in page.sections["Data"]
    assert "metric r2" in page.facts("Global importance")["permutation importance"]
    assert page.facts("Summary")["method"] == "exact_shapley"
    assert page.figures("Partial dependence") == 3  # the categorical one too
    assert page.figures("Accumulated local effects") == 2  # numeric features only
    assert "worst predicted (|f(x) - y|" in page.sections["Local explanations"]


def test_a_failure_box_is_short():
    from glassbox.reporting.html import MAX_MESSAGE, failure

    box = failure("figure", ValueError("x" * 10_000 + "\n<b>"))
    assert len(box) < MAX_MESSAGE + 100 and box.endswith("...</div>")
