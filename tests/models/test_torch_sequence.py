"""from_torch on text and sequence models: an embedding-bag classifier with a padding mask
computed inside the model, nn.MultiheadAttention with key-padding and attention masks, and
nn.TransformerEncoder classifiers (post- and pre-norm, ReLU and GELU) taking input_ids and an
attention_mask. Forward passes equal torch's; LayerIntegratedGradients on the embedding equals
Captum's (same n_steps and method); unsupported arguments are named."""

from __future__ import annotations

import numpy as np
import pytest

import glassbox as gb
from glassbox.errors import UnsupportedLayerError

torch = pytest.importorskip("torch")
nn = torch.nn
PAD = 0


class Bag(nn.Module):
    """Mean of the non-padding token embeddings (the mask is computed from the ids)."""

    def __init__(self, vocab: int = 50, dim: int = 16) -> None:
        super().__init__()
        self.emb = nn.Embedding(vocab, dim, padding_idx=PAD)
        self.fc = nn.Linear(dim, 3)

    def forward(self, ids):
        mask = (ids != PAD).float().unsqueeze(-1)
        h = (self.emb(ids) * mask).sum(1) / mask.sum(1).clamp(min=1.0)
        return self.fc(torch.tanh(h))


class Encoder(nn.Module):
    """Token and position embeddings, a 2-layer TransformerEncoder, CLS or masked-mean pooling."""

    def __init__(self, norm_first: bool, activation: str, pool: str = "cls", d: int = 32) -> None:
        super().__init__()
        self.emb = nn.Embedding(60, d, padding_idx=PAD)
        self.pos = nn.Embedding(16, d)
        layer = nn.TransformerEncoderLayer(
            d, 4, 2 * d, dropout=0.1, activation=activation, batch_first=True, norm_first=norm_first
        )
        self.encoder = nn.TransformerEncoder(layer, 2, enable_nested_tensor=False)
        self.pool = pool
        self.head = nn.Linear(d, 2)

    def forward(self, input_ids, attention_mask):
        x = self.emb(input_ids) + self.pos(torch.arange(input_ids.shape[1]))
        h = self.encoder(x, src_key_padding_mask=attention_mask == 0)
        if self.pool == "cls":
            return self.head(h[:, 0])
        keep = attention_mask.unsqueeze(-1).float()
        return self.head((h * keep).sum(1) / keep.sum(1))


def tokens(n: int, t: int, vocab: int, seed: int = 0):
    generator = torch.Generator().manual_seed(seed)
    ids = torch.randint(1, vocab, (n, t), generator=generator)
    mask = torch.ones(n, t, dtype=torch.long)
    for row in range(1, n):  # padded rows of various lengths
        length = max(2, t - 3 * row)
        ids[row, length:] = PAD
        mask[row, length:] = 0
    return ids, mask


def close(actual, desired, rtol: float = 1e-4) -> None:
    desired = np.asarray(desired, np.float64)
    scale = max(1e-6, float(np.abs(desired).max()))
    np.testing.assert_allclose(np.asarray(actual, np.float64), desired, rtol=0, atol=rtol * scale)


def test_embedding_bag_with_a_computed_mask() -> None:
    torch.manual_seed(0)
    module = Bag().eval()
    model = gb.from_torch(module, input_shape=(12,))
    ids, _ = tokens(5, 12, 50)
    close(model.predict(ids.numpy()), module(ids).detach().numpy(), 1e-5)
    assert [layer.kind for layer in model.spec.layers][:3] == ["compare", "reshape", "embedding"]


@pytest.mark.parametrize("norm_first", [False, True])
@pytest.mark.parametrize("activation", ["relu", "gelu"])
@pytest.mark.parametrize("pool", ["cls", "mean"])
def test_transformer_encoder_classifier(norm_first: bool, activation: str, pool: str) -> None:
    torch.manual_seed(1)
    module = Encoder(norm_first, activation, pool).eval()
    model = gb.from_torch(module, input_shape={"input_ids": (16,), "attention_mask": (16,)})
    assert [(i.name, i.shape) for i in model.inputs] == [
        ("input_ids", (16,)),
        ("attention_mask", (16,)),
    ]
    assert model.inputs[0].dtype == "int"
    ids, mask = tokens(6, 16, 60)
    expected = module(ids, mask).detach().numpy()
    close(model.predict((ids.numpy(), mask.numpy())), expected, 1e-5)
    by_name = {"input_ids": ids.numpy(), "attention_mask": mask.numpy()}
    close(model.predict(by_name), expected, 1e-5)
    names = model.layer_names
    assert {"emb", "encoder.layers.0.self_attn", "encoder", "head"} <= set(names)
    if pool == "cls" and not norm_first:  # the head keeps the named inputs
        shapes = {"input_ids": (16,), "attention_mask": (16,)}
        probabilities = gb.from_torch(module, input_shape=shapes, output="probabilities")
        softmax = torch.softmax(torch.from_numpy(expected), -1).numpy()
        close(probabilities.predict((ids.numpy(), mask.numpy())), softmax, 1e-5)
    assert "encoder.layers.0.self_attn/weights" in names  # the attention weights (softmax)


def test_multihead_attention_with_masks() -> None:
    torch.manual_seed(2)

    class Attend(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.attn = nn.MultiheadAttention(16, 2, batch_first=True)
            self.register_buffer("causal", torch.triu(torch.ones(6, 6, dtype=torch.bool), 1))

        def forward(self, x, keep):
            out, _ = self.attn(x, x, x, key_padding_mask=keep == 0, attn_mask=self.causal)
            return out.mean(1)

    module = Attend().eval()
    model = gb.from_torch(module, input_shape=((6, 16), (6,)))
    x = torch.randn(3, 6, 16)
    keep = torch.tensor([[1] * 6, [1, 1, 1, 1, 0, 0], [1, 1, 0, 1, 1, 0]])
    close(model.predict((x.numpy(), keep.numpy())), module(x, keep).detach().numpy(), 1e-5)


def test_layer_integrated_gradients_equal_captum() -> None:
    captum_attr = pytest.importorskip("captum.attr")
    torch.manual_seed(3)
    module = Encoder(False, "gelu").eval()
    model = gb.from_torch(module, input_shape={"input_ids": (16,), "attention_mask": (16,)})
    ids, mask = tokens(5, 16, 60, seed=1)
    ours = gb.LayerIntegratedGradients(model, "emb", n_steps=24)(
        (ids.numpy(), mask.numpy()), target=1
    )
    lig = captum_attr.LayerIntegratedGradients(module, module.emb)
    theirs, delta = lig.attribute(
        ids,
        baselines=torch.full_like(ids, PAD),
        additional_forward_args=(mask,),
        target=1,
        n_steps=24,
        return_convergence_delta=True,
    )
    close(ours.values, theirs.detach().numpy(), 1e-4)
    assert ours.values.shape == (5, 16, 32)
    # every path from the ids runs through the embedding: both deltas are float noise
    scale = float(np.abs(model.predict((ids.numpy(), mask.numpy()))).max())
    assert np.abs(ours.delta).max() < 1e-5 * scale + 1e-6
    assert np.abs(delta.detach().numpy()).max() < 1e-5 * scale + 1e-6
    # the bag: its mask is computed from the ids, which keep X's values along the path
    bag = Bag().eval()
    bag_model = gb.from_torch(bag, input_shape=(12,))
    ids, _ = tokens(4, 12, 50, seed=2)
    ours = gb.LayerIntegratedGradients(bag_model, "emb", n_steps=30)(ids.numpy(), target=2)
    theirs = captum_attr.LayerIntegratedGradients(bag, bag.emb).attribute(
        ids, baselines=torch.zeros_like(ids), target=2, n_steps=30
    )
    close(ours.values, theirs.detach().numpy(), 1e-4)


def test_unsupported_arguments_are_named() -> None:
    layer = nn.TransformerEncoderLayer(8, 2, 16, batch_first=False)

    class Wrap(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.layer = layer

        def forward(self, x):
            return self.layer(x).mean(1)

    with pytest.raises(UnsupportedLayerError, match=r"layer 'layer'.*batch_first=False"):
        gb.from_torch(Wrap(), input_shape=(4, 8))

    class Norm(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.emb = nn.Embedding(10, 4, max_norm=1.0)

        def forward(self, ids):
            return self.emb(ids).sum(1)

    with pytest.raises(UnsupportedLayerError, match=r"layer 'emb'.*max_norm"):
        gb.from_torch(Norm(), input_shape=(5,))
    with pytest.raises(ValueError, match=r"input_shape: the module takes 2 inputs"):
        gb.from_torch(Encoder(False, "relu"), input_shape=(16,))


class TextCNN(nn.Module):
    """Embedding -> Conv1d (padding, dilation, groups) -> 1-D max / average pooling -> linear."""

    def __init__(self) -> None:
        super().__init__()
        self.emb = nn.Embedding(50, 8)
        self.conv1 = nn.Conv1d(8, 6, 3, padding=1)
        self.pool = nn.MaxPool1d(2)
        self.conv2 = nn.Conv1d(6, 4, 3, dilation=2, groups=2)
        self.avg = nn.AvgPool1d(2, ceil_mode=True)
        self.top = nn.AdaptiveMaxPool1d(1)
        self.fc = nn.Linear(4, 2)

    def forward(self, ids):
        x = self.emb(ids).transpose(1, 2)
        x = self.avg(torch.relu(self.conv2(self.pool(torch.relu(self.conv1(x))))))
        return self.fc(self.top(x).squeeze(-1))


def test_conv1d_text_classifier() -> None:
    captum_attr = pytest.importorskip("captum.attr")
    torch.manual_seed(4)
    module = TextCNN().eval()
    model = gb.from_torch(module, input_shape=(20,))
    ids, _ = tokens(4, 20, 50, seed=3)
    close(model.predict(ids.numpy()), module(ids).detach().numpy(), 1e-5)
    ours = gb.LayerIntegratedGradients(model, "emb", n_steps=20)(ids.numpy(), target=0)
    theirs = captum_attr.LayerIntegratedGradients(module, module.emb).attribute(
        ids, baselines=torch.zeros_like(ids), target=0, n_steps=20
    )
    close(ours.values, theirs.detach().numpy(), 1e-4)
