"""The report opened in headless Chromium (tests/chromium.py): every figure is there and loaded,
nothing but the page itself (and its data: images) is requested, the screenshot is not blank,
and a feature name holding a script is shown as text. Chromium must be installed: without it
these tests fail (they do not skip)."""

from __future__ import annotations

import numpy as np
import pytest

import glassbox as gb
from chromium import open_page
from test_report import breast_cancer  # noqa: F401 - the fixture

FIGURES = """(() => {
  const figures = [...document.querySelectorAll('figure.gb-figure')];
  const images = [...document.images];
  return {
    expected: Number(document.body.dataset.figures),
    figures: figures.length,
    drawn: figures.filter(f => f.querySelector(':scope > svg, :scope > img')).length,
    sized: figures.filter(f => f.firstElementChild.getBoundingClientRect().width > 100 &&
                               f.firstElementChild.getBoundingClientRect().height > 100).length,
    images: images.length,
    loaded: images.filter(i => i.complete && i.naturalWidth > 0).length,
    failed: document.querySelectorAll('.failed').length,
    scripts: document.scripts.length,
    sections: document.querySelectorAll('section > h2').length,
  };
})()"""


def colours(pixels: np.ndarray) -> int:
    """Distinct RGB colours of a screenshot."""
    rgb = np.round(np.asarray(pixels)[..., :3] * 255).astype(np.uint32)
    return len(np.unique((rgb[..., 0] << 16) | (rgb[..., 1] << 8) | rgb[..., 2]))


def test_breast_cancer_report_in_chromium(breast_cancer, tmp_path):  # noqa: F811
    model, X, y, names = breast_cancer
    path = gb.report(model, X, y, tmp_path / "report.html", feature_names=names)
    page = open_page(path, FIGURES)
    url = (tmp_path / "report.html").resolve().as_uri()
    outside = [r for r in page.requests if r != url and not r.startswith("data:")]
    assert outside == [], f"the report requested {outside}"
    assert page.requests[0] == url
    seen = page.value
    assert seen["expected"] == 21  # as test_report counts them, per section
    assert seen["figures"] == seen["drawn"] == seen["sized"] == seen["expected"]
    assert seen["images"] >= 1 and seen["loaded"] == seen["images"]
    assert seen["failed"] == 0 and seen["scripts"] == 0 and seen["sections"] == 12
    assert page.pixels.shape[0] > 2000  # the full page, not the window
    assert colours(page.pixels) > 500, "the screenshot is (nearly) blank"
    assert page.dialogs == [] and page.console == []


def test_a_script_in_a_name_is_text_in_chromium(tmp_path):
    pd = pytest.importorskip("pandas")
    evil = "<script>alert(1)</script>"
    X = pd.DataFrame(np.random.default_rng(0).normal(size=(30, 2)), columns=[evil, "b"])
    model = gb.wrap(lambda Z: np.asarray(Z)[:, 0] - np.asarray(Z)[:, 1], n_inputs=2)
    path = gb.report(model, X, path=tmp_path / "r.html", budget_s=5)
    page = open_page(path, f"document.body.innerText.includes({evil!r})")
    assert page.value is True
    assert page.dialogs == []
