"""LRP through LSTM and GRU layers (Arras et al., 2017): the relevance at the input equals a
literal step-by-step NumPy walk of the rule (tests/reference/lrp_recurrent.py), and a bias-free
recurrent text classifier conserves relevance from the logit to the tokens."""

from __future__ import annotations

import numpy as np
import pytest

import glassbox as gb
from glassbox.models.spec import NetworkSpec
from reference import lrp_recurrent

torch = pytest.importorskip("torch")
from text_models import Recurrent  # noqa: E402

nn = torch.nn


@pytest.mark.parametrize("cell", ["LSTM", "GRU"])
@pytest.mark.parametrize("bidirectional", [False, True])
def test_relevance_equals_the_literal_rule(cell: str, bidirectional: bool) -> None:
    torch.manual_seed(0)
    module = getattr(nn, cell)(3, 4, batch_first=True, bidirectional=bidirectional)
    kind = cell.lower()
    spec = NetworkSpec(input_shape=(5, 3))
    weights = {}
    suffixes = ["", "_reverse"][: 2 if bidirectional else 1]
    for suffix in suffixes:
        for part in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"):
            weights[part + suffix] = getattr(module, f"{part}_l0{suffix}").detach().numpy()
    spec.add(kind, "rnn", **weights)
    width = 4 * len(suffixes)
    head = np.random.default_rng(1).normal(size=(1, 5 * width))
    spec.add("flatten", "flat")
    spec.add("dense", "out", weight=head, bias=None)
    model = gb.build_network(spec)
    X = np.random.default_rng(2).normal(size=(3, 5, 3)).astype(np.float32)
    ours = gb.LRP(model, composite="EpsilonPlus")(X, target=0).values
    # the literal walk: relevance at the sequence by the epsilon rule of the dense head
    out = model.network.predict(X.reshape(3, -1), 1).ravel()
    sequence = gb.LayerGradientXActivation(model, "rnn")(X, target=0).values  # x * w: epsilon
    sequence = sequence * (out / (out + 1e-6 * np.where(out >= 0, 1, -1)))[:, None, None]
    expected = sum(
        lrp_recurrent.relevance(
            kind, weights, X.astype(np.float64), sequence[:, :, d * 4 : (d + 1) * 4], suffix
        )
        for d, suffix in enumerate(suffixes)
    )
    np.testing.assert_allclose(ours, expected, atol=1e-4 * np.abs(expected).max())


def classifier(cell: str) -> Recurrent:
    """Embedding -> 2-layer bidirectional LSTM / GRU without biases -> h_n -> linear."""
    torch.manual_seed(3)
    kwargs = {"num_layers": 2, "bias": False, "padding_idx": None}
    return Recurrent(cell, vocab=30, dim=8, hidden=6, n_out=2, **kwargs).eval()


@pytest.mark.parametrize("cell", ["LSTM", "GRU"])
def test_a_bias_free_classifier_conserves_relevance(cell: str) -> None:
    model = gb.from_torch(classifier(cell), input_shape=(7,))
    ids = np.random.default_rng(4).integers(0, 30, size=(4, 7))
    exp = gb.LRP(model)(ids, target=1)
    logit = model.predict(ids)[:, 1]
    assert exp.values.shape == (4, 7)  # one relevance per token
    np.testing.assert_allclose(exp.values.sum(axis=1), logit, atol=1e-3 * np.abs(logit).max())
    layers = exp.conservation_layers
    for name in ("emb", "rnn/l0", "rnn"):
        column = exp.conservation[:, layers.index(name)]
        np.testing.assert_allclose(column, logit, atol=1e-3 * np.abs(logit).max(), err_msg=name)
