"""Shared fixtures: seeded small networks (as ``NetworkSpec`` + native model, and as torch modules
with identical weights), input data, and the hypothesis profiles.

The ``NetworkSpec`` is the source of truth: the native model is ``build_network(spec)``, the NumPy
reference in ``tests/reference`` evaluates the same spec, and ``torch_from_spec`` builds a torch
module with the same weights for the Captum oracles. So most tests never import torch.

Docstring examples: a plain ``pytest`` also collects the package's numpydoc examples as doctests
(``pytest_configure``); one that imports an optional framework that is not installed is skipped
(``pytest_collection_modifyitems``).

Hypothesis profiles: ``default`` (fast, random) and ``ci`` (``derandomize=True``); pick one with
``HYPOTHESIS_PROFILE=ci`` or ``pytest --hypothesis-profile=ci``.
"""

from __future__ import annotations

import ast
import doctest
import functools
import importlib.util
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import settings

# tests/reference is imported as the top-level package ``reference`` whatever the import mode.
_TESTS = str(Path(__file__).resolve().parent)
if _TESTS not in sys.path:
    sys.path.insert(0, _TESTS)

from glassbox.models.layers import ACTIVATION_KINDS, LAYERS  # noqa: E402
from glassbox.models.spec import NetworkSpec  # noqa: E402


def pytest_configure(config: pytest.Config) -> None:
    """A plain ``pytest`` also runs the package's numpydoc examples as doctests, from wherever
    glassbox is installed (the source tree in an editable install, site-packages in CI)."""
    import glassbox

    config.pluginmanager.register(_FigureCloser(), "glassbox-figure-closer")
    if config.args_source == pytest.Config.ArgsSource.TESTPATHS:
        config.option.doctestmodules = True
        config.args.append(str(Path(glassbox.__file__).parent))


#: The optional frameworks a docstring example may import. An example that imports one that is
#: not installed is skipped (with the reason naming it); every other example runs.
#: Tests that cap the address space or read RSS cannot run under AddressSanitizer (.ci/sanitize
#: preloads libasan): its shadow memory and quarantine make both meaningless.
UNDER_ASAN = "libasan" in os.environ.get("LD_PRELOAD", "")
not_under_asan = pytest.mark.skipif(
    UNDER_ASAN, reason="address-space caps and RSS mean nothing under AddressSanitizer"
)

OPTIONAL_FRAMEWORKS = (
    "torch",
    "keras",
    "onnx",
    "onnxruntime",
    "sklearn",
    "shap",
    "captum",
    "lime",
    "xgboost",
    "lightgbm",
    "dask",
)


@functools.cache
def framework_importable(name: str) -> bool:
    """Whether ``name`` is installed, found without importing it (importing keras here would fix
    its backend before the example sets ``KERAS_BACKEND``)."""
    if sys.modules.get(name) is not None:  # already imported (None: an import was blocked)
        return True
    try:
        return importlib.util.find_spec(name) is not None
    except (ImportError, ValueError):
        return False


def imported_modules(source: str) -> set[str]:
    """The top-level modules that ``import`` / ``from ... import`` statements in ``source`` name."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return set()
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.partition(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.partition(".")[0])
    return names


def missing_frameworks(
    test: doctest.DocTest, importable: Callable[[str], bool] = framework_importable
) -> list[str]:
    """The optional frameworks the examples of ``test`` import that are not installed."""
    needed: set[str] = set()
    for example in test.examples:
        needed |= imported_modules(example.source)
    return sorted(name for name in needed & set(OPTIONAL_FRAMEWORKS) if not importable(name))


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Skip a docstring example that imports an optional framework which is not installed."""
    for item in items:
        test = getattr(item, "dtest", None)  # a doctest item's examples
        if isinstance(test, doctest.DocTest):
            missing = missing_frameworks(test)
            if missing:
                reason = f"the example imports {', '.join(missing)}, which is not installed"
                item.add_marker(pytest.mark.skip(reason=reason))


settings.register_profile("default", max_examples=25, deadline=None)
settings.register_profile("ci", max_examples=25, deadline=None, derandomize=True)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))


@dataclass(frozen=True)
class Arch:
    """A small MLP: ``dense`` layers of ``sizes`` with ``activation`` between them."""

    name: str
    sizes: tuple[int, ...]
    activation: str | None = "relu"
    params: dict[str, Any] = field(default_factory=dict)
    final: str | None = None  # "softmax" | "log_softmax" | None
    bias: bool = True

    @property
    def n_inputs(self) -> int:
        return self.sizes[0]

    @property
    def n_outputs(self) -> int:
        return self.sizes[-1]


ARCHS: tuple[Arch, ...] = (
    Arch("relu", (5, 16, 16, 3), "relu"),
    Arch("leaky_relu", (5, 12, 8, 3), "leaky_relu", {"negative_slope": 0.1}),
    Arch("elu", (5, 12, 8, 3), "elu", {"alpha": 0.7}),
    Arch("tanh", (5, 12, 8, 3), "tanh"),
    Arch("sigmoid", (5, 12, 8, 3), "sigmoid"),
    Arch("gelu", (5, 12, 8, 3), "gelu", {"approximate": "none"}),
    Arch("gelu_tanh", (5, 12, 8, 3), "gelu", {"approximate": "tanh"}),
    Arch("silu", (5, 12, 8, 3), "silu"),
    Arch("softplus", (5, 12, 8, 3), "softplus", {"beta": 2.0, "threshold": 1.5}),
    Arch("mish", (5, 12, 8, 3), "mish"),
    Arch("hardswish", (5, 12, 8, 3), "hardswish"),
    Arch("relu_softmax", (5, 16, 3), "relu", final="softmax"),
    Arch("gelu_softmax", (5, 12, 8, 4), "gelu", {"approximate": "none"}, final="softmax"),
    Arch("tanh_log_softmax", (5, 12, 3), "tanh", final="log_softmax"),
    Arch("regression_tanh", (4, 10, 1), "tanh"),
    Arch("linear", (6, 3), None),
)
ARCH_BY_NAME = {arch.name: arch for arch in ARCHS}
SMOOTH_ARCHS = tuple(
    a
    for a in ARCHS
    if a.activation in {"tanh", "sigmoid", "gelu", "silu", "elu", "mish"} and a.final is None
)


def make_spec(
    arch: Arch, seed: int = 0, weight_scale: float = 1.5, init: str = "normal"
) -> NetworkSpec:
    """A seeded ``NetworkSpec`` for ``arch``.

    ``init="normal"``: weights ~ N(0, weight_scale^2 / fan_in), biases ~ N(0, 0.3^2) (outputs of
    order one, so activations are exercised in their non-linear range). ``init="torch"``: torch's
    default ``nn.Linear`` init, U(-1/sqrt(fan_in), 1/sqrt(fan_in)) for weights and biases.
    """
    rng = np.random.default_rng(seed)
    spec = NetworkSpec(input_shape=(arch.n_inputs,))
    n_dense = len(arch.sizes) - 1
    for i, (fan_in, fan_out) in enumerate(zip(arch.sizes[:-1], arch.sizes[1:], strict=True)):
        if init == "torch":
            bound = 1.0 / np.sqrt(fan_in)
            weight = rng.uniform(-bound, bound, size=(fan_out, fan_in))
            bias = rng.uniform(-bound, bound, size=fan_out)
        else:
            weight = rng.normal(0.0, weight_scale / np.sqrt(fan_in), size=(fan_out, fan_in))
            bias = rng.normal(0.0, 0.3, size=fan_out)
        spec.add("dense", f"fc{i}", weight=weight, bias=bias if arch.bias else None)
        if i < n_dense - 1 and arch.activation is not None:
            spec.add(arch.activation, f"act{i}", params=dict(arch.params))
    if arch.final is not None:
        spec.add(arch.final, "final")
    return spec


def make_image_spec(seed: int = 0) -> NetworkSpec:
    """Input (2, 3) -> flatten -> dense -> relu -> dropout -> dense -> identity (2 outputs)."""
    rng = np.random.default_rng(seed)
    spec = NetworkSpec(input_shape=(2, 3))
    spec.add("flatten", "flat")
    spec.add("dense", "fc0", weight=rng.normal(0, 0.8, (7, 6)), bias=rng.normal(0, 0.3, 7))
    spec.add("relu", "act0")
    spec.add("dropout", "drop", params={"p": 0.5})
    spec.add("dense", "fc1", weight=rng.normal(0, 0.6, (2, 7)), bias=rng.normal(0, 0.3, 2))
    spec.add("identity", "out")
    return spec


def make_linear_spec(weight: np.ndarray, bias: np.ndarray | None = None) -> NetworkSpec:
    """A purely linear network ``x @ weight.T + bias``."""
    weight = np.atleast_2d(np.asarray(weight, dtype=np.float32))
    spec = NetworkSpec(input_shape=(weight.shape[1],))
    spec.add("dense", "fc", weight=weight, bias=bias)
    return spec


def build(spec: NetworkSpec) -> Any:
    """The native model of ``spec``."""
    from glassbox.models.native import build_network

    return build_network(spec)


def make_data(n_inputs: int | tuple[int, ...], n_rows: int = 7, seed: int = 1) -> np.ndarray:
    """Seeded standard-normal float32 rows of shape ``(n_rows, *input_shape)``."""
    shape = (n_inputs,) if isinstance(n_inputs, int) else tuple(n_inputs)
    return np.random.default_rng(seed).normal(size=(n_rows, *shape)).astype(np.float32)


@dataclass
class Net:
    """A test network: its spec (for the reference), its native model and its architecture."""

    arch: Arch
    spec: NetworkSpec
    model: Any

    @property
    def name(self) -> str:
        return self.arch.name


def make_net(name: str, seed: int = 0) -> Net:
    arch = ARCH_BY_NAME[name]
    spec = make_spec(arch, seed)
    return Net(arch, spec, build(spec))


@pytest.fixture(params=[a.name for a in ARCHS])
def net(request: pytest.FixtureRequest) -> Net:
    """Every architecture in ``ARCHS`` as a native model built from its seeded spec."""
    return make_net(request.param)


@pytest.fixture
def relu_net() -> Net:
    return make_net("relu")


@pytest.fixture
def tanh_net() -> Net:
    return make_net("tanh")


@pytest.fixture
def regression_net() -> Net:
    return make_net("regression_tanh")


@pytest.fixture
def X5() -> np.ndarray:
    """Seven float32 rows of width 5 (the width of most ``ARCHS``)."""
    return make_data(5)


# --------------------------------------------------------------------------------------------
# torch twins (imported lazily: only the Captum tests need them)
# --------------------------------------------------------------------------------------------


def torch_from_spec(spec: NetworkSpec) -> Any:
    """A ``torch.nn.Sequential`` (float32, eval mode) computing exactly what ``spec`` computes."""
    import torch
    from torch import nn

    modules: list[nn.Module] = []
    for layer in spec.layers:
        p = layer.params
        if layer.kind == "dense":
            w = torch.from_numpy(np.array(layer.weights["weight"], dtype=np.float32))
            b = layer.weights.get("bias")
            lin = nn.Linear(w.shape[1], w.shape[0], bias=b is not None)
            with torch.no_grad():
                lin.weight.copy_(w)
                if b is not None:
                    lin.bias.copy_(torch.from_numpy(np.array(b, dtype=np.float32)))
            modules.append(lin)
        elif layer.kind in ACTIVATION_KINDS:
            modules.append(_torch_activation(layer.kind, layer.params))
        elif layer.kind == "flatten":
            modules.append(nn.Flatten())
        elif layer.kind == "dropout":
            modules.append(nn.Dropout(p.get("p", 0.5)))
        elif layer.kind == "identity":
            modules.append(nn.Identity())
        else:  # pragma: no cover - every spec kind is listed above
            raise NotImplementedError(layer.kind)
    return nn.Sequential(*modules).eval()


def _torch_activation(kind: str, params: dict[str, Any]) -> Any:
    """The torch module the layer table names for an activation, with the spec's parameters
    (torch's argument names are the table's, softmax over the features)."""
    import torch

    alias = next(a for a in LAYERS[kind].torch if a.name.startswith("nn."))
    module = getattr(torch.nn, alias.name.removeprefix("nn."))
    arguments = {"dim": 1} if ("dim", "axis") in alias.args else {}
    arguments.update(
        {
            arg: params.get(param, LAYERS[kind].params[param])
            for arg, param in alias.args
            if param != "axis"
        }
    )
    return module(**arguments)


@dataclass
class TorchNet:
    """A torch module and the native model of the same weights."""

    arch: Arch
    spec: NetworkSpec
    module: Any
    model: Any


def make_torch_net(name: str, seed: int = 0) -> TorchNet:
    arch = ARCH_BY_NAME[name]
    spec = make_spec(arch, seed)
    return TorchNet(arch, spec, torch_from_spec(spec), build(spec))


@pytest.fixture(params=[a.name for a in ARCHS])
def torch_net(request: pytest.FixtureRequest) -> TorchNet:
    """Every architecture as a torch module plus its native model (same float32 weights)."""
    pytest.importorskip("torch")
    return make_torch_net(request.param)


@pytest.fixture
def torch_mlp_factory() -> Any:
    """``factory(arch, seed=0) -> (module, native_model, arch)``: a torch MLP initialised by
    ``torch.manual_seed(seed)`` (torch's own default init) and converted with ``gb.from_torch``."""
    torch = pytest.importorskip("torch")
    import glassbox as gb

    if not hasattr(gb, "from_torch"):
        pytest.skip("glassbox.from_torch is not available yet")

    def factory(arch: Arch, seed: int = 0) -> tuple[Any, Any, Arch]:
        module = torch_from_spec(make_spec(arch))
        torch.manual_seed(seed)
        for layer in module:
            if isinstance(layer, torch.nn.Linear):
                layer.reset_parameters()
        return module, gb.from_torch(module), arch

    return factory


class _FigureCloser:
    """Closes every matplotlib figure a test or a doctest opened (plot examples return figures
    they never close; too many open figures is a warning, an error under this suite). A plugin
    registered at configure time, so that it also runs after the package's doctests, which live
    outside this directory (a conftest's own test hooks only see the items below it)."""

    @staticmethod
    def pytest_runtest_teardown(item: pytest.Item) -> None:
        pyplot = sys.modules.get("matplotlib.pyplot")
        if pyplot is not None:
            pyplot.close("all")


def native_gradient(model: Any, flat: np.ndarray, target: int) -> np.ndarray:
    """d output[target] / d input of a native model at the flat rows, from the core."""
    from glassbox import _core

    targets = np.full(flat.shape[0], target, dtype=np.int32)
    return _core.input_gradients(
        model.network, X=flat, targets=targets, abs=False, options=_core.RunOptions()
    )


def check_against_reference(
    spec: NetworkSpec, X: np.ndarray, rtol: float = 2e-4, atol: float = 2e-5
) -> None:
    """Forward and the gradient of every output (the first four) of ``spec``'s native network
    equal the literal reference (tests/reference/network.py)."""
    import glassbox as gb
    from reference import network as ref

    model = gb.build_network(spec)
    flat = np.ascontiguousarray(X.reshape(X.shape[0], -1), dtype=np.float32)
    out = model.network.predict(flat, 1)
    expected = ref.forward(spec, X.astype(np.float64)).reshape(X.shape[0], -1)
    scale = max(1.0, float(np.abs(expected).max()))
    np.testing.assert_allclose(out, expected, rtol=rtol, atol=atol * scale)
    for target in range(min(out.shape[1], 4)):
        grad = native_gradient(model, flat, target)
        want = ref.gradient(spec, X.astype(np.float64), target).reshape(X.shape[0], -1)
        g_scale = max(1.0, float(np.abs(want).max()))
        np.testing.assert_allclose(grad, want, rtol=rtol, atol=atol * g_scale)
