"""from_torch on nn.EmbeddingBag and F.embedding_bag over (B, T) ids, one bag a row: modes sum,
mean and max, with and without padding_idx (left out of the bag as torch leaves it out, even when
its row of the table is not zero), per_sample_weights given as an input. Forward passes equal
torch's; LayerIntegratedGradients on the bag's output equals Captum's on the module, and on the
bag's per-token embedding (``<name>/embedding``) equals Captum's on the same bag written with an
nn.Embedding; what is not translated (offsets, max_norm, other per_sample_weights) is named."""

from __future__ import annotations

import numpy as np
import pytest

import glassbox as gb
from glassbox.errors import UnsupportedLayerError
from glassbox.models.inputs import token_inputs

torch = pytest.importorskip("torch")
nn, F = torch.nn, torch.nn.functional
T, VOCAB, DIM = 7, 20, 6
MODES = ("sum", "mean", "max")


class BagClassifier(nn.Module):
    """An EmbeddingBag, tanh, a linear layer of 3 outputs."""

    def __init__(self, mode: str, padding_idx: int | None) -> None:
        super().__init__()
        self.bag = nn.EmbeddingBag(VOCAB, DIM, mode=mode, padding_idx=padding_idx)
        self.fc = nn.Linear(DIM, 3)
        if padding_idx is not None:
            with torch.no_grad():  # torch leaves the padding out whatever its row holds
                self.bag.weight[padding_idx] = 0.5

    def forward(self, ids):
        return self.fc(torch.tanh(self.bag(ids)))


class Unbagged(nn.Module):
    """The same classifier written with an nn.Embedding (Captum's layer per token): torch's
    bag semantics spelled out, the maximum by ``max(dim)`` (the gradient to one element)."""

    def __init__(self, bagged: BagClassifier) -> None:
        super().__init__()
        self.emb = nn.Embedding.from_pretrained(bagged.bag.weight.detach().clone())
        self.mode, self.pad, self.fc = bagged.bag.mode, bagged.bag.padding_idx, bagged.fc

    def forward(self, ids):
        rows = self.emb(ids)
        keep = torch.ones_like(ids) if self.pad is None else (ids != self.pad).long()
        keep = keep.float().unsqueeze(-1)
        if self.mode == "max":
            top = torch.where(keep > 0, rows, torch.tensor(-1e9)).max(1).values
            h = top * (keep.sum(1) > 0)
        else:
            h = (rows * keep).sum(1)
            h = h / keep.sum(1).clamp(min=1) if self.mode == "mean" else h
        return self.fc(torch.tanh(h))


def bags(n: int = 6, seed: int = 0):
    """Ids with padding (0) at the end, at the start, everywhere in one row, and repeats."""
    generator = torch.Generator().manual_seed(seed)
    ids = torch.randint(1, VOCAB, (n, T), generator=generator)
    ids[1, 3:] = 0
    ids[2, :] = 0
    ids[3, 0] = 0
    ids[4, 2:5] = ids[4, 1]
    return ids


def close(actual, desired, rtol: float = 1e-4) -> None:
    desired = np.asarray(desired, np.float64)
    scale = max(1e-6, float(np.abs(desired).max()))
    np.testing.assert_allclose(np.asarray(actual, np.float64), desired, rtol=0, atol=rtol * scale)


@pytest.fixture(scope="module", params=[(m, p) for m in MODES for p in (None, 0)], ids=str)
def classifier(request):
    torch.manual_seed(0)
    module = BagClassifier(*request.param).eval()
    return module, gb.from_torch(module, input_shape=(T,))


def test_forward_equals_torch(classifier) -> None:
    module, model = classifier
    ids = bags()
    close(model.predict(ids.numpy()), module(ids).detach().numpy(), 1e-5)
    assert token_inputs(model) == {-1: 0}  # ids, whose baseline is the padding token (or 0)
    assert {"bag", "bag/embedding", "fc"} <= set(model.layer_names)


def test_layer_integrated_gradients_equal_captum(classifier) -> None:
    captum_attr = pytest.importorskip("captum.attr")
    module, model = classifier
    ids = bags(seed=1)
    zeros = torch.zeros_like(ids)  # glassbox's default baseline
    # on the bag's output (B, D)
    ours = gb.LayerIntegratedGradients(model, "bag", n_steps=20)(ids.numpy(), target=1)
    theirs = captum_attr.LayerIntegratedGradients(module, module.bag).attribute(
        ids, baselines=zeros, target=1, n_steps=20
    )
    assert ours.values.shape == (6, DIM)
    close(ours.values, theirs.detach().numpy())
    # on each token's embedding (B, T, D)
    unbagged = Unbagged(module).eval()
    close(unbagged(ids).detach().numpy(), module(ids).detach().numpy(), 1e-6)
    ours = gb.LayerIntegratedGradients(model, "bag/embedding", n_steps=20)(ids.numpy(), target=1)
    theirs = captum_attr.LayerIntegratedGradients(unbagged, unbagged.emb).attribute(
        ids, baselines=zeros, target=1, n_steps=20
    )
    assert ours.values.shape == (6, T, DIM)
    close(ours.values, theirs.detach().numpy())


def test_functional_embedding_bag() -> None:
    class Functional(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.table = nn.Parameter(torch.randn(VOCAB, DIM))

        def forward(self, ids):
            return F.embedding_bag(ids, self.table, mode="max", padding_idx=-VOCAB)

    torch.manual_seed(1)
    module = Functional().eval()
    model = gb.from_torch(module, input_shape=(T,))
    ids = bags(seed=2)
    close(model.predict(ids.numpy()), module(ids).detach().numpy(), 1e-6)
    assert model.layer_names[0] == "embedding_bag/embedding"


def test_per_sample_weights_as_an_input() -> None:
    class Weighted(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.bag = nn.EmbeddingBag(VOCAB, DIM, mode="sum", padding_idx=0)

        def forward(self, ids, weights):
            return self.bag(ids, per_sample_weights=weights)

    torch.manual_seed(2)
    module = Weighted().eval()
    model = gb.from_torch(module, input_shape={"ids": (T,), "weights": (T,)})
    assert [i.dtype for i in model.inputs] == ["int", "float"]
    ids, weights = bags(seed=3), torch.rand(6, T)
    expected = module(ids, weights).detach().numpy()
    close(model.predict((ids.numpy(), weights.numpy())), expected, 1e-5)


def test_what_is_not_translated_is_named() -> None:
    class Offsets(nn.Module):
        def __init__(self, **options) -> None:
            super().__init__()
            self.bag = nn.EmbeddingBag(VOCAB, DIM, **options)
            self.register_buffer("offsets", torch.tensor([0, 3]))
            self.register_buffer("weights", torch.ones(2, T))

        def forward(self, ids):
            return self.bag(ids, self.offsets)

    with pytest.raises(UnsupportedLayerError, match=r"layer 'bag'.*offsets.*pass the ids as a"):
        gb.from_torch(Offsets(), input_shape=(T,))

    class Plain(Offsets):
        def forward(self, ids):
            return self.bag(ids)

    with pytest.raises(UnsupportedLayerError, match=r"layer 'bag'.*max_norm"):
        gb.from_torch(Plain(max_norm=1.0), input_shape=(T,))

    class Constant(Offsets):
        def forward(self, ids):
            return self.bag(ids, per_sample_weights=self.weights)

    with pytest.raises(UnsupportedLayerError, match=r"layer 'bag'.*per_sample_weights"):
        gb.from_torch(Constant(mode="sum"), input_shape=(T,))
