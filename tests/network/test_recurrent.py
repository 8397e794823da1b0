"""LSTM and GRU layers: native forward and input gradient against the literal NumPy reference
(torch's equations step by step) and against torch (nn.LSTM / nn.GRU, autograd), for drawn sizes,
one or two directions and stacked layers; from_torch on classifiers built on them, including
h_n; LayerIntegratedGradients on their embedding against Captum; unsupported arguments named."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import glassbox as gb
from conftest import check_against_reference as check
from glassbox.errors import UnsupportedLayerError
from glassbox.models.spec import NetworkSpec

torch = pytest.importorskip("torch")
from text_models import Recurrent  # noqa: E402

nn = torch.nn


def spec_of(module, steps: int) -> NetworkSpec:
    """A one-layer torch recurrent module as a spec: its weights under the layer's names."""
    kind = "lstm" if isinstance(module, nn.LSTM) else "gru"
    spec = NetworkSpec(input_shape=(steps, module.input_size))
    weights = {}
    for suffix in ["", "_reverse"][: 2 if module.bidirectional else 1]:
        for part in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"):
            weights[part + suffix] = getattr(module, f"{part}_l0{suffix}").detach().numpy()
    spec.add(kind, "rnn", **weights)
    return spec


@given(
    seed=st.integers(0, 10_000),
    steps=st.integers(1, 5),
    width=st.integers(1, 4),
    hidden=st.integers(1, 5),
    bidirectional=st.booleans(),
    cell=st.sampled_from(["LSTM", "GRU"]),
)
@settings(max_examples=25, deadline=None)
def test_one_layer_against_the_reference_and_torch(
    seed: int, steps: int, width: int, hidden: int, bidirectional: bool, cell: str
) -> None:
    torch.manual_seed(seed)
    module = getattr(nn, cell)(width, hidden, batch_first=True, bidirectional=bidirectional)
    spec = spec_of(module, steps)
    X = np.random.default_rng(seed).normal(size=(3, steps, width))
    check(spec, X, rtol=1e-4, atol=1e-5)
    model = gb.build_network(spec)
    x = torch.tensor(X, dtype=torch.float32, requires_grad=True)
    out, _ = module(x)
    np.testing.assert_allclose(
        model.predict(X).reshape(out.shape), out.detach().numpy(), rtol=1e-5, atol=1e-6
    )
    out.reshape(3, -1)[:, -1].sum().backward()
    target = np.full(3, out[0].numel() - 1, dtype=np.int32)
    grad = gb._core.input_gradients(
        model.network,
        X=X.reshape(3, -1).astype(np.float32),
        targets=target,
        abs=False,
        options=gb._core.RunOptions(),
    )
    np.testing.assert_allclose(grad, x.grad.reshape(3, -1).numpy(), rtol=1e-4, atol=1e-6)


def classifier(cell: str) -> Recurrent:
    """Embedding -> 2-layer bidirectional LSTM / GRU -> [h_n forward, h_n reverse] -> linear."""
    torch.manual_seed(0)
    return Recurrent(cell, vocab=30, dim=8, hidden=6, n_out=3, num_layers=2).eval()


@pytest.mark.parametrize("cell", ["LSTM", "GRU"])
def test_bidirectional_classifier_and_layer_ig_against_captum(cell: str) -> None:
    captum_attr = pytest.importorskip("captum.attr")
    module = classifier(cell)
    model = gb.from_torch(module, input_shape=(9,))
    ids = torch.randint(1, 30, (4, 9), generator=torch.Generator().manual_seed(1))
    np.testing.assert_allclose(
        model.predict(ids.numpy()), module(ids).detach().numpy(), rtol=1e-5, atol=1e-6
    )
    assert {"rnn", "rnn/l0"} <= set(model.layer_names)
    ours = gb.LayerIntegratedGradients(model, "emb", n_steps=16)(ids.numpy(), target=2)
    theirs = captum_attr.LayerIntegratedGradients(module, module.emb).attribute(
        ids, baselines=torch.zeros_like(ids), target=2, n_steps=16
    )
    scale = float(np.abs(theirs.detach().numpy()).max())
    np.testing.assert_allclose(ours.values, theirs.detach().numpy(), atol=1e-4 * scale)
    assert np.abs(ours.delta).max() < 1e-2 * np.abs(model.predict(ids.numpy())).max()


def test_unsupported_recurrent_arguments_are_named() -> None:
    class Wrap(nn.Module):
        def __init__(self, rnn) -> None:
            super().__init__()
            self.rnn = rnn

        def forward(self, x):
            out, _ = self.rnn(x)
            return out.sum(1)

    with pytest.raises(UnsupportedLayerError, match=r"'rnn'.*batch_first=False"):
        gb.from_torch(Wrap(nn.LSTM(3, 4)), input_shape=(5, 3))
    with pytest.raises(UnsupportedLayerError, match=r"'rnn'.*proj_size"):
        gb.from_torch(Wrap(nn.LSTM(3, 4, batch_first=True, proj_size=2)), input_shape=(5, 3))

    class CellState(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.rnn = nn.LSTM(3, 4, batch_first=True)

        def forward(self, x):
            _, (_, c) = self.rnn(x)
            return c[-1]

    with pytest.raises(UnsupportedLayerError, match="c_n"):
        gb.from_torch(CellState(), input_shape=(5, 3))
    spec = NetworkSpec(input_shape=(4, 3))
    spec.add("lstm", "bad", weight_ih=np.ones((8, 3)), weight_hh=np.ones((8, 3)))
    with pytest.raises(ValueError, match=r"layer 'bad': lstm: weight_ih must be \(4 H, 3\)"):
        gb.build_network(spec)
