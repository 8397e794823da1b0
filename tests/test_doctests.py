"""The package's docstring examples: enough of them, none switched off with ``+SKIP``, one on every
public name, and the conftest hook that skips an example only when a framework it imports is
missing. (The examples themselves run as doctests in a plain ``pytest``: see tests/conftest.py.)
"""

from __future__ import annotations

import doctest
import importlib
import inspect
import os
import pkgutil
import re
import subprocess
import sys
from pathlib import Path

import pytest

import glassbox
from conftest import OPTIONAL_FRAMEWORKS, imported_modules, missing_frameworks

MIN_DOCTESTS = 20
EXAMPLES_SECTION = re.compile(
    r"^Examples\n-{8,}\n(?P<body>.*?)(?=^\S[^\n]*\n-{3,}\n|\Z)", re.M | re.S
)


def package_doctests() -> dict[str, doctest.DocTest]:
    """Every doctest with examples in every module of glassbox, by name."""
    finder = doctest.DocTestFinder()
    modules = [glassbox]
    for info in pkgutil.walk_packages(glassbox.__path__, prefix="glassbox."):
        if info.name.rpartition(".")[2] != "__main__":  # running it would run the CLI
            modules.append(importlib.import_module(info.name))
    tests = {}
    for module in modules:
        for test in finder.find(module):
            if test.examples:
                tests[test.name] = test
    return tests


def test_the_package_has_doctests_and_none_is_skipped() -> None:
    tests = package_doctests()
    assert len(tests) >= MIN_DOCTESTS, sorted(tests)
    skipped = [
        f"{name}: {example.source.strip()}"
        for name, test in tests.items()
        for example in test.examples
        if example.options.get(doctest.SKIP)
    ]
    assert skipped == [], "examples may not use +SKIP (missing frameworks are skipped by conftest)"
    assert not any("+SKIP" in (test.docstring or "") for test in tests.values())


def test_every_public_name_has_a_numpydoc_docstring_with_examples() -> None:
    missing = []
    for name in glassbox.__all__:
        obj = getattr(glassbox, name)
        if not (inspect.isclass(obj) or inspect.isfunction(obj)):
            continue  # __version__
        doc = inspect.cleandoc(obj.__doc__ or "")  # its own docstring, not an inherited one
        section = EXAMPLES_SECTION.search(doc)
        summary = doc.splitlines()[0] if doc else ""
        if not summary or section is None or ">>>" not in section.group("body"):
            missing.append(name)
    assert missing == [], f"no numpydoc Examples section with >>> examples: {missing}"


# -- the conftest hook: skip an example only when a framework it imports is missing -----------


def _doctest(text: str) -> doctest.DocTest:
    return doctest.DocTestParser().get_doctest(text, {}, "example", None, 0)


def test_imported_modules_reads_every_import_form() -> None:
    source = "import numpy as np, torch.nn\nfrom sklearn.datasets import load_iris\nfrom . import x"
    assert imported_modules(source) == {"numpy", "torch", "sklearn"}
    assert imported_modules("from glassbox.explainers.lime import Lime") == {"glassbox"}
    assert imported_modules("lime = Lime(model)") == set()
    assert imported_modules("for x in") == set()  # not a whole statement: nothing


def test_missing_frameworks_names_only_uninstalled_frameworks_the_example_imports() -> None:
    test = _doctest(
        ">>> import numpy as np, glassbox as gb\n"
        ">>> from sklearn.linear_model import Ridge\n"
        ">>> import onnx.helper\n"
        ">>> model = gb.wrap(lambda X: X, n_inputs=1)\n"
    )
    assert missing_frameworks(test, importable=lambda name: False) == ["onnx", "sklearn"]
    assert missing_frameworks(test, importable=lambda name: name != "sklearn") == ["sklearn"]
    assert missing_frameworks(test, importable=lambda name: True) == []
    assert missing_frameworks(_doctest(">>> 1 + 1\n2\n"), importable=lambda name: False) == []
    assert {"torch", "keras", "onnx", "sklearn"} <= set(OPTIONAL_FRAMEWORKS)


def test_an_example_importing_a_missing_framework_is_skipped_with_its_name() -> None:
    package = Path(glassbox.__file__).parent
    tests_dir = Path(__file__).resolve().parent
    # sklearn blocked in a fresh interpreter: surrogate_tree's examples import it, ale's do not
    code = (
        "import sys; sys.modules['sklearn'] = None; import pytest; "
        "raise SystemExit(pytest.main(sys.argv[1:]))"
    )
    args = ["-p", "conftest", "-p", "no:cacheprovider", "-q", "-rs", "--doctest-modules"]
    paths = [str(package / "surrogate.py"), str(package / "inspection" / "ale.py")]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(tests_dir), *sys.path])}
    out = subprocess.run(
        [sys.executable, "-c", code, *args, *paths],
        capture_output=True,
        text=True,
        env=env,
        cwd=tests_dir,
        check=False,
    )
    assert out.returncode == 0, out.stdout + out.stderr
    assert "the example imports sklearn, which is not installed" in out.stdout
    assert re.search(r"\b[1-9]\d* passed, [1-9]\d* skipped\b", out.stdout), out.stdout


@pytest.mark.parametrize("name", ["ale", "h_statistic", "FeatureAblation"])
def test_framework_free_examples_import_no_optional_framework(name: str) -> None:
    test = doctest.DocTestFinder().find(getattr(glassbox, name))[0]
    assert missing_frameworks(test, importable=lambda _: False) == []
