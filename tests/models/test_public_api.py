"""The public adapters show their real signatures, and importing glassbox imports no framework."""

from __future__ import annotations

import inspect
import subprocess
import sys

import glassbox as gb

ADAPTERS = {
    "from_torch": ["module", "input_shape", "output", "example_input"],
    "from_onnx": ["model", "output"],
    "from_keras": ["model", "output"],
    "from_sklearn": ["estimator", "output"],
}


def test_adapters_show_their_real_signatures() -> None:
    for name, expected in ADAPTERS.items():
        function = getattr(gb, name)
        parameters = inspect.signature(function).parameters
        assert list(parameters)[: len(expected)] == expected, name
        assert {"feature_names", "output_names"} <= set(parameters), name
        assert not any(p.kind is p.VAR_KEYWORD for p in parameters.values()), name
        assert function.__doc__ and "Examples" in function.__doc__, name


def test_every_public_callable_has_a_signature_without_catch_alls() -> None:
    for name in gb.__all__:
        obj = getattr(gb, name)
        if inspect.isfunction(obj):
            parameters = inspect.signature(obj).parameters.values()
            assert not any(p.kind is p.VAR_KEYWORD for p in parameters), name


def test_import_glassbox_imports_no_framework() -> None:
    code = (
        "import sys, glassbox, glassbox.models, glassbox.explainers; "
        "print(sorted(m for m in ('torch', 'keras', 'onnx', 'sklearn', 'tensorflow') "
        "if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_the_core_loader_is_the_first_glassbox_import():
    """On a portable wheel ``glassbox._core`` exists only once ``_core_loader`` has chosen the
    CPU level: a subpackage imported before it that imports ``_core`` breaks ``import glassbox``
    there (the dev build's in-place module hides it)."""
    import ast
    from pathlib import Path

    source = Path(gb.__file__).read_text(encoding="utf-8")
    first = next(
        node
        for node in ast.parse(source).body
        if isinstance(node, (ast.Import, ast.ImportFrom))
        and (getattr(node, "module", None) or "").startswith("glassbox")
    )
    assert first.module == "glassbox._core_loader"
