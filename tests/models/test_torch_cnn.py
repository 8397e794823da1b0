"""from_torch on CNNs: the native network computes what the torch module computes.

LeNet-like, ResNet-like (BatchNorm + residual adds), inception-like (concat), depthwise
convolutions, every parameter variant of the image layers, their functional forms, and the
errors for what has no native equivalent.
"""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")
nn = torch.nn
F = torch.nn.functional

from glassbox.errors import UnsupportedLayerError  # noqa: E402
from glassbox.models.torch_adapter import from_torch  # noqa: E402

RTOL, ATOL = 1e-4, 1e-4


def _torch_out(module: torch.nn.Module, X: np.ndarray) -> np.ndarray:
    with torch.no_grad():
        return module(torch.from_numpy(X)).numpy()


def _data(*shape: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).normal(size=shape).astype(np.float32)


def _randomize_bn(module: torch.nn.Module, seed: int = 0) -> torch.nn.Module:
    """Give every batch norm non-trivial running statistics and affine parameters."""
    gen = torch.Generator().manual_seed(seed)
    for sub in module.modules():
        if isinstance(sub, nn.modules.batchnorm._BatchNorm):
            n = sub.num_features
            with torch.no_grad():
                sub.running_mean.copy_(torch.randn(n, generator=gen) * 0.5)
                sub.running_var.copy_(torch.rand(n, generator=gen) * 1.5 + 0.25)
                if sub.weight is not None:
                    sub.weight.copy_(torch.randn(n, generator=gen) * 0.5 + 1.0)
                    sub.bias.copy_(torch.randn(n, generator=gen) * 0.3)
    return module.eval()


def _check(module: torch.nn.Module, shape: tuple[int, ...], n: int = 6, **options: object):
    """Convert ``module`` with input_shape=``shape`` and compare on ``n`` random rows."""
    module = _randomize_bn(module).eval()
    X = _data(n, *shape)
    model = from_torch(module, shape, **options)
    np.testing.assert_allclose(model.predict(X), _torch_out(module, X), rtol=RTOL, atol=ATOL)
    return model


@pytest.fixture(autouse=True)
def _seed() -> None:
    torch.manual_seed(0)


# --------------------------------------------------------------------------------------------
# whole networks
# --------------------------------------------------------------------------------------------


def lenet() -> nn.Module:
    return nn.Sequential(
        nn.Conv2d(1, 6, 5),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Conv2d(6, 16, 5),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Linear(16 * 4 * 4, 120),
        nn.ReLU(),
        nn.Linear(120, 84),
        nn.ReLU(),
        nn.Linear(84, 10),
    )


class BasicBlock(nn.Module):
    def __init__(self, c_in: int, c_out: int, stride: int = 1) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(c_in, c_out, 3, stride=stride, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(c_out)
        self.relu = nn.ReLU(inplace=True)
        self.conv2 = nn.Conv2d(c_out, c_out, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(c_out)
        self.downsample = None
        if stride != 1 or c_in != c_out:
            self.downsample = nn.Sequential(
                nn.Conv2d(c_in, c_out, 1, stride=stride, bias=False), nn.BatchNorm2d(c_out)
            )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        identity = x
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        if self.downsample is not None:
            identity = self.downsample(x)
        out += identity
        return self.relu(out)


class ResNetLike(nn.Module):
    def __init__(self, n_classes: int = 5) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(3, 8, 3, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(8)
        self.layer1 = nn.Sequential(BasicBlock(8, 8), BasicBlock(8, 8))
        self.layer2 = nn.Sequential(BasicBlock(8, 16, stride=2), BasicBlock(16, 16))
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.fc = nn.Linear(16, n_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = F.relu(self.bn1(self.conv1(x)))
        x = self.layer2(self.layer1(x))
        x = torch.flatten(self.avgpool(x), 1)
        return self.fc(x)


class Inception(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.b1 = nn.Conv2d(4, 3, 1)
        self.b2 = nn.Sequential(nn.Conv2d(4, 2, 1), nn.ReLU(), nn.Conv2d(2, 4, 3, padding=1))
        self.b3 = nn.Sequential(nn.Conv2d(4, 2, 1), nn.ReLU(), nn.Conv2d(2, 3, 5, padding=2))
        self.b4 = nn.Sequential(nn.MaxPool2d(3, stride=1, padding=1), nn.Conv2d(4, 2, 1))
        self.head = nn.Linear(12, 3)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = torch.cat([self.b1(x), self.b2(x), self.b3(x), self.b4(x)], dim=1)
        y = F.relu(y)
        y = F.adaptive_avg_pool2d(y, 1)
        return self.head(y.view(y.size(0), -1))


def test_lenet_matches_torch() -> None:
    model = _check(lenet(), (1, 28, 28), n=8)
    assert model.input_shape == (1, 28, 28)
    assert model.layer_names[:4] == ["0", "1", "2", "3"]
    assert [layer.kind for layer in model.spec.layers][:3] == ["conv2d", "relu", "max_pool2d"]


def test_lenet_probabilities_and_example_input() -> None:
    net = lenet().eval()
    X = _data(5, 1, 28, 28)
    model = from_torch(net, example_input=torch.from_numpy(X), output="probabilities")
    expected = torch.softmax(torch.from_numpy(_torch_out(net, X)), 1).numpy()
    np.testing.assert_allclose(model.predict(X), expected, rtol=RTOL, atol=1e-6)


def test_resnet_like_with_batchnorm_and_residual_adds() -> None:
    model = _check(ResNetLike(), (3, 16, 16))
    names = model.layer_names
    for name in ["conv1", "bn1", "layer1.0.conv1", "layer2.0.downsample.0", "layer2.1.bn2", "fc"]:
        assert name in names
    kinds = {layer.kind for layer in model.spec.layers}
    assert {"conv2d", "batch_norm", "add", "adaptive_avg_pool2d", "flatten"} <= kinds
    adds = [layer for layer in model.spec.layers if layer.kind == "add"]
    assert len(adds) == 4 and all(len(layer.inputs) == 2 for layer in adds)


def test_resnet_ignores_training_mode() -> None:
    net = _randomize_bn(ResNetLike())
    X = _data(4, 3, 16, 16)
    expected = _torch_out(net, X)
    net.train()
    model = from_torch(net, (3, 16, 16))
    np.testing.assert_allclose(model.predict(X), expected, rtol=RTOL, atol=ATOL)
    assert net.training


def test_inception_like_concat_block() -> None:
    model = _check(Inception(), (4, 9, 9))
    concat = [layer for layer in model.spec.layers if layer.kind == "concat"]
    assert len(concat) == 1 and len(concat[0].inputs) == 4
    assert concat[0].params["axis"] == 0 and concat[0].name == "cat"


@pytest.mark.parametrize("multiplier", [1, 2])
def test_depthwise_separable_conv(multiplier: int) -> None:
    net = nn.Sequential(
        nn.Conv2d(4, 4 * multiplier, 3, groups=4, padding=1),
        nn.ReLU(),
        nn.Conv2d(4 * multiplier, 6, 1),
        nn.Flatten(),
        nn.Linear(6 * 7 * 7, 2),
    )
    _check(net, (4, 7, 7))


# --------------------------------------------------------------------------------------------
# per-op parameter variants
# --------------------------------------------------------------------------------------------

CONVS = {
    "plain": dict(kernel_size=3),
    "stride2": dict(kernel_size=3, stride=2),
    "pad_int": dict(kernel_size=3, padding=2),
    "pad_tuple": dict(kernel_size=(3, 5), padding=(1, 2), stride=(2, 1)),
    "same_odd": dict(kernel_size=3, padding="same"),
    "same_even_dilated": dict(kernel_size=4, padding="same", dilation=2),
    "same_rect": dict(kernel_size=(2, 5), padding="same"),
    "valid": dict(kernel_size=3, padding="valid"),
    "dilation": dict(kernel_size=3, dilation=(2, 3), padding=1),
    "groups": dict(kernel_size=3, groups=2),
    "no_bias": dict(kernel_size=3, bias=False),
    "everything": dict(kernel_size=(3, 2), stride=(2, 3), padding=(2, 1), dilation=2, groups=2),
}


@pytest.mark.filterwarnings("ignore:Using padding='same' with even kernel:UserWarning")
@pytest.mark.parametrize("name", list(CONVS))
def test_conv2d_variants(name: str) -> None:
    net = nn.Sequential(nn.Conv2d(4, 6, **CONVS[name]), nn.Flatten())
    _check(net, (4, 11, 10))


POOLS = {
    "max2": nn.MaxPool2d(2),
    "max3s2p1": nn.MaxPool2d(3, stride=2, padding=1),
    "max_ceil": nn.MaxPool2d(2, ceil_mode=True),
    "max_ceil_pad": nn.MaxPool2d(3, stride=2, padding=1, ceil_mode=True),
    "max_dilation": nn.MaxPool2d(2, stride=1, dilation=2),
    "max_rect": nn.MaxPool2d((2, 3), stride=(1, 2)),
    "avg2": nn.AvgPool2d(2),
    "avg3s2p1": nn.AvgPool2d(3, stride=2, padding=1),
    "avg_exclude_pad": nn.AvgPool2d(3, stride=2, padding=1, count_include_pad=False),
    "avg_ceil": nn.AvgPool2d(2, ceil_mode=True),
    "avg_ceil_pad": nn.AvgPool2d(3, stride=2, padding=1, ceil_mode=True),
    "avg_ceil_exclude": nn.AvgPool2d(3, 2, 1, ceil_mode=True, count_include_pad=False),
    "adaptive1": nn.AdaptiveAvgPool2d(1),
    "adaptive_uneven": nn.AdaptiveAvgPool2d((3, 4)),
    "adaptive_none": nn.AdaptiveAvgPool2d((2, None)),
    "adaptive_identity": nn.AdaptiveAvgPool2d((7, 8)),
}


@pytest.mark.parametrize("name", list(POOLS))
def test_pooling_variants(name: str) -> None:
    net = nn.Sequential(POOLS[name], nn.Flatten())
    _check(net, (3, 7, 8))


FUNCTIONAL = {
    "max_pool2d": lambda x: F.max_pool2d(x, 2),
    "max_pool2d_kw": lambda x: F.max_pool2d(x, kernel_size=3, stride=2, padding=1, ceil_mode=True),
    "avg_pool2d": lambda x: F.avg_pool2d(x, 3, 2, 1, count_include_pad=False),
    "adaptive": lambda x: F.adaptive_avg_pool2d(x, (2, 3)),
    "flatten_method": lambda x: x.flatten(1),
    "view_size": lambda x: x.view(x.size(0), -1),
    "reshape_shape": lambda x: x.reshape(x.shape[0], -1),
    "reshape_chw": lambda x: x.reshape(-1, 3, 8, 7).flatten(1),
    "view_dims": lambda x: x.view(x.size(0), x.size(1), -1).flatten(1),
    "flatten_partial": lambda x: torch.flatten(x, 2).flatten(1),
    "relu_inplace": lambda x: F.relu(x, inplace=True).flatten(1),
    "mean": lambda x: x.mean((2, 3)),
    "mean_keepdim": lambda x: torch.mean(x, dim=[-1, -2], keepdim=True),
}


class _Fn(nn.Module):
    def __init__(self, fn: object) -> None:
        super().__init__()
        self.conv = nn.Conv2d(3, 3, 3, padding=1)
        self.fn = fn

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fn(self.conv(x)).flatten(1)


@pytest.mark.parametrize("name", list(FUNCTIONAL))
def test_functional_forms(name: str) -> None:
    model = _check(_Fn(FUNCTIONAL[name]), (3, 7, 8))
    assert model.layer_names[0] == "conv"


class _Residuals(nn.Module):
    def __init__(self, how: str) -> None:
        super().__init__()
        self.a = nn.Conv2d(3, 3, 3, padding=1)
        self.b = nn.Conv2d(3, 3, 1)
        self.how = how

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y, z = self.a(x), self.b(x)
        if self.how == "plus":
            out = y + z
        elif self.how == "torch.add":
            out = torch.add(y, z)
        elif self.how == "method":
            out = y.add(z)
        elif self.how == "iadd":
            y += z
            out = y
        elif self.how == "input":
            out = x + F.relu(y)
        elif self.how == "three":
            out = y + z + x
        else:
            out = torch.concat((y, F.relu(z), x), dim=-3)
        return out.flatten(1)


@pytest.mark.parametrize("how", ["plus", "torch.add", "method", "iadd", "input", "three", "cat"])
def test_residual_adds_and_concat(how: str) -> None:
    model = _check(_Residuals(how), (3, 5, 6))
    kind = "concat" if how == "cat" else "add"
    assert kind in [layer.kind for layer in model.spec.layers]


def test_batchnorm1d_on_features() -> None:
    net = nn.Sequential(nn.Linear(5, 7), nn.BatchNorm1d(7), nn.ReLU(), nn.Linear(7, 2))
    model = _check(net, (5,))
    assert model.layer_names == ["0", "1", "2", "3"]
    assert model.spec.layers[1].kind == "batch_norm"


def test_batchnorm_without_affine_and_eps() -> None:
    net = nn.Sequential(nn.Conv2d(2, 3, 3), nn.BatchNorm2d(3, affine=False, eps=0.1), nn.Flatten())
    _check(net, (2, 5, 5))


# --------------------------------------------------------------------------------------------
# errors
# --------------------------------------------------------------------------------------------


def test_conv_net_without_input_shape_is_built_from_data() -> None:
    net = lenet().eval()
    model = from_torch(net)
    assert not model.built
    with pytest.raises(ValueError, match=r"input_shape.*\(n, C, H, W\)|input_shape="):
        model.n_inputs  # noqa: B018 - only data can tell
    X = _data(3, 1, 28, 28)
    np.testing.assert_allclose(model.predict(X), _torch_out(net, X), rtol=RTOL, atol=ATOL)
    assert model.built and model.input_shape == (1, 28, 28)


def test_conv_on_vector_input_is_rejected() -> None:
    with pytest.raises(UnsupportedLayerError, match=r"'0'.*\(C, H, W\)"):
        from_torch(nn.Sequential(nn.Conv2d(1, 2, 3)), (9,))


@pytest.mark.parametrize("mode", ["reflect", "replicate", "circular"])
def test_padding_mode_other_than_zeros_is_unsupported(mode: str) -> None:
    net = nn.Sequential(
        nn.Conv2d(2, 2, 3), nn.ReLU(), nn.Conv2d(2, 2, 3, padding=1, padding_mode=mode)
    )
    with pytest.raises(UnsupportedLayerError, match=f"'2'.*padding_mode='{mode}'"):
        from_torch(net, (2, 8, 8))


def test_batchnorm_without_running_stats_is_unsupported() -> None:
    net = nn.Sequential(nn.Conv2d(2, 2, 3), nn.BatchNorm2d(2, track_running_stats=False))
    with pytest.raises(UnsupportedLayerError, match=r"'1'.*track_running_stats"):
        from_torch(net, (2, 8, 8))


class _Bad(nn.Module):
    def __init__(self, how: str) -> None:
        super().__init__()
        self.conv = nn.Conv2d(2, 2, 3, padding=1)
        self.how = how

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.conv(x)
        if self.how == "product":
            return y * y
        if self.how == "broadcast":
            return y + y[:, :1]
        if self.how == "cat_batch":
            return torch.cat([y, x], dim=0)
        if self.how == "pool_indices":
            return F.max_pool2d(y, 2, return_indices=True)[0]
        if self.how == "mean_batch":
            return y.mean(0)
        return y.view(-1)


@pytest.mark.parametrize(
    ("how", "name"),
    [
        ("cat_batch", "cat"),
        ("pool_indices", "max_pool2d"),
        ("view_batch", "view"),
        ("mean_batch", "mean"),
    ],
)
def test_unsupported_graphs_name_the_layer(how: str, name: str) -> None:
    with pytest.raises(UnsupportedLayerError, match=f"layer '({name})"):
        from_torch(_Bad(how), (2, 6, 6))


@pytest.mark.parametrize("how", ["product", "broadcast"])
def test_products_and_broadcasts_of_feature_maps(how: str) -> None:
    net = _Bad(how).eval()
    X = np.random.default_rng(0).normal(size=(3, 2, 6, 6)).astype(np.float32)
    with torch.no_grad():
        expected = net(torch.from_numpy(X)).numpy().reshape(3, -1)
    np.testing.assert_allclose(
        from_torch(net, (2, 6, 6)).predict(X), expected, rtol=1e-5, atol=1e-5
    )


def test_avgpool_divisor_override_is_unsupported() -> None:
    net = nn.Sequential(nn.AvgPool2d(2, divisor_override=3), nn.Flatten())
    with pytest.raises(UnsupportedLayerError, match=r"'0'.*divisor_override"):
        from_torch(net, (1, 4, 4))


# --------------------------------------------------------------------------------------------
# gradients and the NumPy reference on the translated specs
# --------------------------------------------------------------------------------------------

NETS = {
    "lenet": (lenet, (1, 28, 28)),
    "resnet": (ResNetLike, (3, 16, 16)),
    "inception": (Inception, (4, 9, 9)),
}


@pytest.mark.parametrize("name", list(NETS))
def test_input_gradients_match_torch_autograd(name: str) -> None:
    import glassbox as gb

    make, shape = NETS[name]
    net = _randomize_bn(make())
    X = _data(4, *shape, seed=2)
    model = from_torch(net, shape)
    targets = np.array([0, 1, 2, 1])
    got = gb.Saliency(model, abs=False)(X, target=targets).values
    x = torch.from_numpy(X).requires_grad_(True)
    out = net(x)
    out[torch.arange(4), torch.from_numpy(targets)].sum().backward()
    expected = x.grad.numpy()
    assert got.shape == X.shape
    np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-4 * np.abs(expected).max())


@pytest.mark.parametrize("name", list(NETS))
def test_reference_evaluates_the_translated_spec(name: str) -> None:
    reference = pytest.importorskip("reference.network")
    make, shape = NETS[name]
    net = _randomize_bn(make())
    X = _data(3, *shape, seed=4)
    model = from_torch(net, shape)
    np.testing.assert_allclose(
        reference.forward(model.spec, X), _torch_out(net, X), rtol=RTOL, atol=ATOL
    )
