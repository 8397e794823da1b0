"""Which compiled core this process uses, chosen once, when ``glassbox`` is first imported.

A build for the machine it runs on (the default, ``-march=native``) has one extension module,
``glassbox._core``, and so does a portable build for a CPU other than x86-64. A portable x86-64
build (``GLASSBOX_PORTABLE=ON``, the redistributable wheel) has one module per x86-64 level,
``glassbox._core_baseline`` (x86-64), ``_core_avx2`` (x86-64-v3) and ``_core_avx512`` (x86-64-v4),
and a baseline-compiled probe, ``glassbox._cpu``, that lists the CPU's features. The loader imports
the fastest level this CPU runs (or the one ``GLASSBOX_CPU`` names) and registers it as
``glassbox._core``, so ``from glassbox import _core`` means the same module everywhere.
``glassbox.cpu_level()`` says which one it is.

Examples
--------
>>> choose_level({"avx", "avx2", "bmi", "bmi2", "f16c", "fma", "lzcnt", "movbe"} | X86_64_V2,
...              built=LEVELS)
'avx2'
>>> choose_level(set(), built=LEVELS)
'baseline'
"""

from __future__ import annotations

import importlib
import importlib.util
import os
import sys
from collections.abc import Collection, Set
from types import ModuleType

#: The environment variable that forces a level: ``baseline``, ``avx2`` or ``avx512``.
ENV = "GLASSBOX_CPU"

# The features of the x86-64 psABI levels (what -march=x86-64-v2/v3/v4 lets the compiler use),
# by the names __builtin_cpu_supports uses (src/cpp/dispatch/cpu_features.cpp reports them).
X86_64_V2 = frozenset({"sse3", "ssse3", "sse4.1", "sse4.2", "popcnt"})
X86_64_V3 = X86_64_V2 | {"avx", "avx2", "bmi", "bmi2", "f16c", "fma", "lzcnt", "movbe"}
X86_64_V4 = X86_64_V3 | {"avx512f", "avx512bw", "avx512cd", "avx512dq", "avx512vl"}

#: The levels of a portable x86-64 build, slowest first, and the CPU features each needs.
LEVELS: dict[str, frozenset[str]] = {
    "baseline": frozenset(),
    "avx2": X86_64_V3,
    "avx512": X86_64_V4,
}


_PACKAGE = __name__.rpartition(".")[0]


def _normalise(override: str | None) -> str:
    return (override or "").strip().lower()


def choose_level(features: Set[str], built: Collection[str], override: str | None = None) -> str:
    """The level to import: ``override`` when given, else the fastest one built that the CPU runs.

    Parameters
    ----------
    features : set of str
        The CPU's features, as ``glassbox._cpu.features()`` names them.
    built : collection of str
        The levels whose module is installed.
    override : str, optional
        The value of ``GLASSBOX_CPU``, any case (``None`` or ``""``: not set).

    Raises
    ------
    ValueError
        When ``override`` is not a level, or names one the CPU cannot run or that is not built.
    ImportError
        When no level is given and none is built that the CPU runs (a broken install).

    Examples
    --------
    >>> choose_level(X86_64_V4, built=["baseline", "avx2"])
    'avx2'
    >>> choose_level(X86_64_V4, built=LEVELS, override="baseline")
    'baseline'
    """
    override = _normalise(override)
    runs = [name for name, needs in LEVELS.items() if needs <= features and name in built]
    if not override:
        if not runs:  # a broken install: even the baseline module is missing
            raise ImportError("glassbox: no compiled core module (glassbox._core*) is installed")
        return runs[-1]
    if override not in LEVELS:
        raise ValueError(
            f"{ENV}={override!r} is not a CPU level: expected one of {', '.join(LEVELS)} "
            f"(or unset {ENV} to use the fastest level this CPU runs)"
        )
    if override not in runs:
        missing = sorted(LEVELS[override] - set(features))
        why = (
            f"this CPU lacks {', '.join(missing)}"
            if missing
            else "this glassbox was built without that level"
        )
        raise ValueError(
            f"{ENV}={override!r} cannot be used: {why}; this CPU runs {', '.join(runs)} "
            f"(set {ENV} to one of those, or unset it)"
        )
    return override


def _levels_here() -> tuple[frozenset[str], list[str]]:
    """A portable x86-64 build's answer to: which features has this CPU, which levels are built."""
    cpu = importlib.import_module(f"{_PACKAGE}._cpu")
    built = [name for name in LEVELS if importlib.util.find_spec(f"{_PACKAGE}._core_{name}")]
    return frozenset(cpu.features()), built


def _load() -> ModuleType:
    """Import the core module (a single build's, or the chosen level's) as ``glassbox._core``."""
    override = _normalise(os.environ.get(ENV))
    if importlib.util.find_spec(f"{_PACKAGE}._core") is not None:  # one module: nothing to choose
        core = importlib.import_module(f"{_PACKAGE}._core")
        if override and override != core._cpu_level:
            raise ValueError(
                f"{ENV}={override!r} cannot be used: this glassbox has one core module, built for "
                f"{core._cpu_level!r} (only a portable x86-64 build has levels to choose from; "
                f"unset {ENV})"
            )
        return core
    level = choose_level(*_levels_here(), override)
    core = importlib.import_module(f"{_PACKAGE}._core_{level}")
    sys.modules[f"{_PACKAGE}._core"] = core
    sys.modules[_PACKAGE]._core = core
    return core


def available_levels() -> list[str]:
    """The levels this installation has and this CPU runs, slowest first (``GLASSBOX_CPU``'s
    choices); for a build with one core module, that module's level (``native`` or ``generic``).

    Examples
    --------
    >>> cpu_level() in available_levels()
    True
    """
    if importlib.util.find_spec(f"{_PACKAGE}._cpu") is None:
        return [cpu_level()]
    features, built = _levels_here()
    return [name for name, needs in LEVELS.items() if needs <= features and name in built]


_CORE = _load()


def cpu_level() -> str:
    """The instruction-set level of the compiled core in use.

    ``"native"``: built for this machine (``-march=native``, a source install); ``"baseline"``,
    ``"avx2"`` or ``"avx512"``: the level a portable x86-64 build chose for this CPU (or that
    ``GLASSBOX_CPU`` forced); ``"generic"``: a portable build for another architecture.

    Examples
    --------
    >>> import glassbox as gb
    >>> gb.cpu_level() in {"native", "generic", "baseline", "avx2", "avx512"}
    True
    """
    return str(_CORE._cpu_level)
