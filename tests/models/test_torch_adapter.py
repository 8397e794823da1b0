"""from_torch: the native network computes what the torch module computes."""

from __future__ import annotations

import pickle

import numpy as np
import pytest

torch = pytest.importorskip("torch")
nn = torch.nn
F = torch.nn.functional

import glassbox as gb  # noqa: E402
from glassbox.models.torch_adapter import from_torch  # noqa: E402

RTOL, ATOL = 1e-5, 1e-5


def _torch_out(module: torch.nn.Module, X: np.ndarray) -> np.ndarray:
    with torch.no_grad():
        return module(torch.from_numpy(X)).numpy()


def _data(*shape: int, seed: int = 0, scale: float = 2.0) -> np.ndarray:
    return (np.random.default_rng(seed).normal(size=shape) * scale).astype(np.float32)


@pytest.fixture(autouse=True)
def _seed() -> None:
    torch.manual_seed(0)


ACTIVATION_MODULES = [
    nn.ReLU(),
    nn.LeakyReLU(0.1),
    nn.ELU(alpha=0.7),
    nn.Sigmoid(),
    nn.Tanh(),
    nn.Softplus(),
    nn.Softplus(beta=2.0, threshold=3.0),
    nn.GELU(),
    nn.GELU(approximate="tanh"),
    nn.SiLU(),
    nn.Softmax(dim=-1),
    nn.Softmax(dim=1),
    nn.LogSoftmax(dim=1),
    nn.Identity(),
    nn.Dropout(0.5),
]


@pytest.mark.parametrize("act", ACTIVATION_MODULES, ids=repr)
def test_every_activation_module_matches_torch(act: torch.nn.Module) -> None:
    net = nn.Sequential(nn.Linear(5, 8), act, nn.Linear(8, 3)).eval()
    X = _data(20, 5)
    model = from_torch(net)
    np.testing.assert_allclose(model.predict(X), _torch_out(net, X), rtol=RTOL, atol=ATOL)
    assert model.layer_names == ["0", "1", "2"]
    assert model.input_shape == (5,)


class _Functional(nn.Module):
    def __init__(self, fn: object) -> None:
        super().__init__()
        self.fc1 = nn.Linear(6, 7)
        self.fc2 = nn.Linear(7, 4)
        self.fn = fn

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc2(self.fn(self.fc1(x)))


FUNCTIONS = {
    "F.relu": F.relu,
    "torch.relu": torch.relu,
    "method relu": lambda x: x.relu(),
    "torch.sigmoid": torch.sigmoid,
    "method sigmoid": lambda x: x.sigmoid(),
    "torch.tanh": torch.tanh,
    "method tanh": lambda x: x.tanh(),
    "F.gelu": F.gelu,
    "F.gelu tanh": lambda x: F.gelu(x, approximate="tanh"),
    "F.silu": F.silu,
    "F.softplus": lambda x: F.softplus(x, beta=1.5, threshold=4.0),
    "F.leaky_relu": lambda x: F.leaky_relu(x, 0.3),
    "F.leaky_relu default": F.leaky_relu,
    "F.elu": lambda x: F.elu(x, alpha=0.5),
    "F.softmax": lambda x: F.softmax(x, dim=-1),
    "torch.softmax": lambda x: torch.softmax(x, 1),
    "method softmax": lambda x: x.softmax(-1),
    "F.log_softmax": lambda x: F.log_softmax(x, dim=1),
    "method log_softmax": lambda x: x.log_softmax(dim=-1),
    "F.dropout": lambda x: F.dropout(x, 0.5, training=False),
    "contiguous": lambda x: x.contiguous(),
}


@pytest.mark.parametrize("name", list(FUNCTIONS))
def test_every_functional_activation_matches_torch(name: str) -> None:
    net = _Functional(FUNCTIONS[name]).eval()
    X = _data(15, 6, seed=1)
    model = from_torch(net)
    np.testing.assert_allclose(model.predict(X), _torch_out(net, X), rtol=RTOL, atol=ATOL)
    assert model.layer_names[0] == "fc1"
    assert model.layer_names[-1] == "fc2"


def test_nested_sequential_uses_qualified_names() -> None:
    net = nn.Sequential(
        nn.Linear(4, 6),
        nn.Sequential(nn.Tanh(), nn.Linear(6, 6), nn.Sequential(nn.ReLU(), nn.Linear(6, 2))),
    )
    X = _data(10, 4)
    model = from_torch(net)
    assert model.layer_names == ["0", "1.0", "1.1", "1.2.0", "1.2.1"]
    np.testing.assert_allclose(model.predict(X), _torch_out(net, X), rtol=RTOL, atol=ATOL)


class _Flattening(nn.Module):
    def __init__(self, how: str) -> None:
        super().__init__()
        self.how = how
        self.fc = nn.Linear(12, 3)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.how == "view":
            x = x.view(x.size(0), -1)
        elif self.how == "reshape":
            x = x.reshape(x.shape[0], -1)
        elif self.how == "view_full":
            x = x.view(-1, 12)
        elif self.how == "torch.flatten":
            x = torch.flatten(x, 1)
        else:
            x = x.flatten(start_dim=1)
        return F.relu(self.fc(x))


@pytest.mark.parametrize("how", ["view", "reshape", "view_full", "torch.flatten", "method"])
def test_flatten_forms(how: str) -> None:
    net = _Flattening(how)
    X = _data(5, 3, 4)
    model = from_torch(net, example_input=torch.from_numpy(X))
    assert model.input_shape == (3, 4)
    assert model.n_inputs == 12
    np.testing.assert_allclose(model.predict(X), _torch_out(net, X), rtol=RTOL, atol=ATOL)


def test_flatten_module_with_input_shape() -> None:
    net = nn.Sequential(nn.Flatten(), nn.Linear(24, 5), nn.GELU(), nn.Linear(5, 2))
    X = _data(6, 2, 3, 4)
    model = from_torch(net, (2, 3, 4))
    assert model.input_shape == (2, 3, 4)
    np.testing.assert_allclose(model.predict(X), _torch_out(net, X), rtol=RTOL, atol=ATOL)


def test_input_shape_is_inferred_from_the_first_linear() -> None:
    net = nn.Sequential(nn.Dropout(), nn.Linear(9, 2))
    assert from_torch(net).input_shape == (9,)
    assert from_torch(net, 9).input_shape == (9,)


def test_input_shape_errors() -> None:
    with pytest.raises(ValueError, match="input_shape"):
        from_torch(nn.Sequential(nn.ReLU())).input_shape  # noqa: B018 - only data can tell
    with pytest.raises(ValueError, match="input_shape"):
        from_torch(nn.Sequential(nn.Linear(3, 2)), (0,))
    with pytest.raises(ValueError, match="example_input"):
        from_torch(nn.Sequential(nn.Linear(3, 2)), (3,), example_input=torch.zeros(2, 4))


class _OwnLinear(nn.Linear):
    """A user subclass: torch.fx traces through it to F.linear on its parameters."""


class _WithFunctionalLinear(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.fc = _OwnLinear(5, 4)
        self.head = nn.Linear(4, 2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        hidden = self.fc(x)
        return F.linear(torch.relu(hidden), self.head.weight, self.head.bias)


def test_functional_linear_is_named_after_the_module_owning_the_weights() -> None:
    net = _WithFunctionalLinear()
    X = _data(8, 5)
    model = from_torch(net)
    assert model.layer_names == ["fc", "relu", "head"]
    np.testing.assert_allclose(model.predict(X), _torch_out(net, X), rtol=RTOL, atol=ATOL)


def test_float64_module() -> None:
    net = nn.Sequential(nn.Linear(4, 3), nn.Tanh(), nn.Linear(3, 2)).double()
    X = _data(5, 4)
    with torch.no_grad():
        expected = net(torch.from_numpy(X).double()).numpy()
    np.testing.assert_allclose(from_torch(net).predict(X), expected, rtol=RTOL, atol=ATOL)


# -- output= --------------------------------------------------------------------------------


def _classifier(final: torch.nn.Module | None, n_out: int = 3) -> torch.nn.Sequential:
    layers = [nn.Linear(4, 6), nn.ReLU(), nn.Linear(6, n_out)]
    if final is not None:
        layers.append(final)
    return nn.Sequential(*layers).eval()


def test_output_modes_for_a_softmax_model() -> None:
    net = _classifier(nn.Softmax(dim=-1))
    X = _data(10, 4)
    logits = _torch_out(net[:-1], X)
    assert from_torch(net).layer_names == ["0", "1", "2", "3"]
    np.testing.assert_allclose(from_torch(net).predict(X), _torch_out(net, X), rtol=RTOL, atol=ATOL)
    model = from_torch(net, output="logits")
    assert model.layer_names == ["0", "1", "2"]
    np.testing.assert_allclose(model.predict(X), logits, rtol=RTOL, atol=ATOL)
    model = from_torch(net, output="probabilities")
    assert model.layer_names == ["0", "1", "2", "3"]
    np.testing.assert_allclose(model.predict(X), _torch_out(net, X), rtol=RTOL, atol=ATOL)


def test_output_modes_for_a_log_softmax_model() -> None:
    net = _classifier(nn.LogSoftmax(dim=1))
    X = _data(10, 4)
    probs = from_torch(net, output="probabilities").predict(X)
    np.testing.assert_allclose(probs, np.exp(_torch_out(net, X)), rtol=RTOL, atol=ATOL)
    np.testing.assert_allclose(
        from_torch(net, output="logits").predict(X), _torch_out(net[:-1], X), rtol=RTOL, atol=ATOL
    )


def test_output_modes_for_a_logits_model() -> None:
    net = _classifier(None)
    X = _data(10, 4)
    logits = _torch_out(net, X)
    np.testing.assert_allclose(from_torch(net).predict(X), logits, rtol=RTOL, atol=ATOL)
    np.testing.assert_allclose(
        from_torch(net, output="logits").predict(X), logits, rtol=RTOL, atol=ATOL
    )
    probs = from_torch(net, output="probabilities")
    assert probs.layer_names[-1] == "probabilities"
    expected = torch.softmax(torch.from_numpy(logits), dim=1).numpy()
    np.testing.assert_allclose(probs.predict(X), expected, rtol=RTOL, atol=ATOL)


@pytest.mark.parametrize("final", [nn.Sigmoid(), None], ids=["sigmoid", "logit"])
def test_single_logit_binary_model(final: torch.nn.Module | None) -> None:
    net = _classifier(final, n_out=1)
    X = _data(12, 4)
    z = _torch_out(net[:3], X)
    p = 1.0 / (1.0 + np.exp(-z.astype(np.float64)))
    np.testing.assert_allclose(from_torch(net).predict(X), _torch_out(net, X), rtol=RTOL, atol=ATOL)
    np.testing.assert_allclose(from_torch(net, output="logits").predict(X), z, rtol=RTOL, atol=ATOL)
    probs = from_torch(net, output="probabilities")
    assert probs.n_outputs == 2
    np.testing.assert_allclose(probs.predict(X), np.hstack([1 - p, p]), rtol=RTOL, atol=ATOL)


def test_invalid_output() -> None:
    with pytest.raises(ValueError, match="output"):
        from_torch(_classifier(None), output="proba")


# -- unsupported ----------------------------------------------------------------------------


def test_unsupported_module_is_named() -> None:
    net = nn.Sequential(nn.Linear(3, 4), nn.Sequential(nn.ReLU(), nn.GroupNorm(2, 4)))
    with pytest.raises(gb.UnsupportedLayerError, match=r"'1\.1' \(GroupNorm\)") as info:
        from_torch(net)
    assert "Linear" in str(info.value) and "GELU" in str(info.value)


class _Squaring(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.fc = nn.Linear(3, 3)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(x) * self.fc(x)


class _Cumulative(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.fc = nn.Linear(3, 3)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.cumsum(self.fc(x), 1)


def test_unsupported_function_is_named() -> None:
    with pytest.raises(gb.UnsupportedLayerError, match=r"'cumsum' \(function cumsum\)"):
        from_torch(_Cumulative())


def test_products_and_broadcast_sums_of_computed_tensors() -> None:
    X = _data(6, 3)
    for net in (_Squaring(), _Branching()):
        model = from_torch(net.eval(), 3)
        np.testing.assert_allclose(model.predict(X), _torch_out(net, X), rtol=RTOL, atol=ATOL)


class _Branching(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.fc = nn.Linear(3, 3)
        self.narrow = nn.Linear(3, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(x) + self.narrow(x)


class _Untraceable(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.fc = nn.Linear(3, 3)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.sum() > 0:
            return self.fc(x)
        return x


@pytest.mark.parametrize(
    ("net", "pattern"),
    [
        (_Cumulative(), r"'cumsum' \(function cumsum\)"),
        (_Untraceable(), "could not be traced"),
        (nn.Sequential(nn.Linear(3, 3), nn.Softmax(dim=0)), r"'1' \(Softmax\).*dim=0"),
        (nn.Sequential(nn.Flatten(0), nn.Linear(3, 3)), r"'0' \(Flatten\)"),
        (nn.Sequential(nn.Linear(3, 3), nn.PReLU()), r"'1' \(PReLU\).*LeakyReLU"),
    ],
    ids=["add", "control-flow", "softmax-dim0", "flatten-batch", "prelu"],
)
def test_unsupported_graphs(net: torch.nn.Module, pattern: str) -> None:
    with pytest.raises(gb.UnsupportedLayerError, match=pattern):
        from_torch(net, 3)


def test_linear_maps_the_last_axis_of_multidimensional_samples() -> None:
    net = nn.Sequential(nn.Linear(4, 2), nn.Tanh(), nn.Flatten()).eval()
    model = from_torch(net, (3, 4))
    X = _data(5, 3, 4)
    np.testing.assert_allclose(model.predict(X), _torch_out(net, X), rtol=RTOL, atol=ATOL)
    with pytest.raises(gb.UnsupportedLayerError, match=r"'0' \(Linear\).*flatten"):
        from_torch(nn.Sequential(nn.Linear(4, 2)), (4, 3))


def test_not_a_module() -> None:
    with pytest.raises(TypeError, match="module"):
        from_torch(lambda x: x, 3)


# -- the caller's module, pickling -----------------------------------------------------------


def test_caller_module_is_unchanged_and_dropout_is_identity() -> None:
    net = nn.Sequential(nn.Linear(4, 8), nn.Dropout(0.5), nn.ReLU(), nn.Linear(8, 2))
    net.train()
    before = {key: value.clone() for key, value in net.state_dict().items()}
    model = from_torch(net)
    assert net.training and all(m.training for m in net.modules())
    after = net.state_dict()
    assert before.keys() == after.keys()
    for key, value in before.items():
        assert torch.equal(value, after[key])
    X = _data(10, 4)
    net.eval()
    np.testing.assert_allclose(model.predict(X), _torch_out(net, X), rtol=RTOL, atol=ATOL)
    # The native copy does not share memory with the module.
    with torch.no_grad():
        net[0].weight.add_(1.0)
    assert not np.allclose(model.predict(X), _torch_out(net, X), rtol=RTOL, atol=ATOL)


def test_pickle_round_trip() -> None:
    net = nn.Sequential(nn.Linear(4, 5), nn.GELU(), nn.Linear(5, 3), nn.Softmax(dim=-1))
    model = from_torch(net, feature_names=list("abcd"), output_names=["x", "y", "z"])
    clone = pickle.loads(pickle.dumps(model))
    X = _data(7, 4)
    np.testing.assert_array_equal(clone.predict(X), model.predict(X))
    assert clone.layer_names == model.layer_names
    assert clone.feature_names == ["a", "b", "c", "d"]
    assert clone.output_names == ["x", "y", "z"]
