"""LRP for transformers and text models: CP-LRP conserves relevance layer by layer (bias-free),
AttnLRP and CP-LRP equal a literal NumPy walk of their definitions (tests/reference/attnlrp.py),
token relevance comes out per token, and masks take none."""

from __future__ import annotations

import numpy as np
import pytest

import glassbox as gb
from reference import attnlrp

torch = pytest.importorskip("torch")
nn = torch.nn


class Encoder(nn.Module):
    """Embedding -> 2-layer TransformerEncoder -> mean pool -> linear, without biases."""

    def __init__(self, norm_first: bool, activation: str, seed: int) -> None:
        super().__init__()
        torch.manual_seed(seed)
        self.emb = nn.Embedding(40, 16)
        layer = nn.TransformerEncoderLayer(
            16, 2, 32, activation=activation, batch_first=True, norm_first=norm_first, bias=False
        )
        self.encoder = nn.TransformerEncoder(layer, 2, enable_nested_tensor=False)
        self.head = nn.Linear(16, 2, bias=False)

    def forward(self, ids):
        return self.head(self.encoder(self.emb(ids)).mean(1))


def ids_of(n: int, t: int, seed: int) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 40, size=(n, t))


@pytest.mark.parametrize("norm_first", [False, True])
@pytest.mark.parametrize("activation", ["relu", "gelu"])
def test_cp_lrp_conserves_relevance_layer_by_layer(norm_first: bool, activation: str) -> None:
    model = gb.from_torch(Encoder(norm_first, activation, seed=1).eval(), input_shape=(10,))
    X = ids_of(5, 10, seed=2)
    exp = gb.LRP(model, composite="CPLRP")(X, target=1)
    logit = model.predict(X)[:, 1]
    scale = np.abs(logit).max()
    assert exp.values.shape == (5, 10)  # one relevance per token
    np.testing.assert_allclose(exp.values.sum(axis=1), logit, atol=1e-3 * scale)
    layers = exp.conservation_layers
    for name in ("<input>", "emb", "encoder.layers.0", "encoder"):
        column = exp.conservation[:, layers.index(name)]
        np.testing.assert_allclose(column, logit, atol=1e-3 * scale, err_msg=name)


@pytest.mark.parametrize("composite", ["AttnLRP", "CPLRP"])
@pytest.mark.parametrize("norm_first", [False, True])
def test_token_relevance_equals_the_literal_reference(composite: str, norm_first: bool) -> None:
    model = gb.from_torch(Encoder(norm_first, "gelu", seed=3).eval(), input_shape=(8,))
    X = ids_of(4, 8, seed=4)
    ours = gb.LRP(model, composite=composite)(X, target=0).values
    theirs = attnlrp.relevance(model.spec, X, 0, cp=composite == "CPLRP")
    scale = np.abs(theirs).max()
    np.testing.assert_allclose(ours, theirs, atol=1e-4 * scale)
    # the criterion: token relevances correlate >= 0.9 with AttnLRP's
    if composite == "AttnLRP":
        for row in range(4):
            assert np.corrcoef(ours[row], theirs[row])[0, 1] >= 0.99


def test_masks_take_no_relevance_and_the_signal_takes_all() -> None:
    """A classifier taking input_ids and attention_mask: the mask's columns get no relevance, and
    masked mean pooling (h * mask) passes all of the product's relevance to h."""

    class Masked(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            torch.manual_seed(5)
            self.emb = nn.Embedding(40, 16)
            layer = nn.TransformerEncoderLayer(16, 2, 32, batch_first=True, bias=False)
            self.encoder = nn.TransformerEncoder(layer, 1, enable_nested_tensor=False)
            self.head = nn.Linear(16, 2, bias=False)

        def forward(self, input_ids, attention_mask):
            h = self.encoder(self.emb(input_ids), src_key_padding_mask=attention_mask == 0)
            keep = attention_mask.unsqueeze(-1).float()
            return self.head((h * keep).sum(1) / keep.sum(1))

    model = gb.from_torch(Masked().eval(), input_shape={"input_ids": (8,), "attention_mask": (8,)})
    ids = ids_of(3, 8, seed=6)
    mask = np.ones((3, 8), np.int64)
    mask[1, 5:] = 0
    mask[2, 3:] = 0
    exp = gb.LRP(model, composite="CPLRP")((ids, mask), target=1)
    logit = model.predict((ids, mask))[:, 1]
    assert exp.inputs == {"input_ids": (8,)}  # the mask is passed through, not attributed
    values = exp.by_input()["input_ids"]
    np.testing.assert_allclose(values.sum(axis=1), logit, atol=1e-3 * np.abs(logit).max())
    assert np.all(values[1, 5:8] == 0.0) and np.all(values[2, 3:8] == 0.0)  # padding tokens
    reference = attnlrp.relevance(model.spec, np.concatenate([ids, mask], axis=1), 1, cp=True)
    np.testing.assert_allclose(reference[:, 8:], 0.0)  # the mask's columns take nothing
    np.testing.assert_allclose(values, reference[:, :8], atol=1e-4 * np.abs(reference).max())
