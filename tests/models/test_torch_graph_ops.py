"""from_torch on what real models contain besides layers: constant arithmetic, means, clamps,
the activations of the layer table, lazily built CNNs, and models with several unsupported
layers (all named at once)."""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")
nn = torch.nn
F = torch.nn.functional

import glassbox as gb  # noqa: E402
from glassbox.models.torch_adapter import from_torch  # noqa: E402

RTOL, ATOL = 1e-5, 1e-5


def _out(module: torch.nn.Module, X: np.ndarray) -> np.ndarray:
    with torch.no_grad():
        return module(torch.from_numpy(X)).numpy()


def _data(*shape: int, seed: int = 0) -> np.ndarray:
    return (np.random.default_rng(seed).normal(size=shape) * 2).astype(np.float32)


class _Expr(nn.Module):
    """A small net whose forward applies ``fn`` to the input, then a linear layer."""

    def __init__(self, fn: object, width: int = 4) -> None:
        super().__init__()
        self.fn = fn
        self.fc = nn.Linear(width, 3)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(self.fn(x))  # type: ignore[operator]


EXPRESSIONS = {
    "scale_and_shift": lambda x: x / 255.0 - 0.5,
    "one_minus": lambda x: 1 - x,
    "half": lambda x: x * 0.5,
    "negate": lambda x: -x,
    "torch_ops": lambda x: torch.sub(torch.mul(x, 3.0), 2.0).div(4.0),
    "rsub": lambda x: torch.rsub(x, 2.0),
    "per_feature": lambda x: x * torch.tensor([1.0, -2.0, 0.5, 3.0]) + 1.0,
    "residual_difference": lambda x: torch.tanh(x) - x,
    "alpha_add": lambda x: torch.add(torch.tanh(x), x, alpha=2.0),
    "clamp": lambda x: torch.clamp(x, -1.0, 0.5),
    "clamp_min_only": lambda x: torch.clamp(x, min=0.2),
    "clip_method": lambda x: x.clip(max=1.0),
    "relu6": F.relu6,
    "hardtanh": lambda x: F.hardtanh(x, -0.5, 2.0),
    "mish": F.mish,
    "hardswish": F.hardswish,
    "hardsigmoid": F.hardsigmoid,
    "selu": F.selu,
}


@pytest.mark.parametrize("name", sorted(EXPRESSIONS))
def test_expressions_match_torch(name: str) -> None:
    net = _Expr(EXPRESSIONS[name]).eval()
    X = _data(16, 4)
    np.testing.assert_allclose(from_torch(net).predict(X), _out(net, X), rtol=RTOL, atol=ATOL)


@pytest.mark.parametrize(
    "module", [nn.ReLU6(), nn.Hardtanh(-2.0, 1.0), nn.Mish(), nn.Hardswish(), nn.SELU()]
)
def test_activation_modules_match_torch(module: torch.nn.Module) -> None:
    net = nn.Sequential(nn.Linear(4, 6), module, nn.Linear(6, 2)).eval()
    X = _data(10, 4)
    model = from_torch(net)
    np.testing.assert_allclose(model.predict(X), _out(net, X), rtol=RTOL, atol=ATOL)
    grads = gb.Saliency(model, abs=False)(X, target=1).values
    inputs = torch.from_numpy(X).requires_grad_()
    net(inputs)[:, 1].sum().backward()
    np.testing.assert_allclose(grads, inputs.grad.numpy(), rtol=1e-4, atol=1e-5)


class _Means(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(2, 4, 3, padding=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.conv(x)
        channels = y.mean(1)  # (n, H, W)
        rows = torch.mean(y, dim=-1, keepdim=True)  # (n, C, H, 1)
        return torch.cat([channels.flatten(1), rows.flatten(1), y.mean((2, 3))], 1)


def test_means_over_feature_axes() -> None:
    net = _Means().eval()
    X = _data(5, 2, 5, 6)
    model = from_torch(net, (2, 5, 6))
    np.testing.assert_allclose(model.predict(X), _out(net, X), rtol=RTOL, atol=ATOL)
    kinds = [layer.kind for layer in model.spec.layers]
    assert kinds.count("reduce_mean") == 2 and "adaptive_avg_pool2d" in kinds


class _Preprocessed(nn.Module):
    """A CNN that normalises raw pixels itself, then global max pooling."""

    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 3)
        self.pool = nn.AdaptiveMaxPool2d(1)
        self.fc = nn.Linear(4, 2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x / 255.0 - 0.5
        return self.fc(self.pool(F.relu(self.conv(x))).flatten(1))


def test_lenet_style_module_without_input_shape_explained_from_data() -> None:
    net = _Preprocessed().eval()
    X = np.random.default_rng(1).uniform(0, 255, size=(4, 3, 8, 8)).astype(np.float32)
    model = from_torch(net)
    assert not model.built
    exp = gb.IntegratedGradients(model, n_steps=64)(X, target=1)
    assert model.built and model.input_shape == (3, 8, 8)
    assert exp.values.shape == X.shape and np.abs(exp.delta).max() < 1e-2
    np.testing.assert_allclose(model.predict(X), _out(net, X), rtol=RTOL, atol=1e-4)


def test_lazy_model_rejects_flat_rows_for_an_image_model() -> None:
    model = from_torch(_Preprocessed().eval())
    with pytest.raises(ValueError, match="input_shape"):
        gb.IntegratedGradients(model)(np.zeros(3 * 8 * 8, np.float32), target=0)


class _ThreeUnsupported(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.norm = nn.GroupNorm(2, 4)
        self.act = nn.Tanh()
        self.fc = nn.Linear(4, 4)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.act(self.norm(x))
        z = self.fc(x)
        return z.cumprod(1) + torch.sigmoid(z).cumsum(1) + y


def test_three_unsupported_layers_are_named_at_once() -> None:
    with pytest.raises(gb.UnsupportedLayerError) as info:
        from_torch(_ThreeUnsupported())
    message = str(info.value)
    assert "3 layers are not supported by from_torch" in message
    assert "'norm' (GroupNorm)" in message and "BatchNorm uses fixed statistics" in message
    assert "'cumprod' (method .cumprod())" in message
    assert "'cumsum' (method .cumsum())" in message
    assert "'act'" not in message  # a supported layer reading the unsupported LayerNorm


def test_lazy_model_reports_unknown_ops_at_conversion() -> None:
    net = nn.Sequential(nn.Conv2d(1, 2, 3), nn.Upsample(scale_factor=2), nn.Flatten())
    with pytest.raises(gb.UnsupportedLayerError, match=r"'1' \(Upsample\)"):
        from_torch(net)


class _Padded(nn.Module):
    def __init__(self, how: str) -> None:
        super().__init__()
        self.how = how
        self.pad = nn.ZeroPad2d((1, 2, 0, 3))
        self.conv = nn.Conv2d(2, 3, 3, padding=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.how == "module":
            return self.conv(self.pad(x)).flatten(1)
        if self.how == "functional":
            return self.conv(F.pad(x, (2, 0, 1, 1))).flatten(1)
        return F.max_pool2d(self.pad(x), 2).flatten(1)


@pytest.mark.parametrize("how", ["module", "functional"])
def test_zero_padding_is_absorbed_by_the_convolution(how: str) -> None:
    net = _Padded(how).eval()
    X = _data(3, 2, 5, 6)
    model = from_torch(net, (2, 5, 6))
    np.testing.assert_allclose(model.predict(X), _out(net, X), rtol=RTOL, atol=ATOL)
    assert [layer.kind for layer in model.spec.layers] == ["conv2d", "flatten"]


def test_zero_padding_read_by_anything_but_a_convolution_is_named() -> None:
    with pytest.raises(gb.UnsupportedLayerError, match=r"'pad' \(ZeroPad2d\).*convolution"):
        from_torch(_Padded("pool"), (2, 5, 6))


def test_lazy_vector_model_is_built_by_the_model_agnostic_functions() -> None:
    net = nn.Sequential(nn.Tanh(), nn.Softmax(dim=1)).eval()  # no layer tells the width
    X = _data(30, 4)
    y = np.argmax(_out(net, X), axis=1)
    result = gb.permutation_importance(from_torch(net), X, y, n_repeats=2)
    assert result.importances_mean.shape == (4,)
