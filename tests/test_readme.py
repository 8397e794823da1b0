"""The README's "Your data" section runs as written (its code blocks, in order, in one
namespace), so what it promises stays true."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

README = Path(__file__).resolve().parents[1] / "README.md"


def your_data_blocks() -> list[str]:
    text = README.read_text(encoding="utf-8")
    start = text.index("\n## Your data\n")
    end = text.index("\n## ", start + 1)
    return re.findall(r"```python\n(.*?)```", text[start:end], flags=re.S)


def test_the_your_data_section_runs(tmp_path, monkeypatch) -> None:
    pytest.importorskip("pandas")
    pytest.importorskip("sklearn")
    pytest.importorskip("torch")
    pytest.importorskip("shap")
    monkeypatch.chdir(tmp_path)
    blocks = your_data_blocks()
    assert len(blocks) >= 4, "the section lost its examples"
    namespace: dict[str, object] = {}
    for block in blocks:
        exec(compile(block, str(README), "exec"), namespace)
    # what the comments claim
    exp = namespace["exp"]
    assert exp.feature_names[:2] == ["mean radius", "mean texture"]  # type: ignore[attr-defined]
    assert exp.output_names == ["benign", "malignant"]  # type: ignore[attr-defined]
    assert namespace["shap_maps"].values.shape == (4, 1, 8, 8)  # type: ignore[attr-defined]
