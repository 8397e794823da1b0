"""The compiled core's CPU dispatch (glassbox/_core_loader.py, docs/architecture.md "Portable
builds and CPU dispatch"): the level choice as a function of the CPU's features, GLASSBOX_CPU's
error paths, that a build with one core module imports as it always did, and that every level a
portable build has and this CPU runs gives the same results (each in its own process: one process
loads one level)."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import glassbox as gb
from glassbox import _core
from glassbox._core_loader import (
    ENV,
    LEVELS,
    X86_64_V2,
    X86_64_V3,
    X86_64_V4,
    available_levels,
    choose_level,
)

ALL = list(LEVELS)
PORTABLE = importlib.util.find_spec("glassbox._cpu") is not None


@pytest.mark.parametrize(
    ("features", "expected"),
    [
        (frozenset(), "baseline"),
        (X86_64_V2, "baseline"),
        (X86_64_V2 | {"avx"}, "baseline"),  # Sandy / Ivy Bridge: AVX without AVX2
        (X86_64_V3 - {"fma"}, "baseline"),  # every v3 feature is needed
        (X86_64_V3, "avx2"),
        (X86_64_V3 | {"avx512f", "avx512cd"}, "avx2"),  # Xeon Phi: AVX-512 without BW/DQ/VL
        (X86_64_V4, "avx512"),
        (X86_64_V4 | {"avx512vnni", "amx"}, "avx512"),
    ],
)
def test_the_fastest_level_the_cpu_runs_is_chosen(features: frozenset[str], expected: str) -> None:
    assert choose_level(features, ALL) == expected


def test_only_a_built_level_is_chosen() -> None:
    assert choose_level(X86_64_V4, ["baseline", "avx2"]) == "avx2"
    assert choose_level(X86_64_V3, ["baseline", "avx512"]) == "baseline"
    with pytest.raises(ImportError, match="no compiled core"):
        choose_level(X86_64_V4, [])


@pytest.mark.parametrize("level", ALL)
def test_the_override_forces_any_level_the_cpu_runs(level: str) -> None:
    assert choose_level(X86_64_V4, ALL, level) == level
    assert choose_level(X86_64_V4, ALL, f" {level.upper()} ") == level


def test_an_unknown_override_names_the_variable_and_the_levels() -> None:
    with pytest.raises(
        ValueError,
        match=rf"{ENV}='sse9' is not a CPU level: expected one of "
        "baseline, avx2, avx512",
    ):
        choose_level(X86_64_V4, ALL, "sse9")


def test_an_override_the_cpu_cannot_run_names_what_it_lacks() -> None:
    with pytest.raises(
        ValueError,
        match=rf"{ENV}='avx512' cannot be used: this CPU lacks "
        "avx512bw, avx512cd, avx512dq, avx512f, avx512vl; this CPU runs "
        "baseline, avx2",
    ):
        choose_level(X86_64_V3, ALL, "avx512")


def test_an_override_of_a_level_not_built_says_so() -> None:
    with pytest.raises(ValueError, match="built without that level; this CPU runs baseline, avx2"):
        choose_level(X86_64_V4, ["baseline", "avx2"], "avx512")


def _python(code: str, **env: str) -> subprocess.CompletedProcess[str]:
    """Run ``code`` in a fresh interpreter that imports the same glassbox as this one."""
    path = str(Path(gb.__file__).resolve().parents[1])
    environ = {**os.environ, "PYTHONPATH": path, **env}
    return subprocess.run(
        [sys.executable, "-c", code], env=environ, capture_output=True, text=True, timeout=120
    )


def test_the_core_is_registered_as_glassbox_core() -> None:
    assert sys.modules["glassbox._core"] is _core
    assert gb._core is _core
    assert gb.cpu_level() == _core._cpu_level
    assert gb.cpu_level() in available_levels()


@pytest.mark.skipif(PORTABLE, reason="a portable x86-64 build: one module per CPU level")
def test_a_build_for_one_machine_imports_its_one_module() -> None:
    assert _core.__name__ == "glassbox._core"
    assert Path(_core.__file__).name.startswith("_core.")
    assert gb.cpu_level() in {"native", "generic"}
    assert available_levels() == [gb.cpu_level()]
    # its level is the only value GLASSBOX_CPU may take
    assert _python("import glassbox", **{ENV: gb.cpu_level()}).returncode == 0
    failed = _python("import glassbox", **{ENV: "avx2"})
    assert failed.returncode != 0
    assert f"ValueError: {ENV}='avx2' cannot be used: this glassbox has one core module" in (
        failed.stderr
    )


def test_an_unknown_override_fails_the_import() -> None:
    failed = _python("import glassbox", **{ENV: "sse9"})
    assert failed.returncode != 0
    assert f"ValueError: {ENV}='sse9'" in failed.stderr


# A small network with the transcendental activations and a convolution: the levels vectorise
# these differently, and must agree within float32 rounding.
_JOB = """
import sys
import numpy as np
import glassbox as gb
from glassbox.models.spec import NetworkSpec

rng = np.random.default_rng(0)
spec = NetworkSpec(input_shape=(1, 8, 8))
spec.add("conv2d", "conv", weight=rng.normal(0, 0.3, (4, 1, 3, 3)), bias=rng.normal(0, 0.1, 4))
spec.add("tanh", "act0")
spec.add("flatten", "flat")
spec.add("dense", "fc1", weight=rng.normal(0, 0.1, (32, 144)), bias=rng.normal(0, 0.1, 32))
spec.add("gelu", "act1")
spec.add("dense", "fc2", weight=rng.normal(0, 0.3, (16, 32)), bias=rng.normal(0, 0.1, 16))
spec.add("sigmoid", "act2")
spec.add("dense", "fc3", weight=rng.normal(0, 0.3, (3, 16)), bias=rng.normal(0, 0.1, 3))
model = gb.build_network(spec)
X = rng.standard_normal((40, 1, 8, 8)).astype(np.float32)
ig = gb.IntegratedGradients(model, n_steps=16)(X, baselines=0.0, target=1)
np.savez(sys.argv[1], level=gb.cpu_level(), predictions=model.predict(X), ig=ig.values)
"""


def test_every_level_this_cpu_runs_gives_the_same_results(tmp_path: Path) -> None:
    levels = available_levels()
    if len(levels) < 2:
        pytest.skip(f"one core module here ({levels[0]}): a portable x86-64 build has several")
    results = {}
    for level in levels:
        out = tmp_path / f"{level}.npz"
        done = _python(f"import sys; sys.argv = ['job', {str(out)!r}]\n{_JOB}", **{ENV: level})
        assert done.returncode == 0, done.stderr
        results[level] = np.load(out)
        assert str(results[level]["level"]) == level
    first = results[levels[0]]
    for level in levels[1:]:
        for key in ("predictions", "ig"):
            np.testing.assert_allclose(
                results[level][key], first[key], rtol=1e-4, atol=1e-6, err_msg=f"{level}: {key}"
            )


def test_the_version_names_the_cpu_level(capsys: pytest.CaptureFixture[str]) -> None:
    from glassbox.cli import main

    with pytest.raises(SystemExit):
        main(["--version"])
    assert f"(compiled core: {gb.cpu_level()})" in capsys.readouterr().out
