"""The README's "Your data", "Plots and reports" and "Tree ensembles" sections run as written
(their code blocks, in order, in one namespace), so what they promise stays true."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

README = Path(__file__).resolve().parents[1] / "README.md"


def section_blocks(title: str) -> list[str]:
    text = README.read_text(encoding="utf-8")
    start = text.index(f"\n## {title}\n")
    end = text.index("\n## ", start + 1)
    return re.findall(r"```python\n(.*?)```", text[start:end], flags=re.S)


def test_the_your_data_section_runs(tmp_path, monkeypatch) -> None:
    pytest.importorskip("pandas")
    pytest.importorskip("sklearn")
    pytest.importorskip("torch")
    pytest.importorskip("shap")
    monkeypatch.chdir(tmp_path)
    blocks = section_blocks("Your data")
    assert len(blocks) >= 4, "the section lost its examples"
    namespace: dict[str, object] = {}
    for block in blocks:
        exec(compile(block, str(README), "exec"), namespace)
    # what the comments claim
    exp = namespace["exp"]
    assert exp.feature_names[:2] == ["mean radius", "mean texture"]  # type: ignore[attr-defined]
    assert exp.output_names == ["benign", "malignant"]  # type: ignore[attr-defined]
    assert namespace["shap_maps"].values.shape == (4, 1, 8, 8)  # type: ignore[attr-defined]


def test_the_plots_and_reports_section_runs_and_its_pictures_are_committed(
    tmp_path, monkeypatch
) -> None:
    from matplotlib.pyplot import imread

    monkeypatch.chdir(tmp_path)
    (block,) = section_blocks("Plots and reports")
    namespace: dict[str, object] = {}
    exec(compile(block, str(README), "exec"), namespace)
    exp = namespace["exp"]
    assert exp.output_names == ["benign", "malignant"]  # type: ignore[attr-defined]
    assert float(abs(exp.delta).max()) < 1e-4  # type: ignore[attr-defined]
    assert (tmp_path / "report.html").stat().st_size < 3 * 1024 * 1024
    committed = README.parent / "docs" / "images"
    for name in ("beeswarm.png", "waterfall.png"):
        made, kept = imread(tmp_path / name), imread(committed / name)
        assert (committed / name).stat().st_size < 200_000, f"{name}: keep README pictures small"
        assert abs(made.shape[0] - kept.shape[0]) < 40, f"{name}: re-run the README code"
        assert abs(made.shape[1] - kept.shape[1]) < 40, f"{name}: re-run the README code"


def test_the_inside_the_model_section_runs_and_its_pictures_are_committed(
    tmp_path, monkeypatch, capsys
) -> None:
    from matplotlib.pyplot import imread

    pytest.importorskip("sklearn")
    monkeypatch.chdir(tmp_path)
    (block,) = section_blocks("Inside the model")
    namespace: dict[str, object] = {}
    exec(compile(block, str(README), "exec"), namespace)
    out = capsys.readouterr().out
    # what the comments claim: the tables printed, a copy compressed, the original untouched
    assert "Total params" in out and "Spectral norm" in out and "Error tree" in out
    diagnosis, small, model = namespace["diagnosis"], namespace["small"], namespace["model"]
    assert diagnosis.n_errors > 0  # type: ignore[attr-defined]
    assert small is not model
    dense = [layer.kind for layer in model.spec.layers].index("dense")  # type: ignore[attr-defined]
    first = model.spec.layers[dense].weights["weight"]  # type: ignore[attr-defined]
    pruned = small.spec.layers[dense].weights["weight"]  # type: ignore[attr-defined]
    assert (first != 0).all() and (pruned == 0).mean() >= 0.5
    # pruned and quantised on the estimator's own weights, the copy still agrees with the model
    assert "agreement" in out and small.compression.bits == 8  # type: ignore[attr-defined]
    committed = README.parent / "docs" / "images"
    for name in ("activations.png", "errors.png"):
        made, kept = imread(tmp_path / name), imread(committed / name)
        assert (committed / name).stat().st_size < 200_000, f"{name}: keep README pictures small"
        assert abs(made.shape[0] - kept.shape[0]) < 40, f"{name}: re-run the README code"
        assert abs(made.shape[1] - kept.shape[1]) < 40, f"{name}: re-run the README code"


def test_the_text_and_sequence_models_section_runs() -> None:
    torch = pytest.importorskip("torch")
    blocks = section_blocks("Text and sequence models")
    assert len(blocks) == 1, "the section lost its example"
    namespace: dict[str, object] = {}
    exec(compile(blocks[0], str(README), "exec"), namespace)
    module, ids, mask = namespace["module"], namespace["ids"], namespace["mask"]
    with torch.no_grad():
        expected = module(torch.tensor(ids), torch.tensor(mask)).numpy()  # type: ignore[operator]
    # what the comments claim
    np.testing.assert_allclose(namespace["logits"], expected, rtol=1e-5, atol=1e-5)
    assert namespace["tokens"].shape == (8, 16)  # type: ignore[attr-defined]
    exp = namespace["exp"]
    assert exp.values.shape == (8, 16, 32)  # type: ignore[attr-defined]
    relevance, shap = namespace["relevance"], namespace["shap"]
    assert relevance.values.shape == (8, 16)  # type: ignore[attr-defined]
    assert relevance.inputs == {"input_ids": (16,)}  # type: ignore[attr-defined]
    assert shap.values.shape == (2, 16)  # type: ignore[attr-defined]
    gap = shap.values.sum(axis=1) - (expected[:2, 1] - shap.base_values)  # type: ignore[attr-defined]
    np.testing.assert_allclose(gap, 0.0, atol=1e-4)
    padding = np.abs(shap.values[:, 12:]).max()  # a dummy (equal to the background): ~0
    assert padding < 0.1 * np.abs(shap.values).max()  # type: ignore[attr-defined]


def test_the_tree_ensembles_section_runs(capsys) -> None:
    pytest.importorskip("xgboost")
    pytest.importorskip("sklearn")
    blocks = section_blocks("Tree ensembles")
    assert len(blocks) == 1, "the section lost its example"
    namespace: dict[str, object] = {}
    exec(compile(blocks[0], str(README), "exec"), namespace)
    exp, pairs, probs = namespace["exp"], namespace["pairs"], namespace["probs"]
    # what the comments claim
    assert exp.values.shape == (100, 30)  # type: ignore[attr-defined]
    assert abs(exp.delta).max() < 1e-9  # type: ignore[attr-defined]
    assert pairs.values.shape == (10, 30, 30)  # type: ignore[attr-defined]
    np.testing.assert_allclose(
        pairs.values.sum(axis=2),  # type: ignore[attr-defined]
        exp.values[:10],  # type: ignore[attr-defined]
        atol=1e-9,
    )
    booster = namespace["booster"]
    X = namespace["X"]
    total = probs.values.sum(axis=1) + probs.base_values  # type: ignore[attr-defined]
    want = booster.predict_proba(X[:10])[:, 1]  # type: ignore[attr-defined,index]
    np.testing.assert_allclose(total, want, atol=1e-5)
    assert "(100, 30)" in capsys.readouterr().out
