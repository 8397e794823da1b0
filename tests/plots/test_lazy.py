"""``import glassbox`` stays light: matplotlib is imported by ``glassbox.plots`` only."""

from __future__ import annotations

import subprocess
import sys

import pytest

import glassbox as gb


def test_import_glassbox_does_not_import_matplotlib():
    code = (
        "import sys, glassbox\n"
        "assert 'matplotlib' not in sys.modules, 'import glassbox imported matplotlib'\n"
        "assert 'glassbox.plots' not in sys.modules\n"
        "glassbox.plots\n"
        "assert 'matplotlib' in sys.modules\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_plots_attribute_and_unknown_attribute():
    assert gb.plots.plot is not None
    with pytest.raises(AttributeError, match="no attribute 'nonsense'"):
        gb.nonsense  # noqa: B018


def test_plot_of_something_else_names_the_argument():
    with pytest.raises(TypeError, match="result: expected a glassbox result"):
        gb.plots.plot(object())
