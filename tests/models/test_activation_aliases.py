"""Every framework name the layer table gives an activation translates to a native layer that
computes what the framework computes: each torch module, function and tensor method, each ONNX
op and each Keras activation and layer. A new activation is covered here by its table entry."""

from __future__ import annotations

import os
import warnings
from typing import Any

import numpy as np
import pytest

from glassbox.models.layers import LAYERS, Alias, activation_aliases

RTOL, ATOL = 1e-5, 2e-6
X = (np.random.default_rng(0).normal(size=(12, 4)) * 2.5).astype(np.float32)


def _ids(aliases: dict[str, Alias]) -> list[str]:
    return sorted(aliases)


TORCH = activation_aliases("torch")


@pytest.mark.parametrize("name", _ids(TORCH))
def test_torch_alias(name: str) -> None:
    torch = pytest.importorskip("torch")
    import glassbox as gb

    alias = TORCH[name]
    softmax = ("dim", "axis") in alias.args
    kwargs: dict[str, Any] = {"dim": 1} if softmax else {}
    if alias.kind == "clamp" and alias.args:  # torch.clamp needs a bound
        kwargs = {alias.args[0][0]: -1.0, alias.args[1][0]: 0.75}
    if name.startswith("."):
        fn = lambda x: getattr(x, name[1:])(**kwargs)  # noqa: E731
    else:
        target: Any = torch
        for part in name.split("."):
            target = getattr(target, part)
        fn = target(**kwargs) if isinstance(target, type) else (lambda x: target(x, **kwargs))

    class Net(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.fc = torch.nn.Linear(4, 6)
            self.act = fn if isinstance(fn, torch.nn.Module) else None
            self.out = torch.nn.Linear(6, 3)

        def forward(self, x: Any) -> Any:
            h = self.fc(x)
            return self.out(self.act(h) if self.act is not None else fn(h))

    torch.manual_seed(0)
    net = Net().eval()
    model = gb.from_torch(net)
    assert alias.kind in [layer.kind for layer in model.spec.layers]
    inputs = torch.from_numpy(X).requires_grad_()
    expected = net(inputs)
    np.testing.assert_allclose(model.predict(X), expected.detach().numpy(), rtol=RTOL, atol=ATOL)
    expected[:, 2].sum().backward()
    grads = gb.Saliency(model, abs=False)(X, target=2).values
    np.testing.assert_allclose(grads, inputs.grad.numpy(), rtol=1e-4, atol=1e-5)


ONNX = activation_aliases("onnx")


@pytest.mark.parametrize("name", _ids(ONNX))
def test_onnx_alias(name: str) -> None:
    pytest.importorskip("onnx")
    from onnx import TensorProto, helper
    from onnx.reference import ReferenceEvaluator

    import glassbox as gb

    node = helper.make_node(name, ["x"], ["y"], name="act")
    graph = helper.make_graph(
        [node],
        "g",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["n", 4])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["n", 4])],
    )
    proto = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 20)])
    model = gb.from_onnx(proto)
    assert model.spec.layers[0].kind == ONNX[name].kind
    expected = ReferenceEvaluator(proto).run(None, {"x": X})[0]
    np.testing.assert_allclose(model.predict(X), expected, rtol=RTOL, atol=ATOL)


KERAS = activation_aliases("keras")


@pytest.mark.parametrize("name", _ids(KERAS))
def test_keras_alias(name: str) -> None:
    os.environ.setdefault("KERAS_BACKEND", "torch")
    keras = pytest.importorskip("keras")
    import glassbox as gb

    alias = KERAS[name]
    if name.startswith("layers."):
        act = getattr(keras.layers, name.removeprefix("layers."))(name="act")
        net = keras.Sequential([keras.Input((4,)), keras.layers.Dense(5, name="fc"), act])
    elif not hasattr(keras.activations, name):
        pytest.skip(f"this Keras has no activation {name!r}")
    else:
        net = keras.Sequential([keras.Input((4,)), keras.layers.Dense(5, activation=name)])
    with warnings.catch_warnings():  # Keras' torch backend trips NumPy 2's __array__ warning
        warnings.filterwarnings("ignore", "__array__ implementation", DeprecationWarning)
        expected = np.asarray(net.predict(X, verbose=0))
    model = gb.from_keras(net)
    assert alias.kind in [layer.kind for layer in model.spec.layers]
    np.testing.assert_allclose(model.predict(X), expected, rtol=RTOL, atol=ATOL)


def test_every_activation_kind_has_a_torch_module() -> None:
    """The torch twins of the NumPy references (tests/conftest.py) come from these names."""
    for kind in LAYERS.values():
        # clamp's torch forms are functions; fake_quant is torch.fake_quantize_* (no module)
        if kind.category == "activation" and kind.name not in ("clamp", "fake_quant"):
            assert any(alias.name.startswith("nn.") for alias in kind.torch), kind.name
