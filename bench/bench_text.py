"""Layer Integrated Gradients on text models: glassbox vs Captum on the same weights and tokens.

Run ``python bench/bench_text.py [--quick]`` from the repository root. Every model reads 64
sequences of 32 tokens; both libraries integrate along the word embedding's values from the
padding token's embedding, with 50 Gauss-Legendre steps (Captum's default method), target 1:

- an embedding bag (mean of the non-padding embeddings, tanh, linear);
- a BiLSTM classifier (embedding 64, one bidirectional LSTM of 64 units, h_n of both
  directions, linear) and the same with a GRU;
- an ``nn.TransformerEncoder`` classifier (embedding 64 + positions, 2 layers, 4 heads, GELU,
  feed-forward 128, CLS pooling) with an attention mask;
- a Hugging Face ``BertForSequenceClassification`` (2 layers, hidden 64, 4 heads, intermediate
  128) built from a config, converted by ``gb.from_torch`` (which exports it to ONNX, as
  torch.fx cannot trace it) and explained by Captum on the torch model
  (``bert.embeddings.word_embeddings``).

Captum runs with each ``internal_batch_size`` of (None, 256, 512, 1024, 3200) and the best median
is reported; torch and glassbox use 2 threads. Values are checked against Captum (max
difference over max |value|) before timing. GFLOP/s counts 2 x the multiply-adds of glassbox's
forward pass x 3 (forward, and the backward pass to the embedding at twice the cost) per path
point; the same-run SGEMM is the ceiling.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from common import Row, bench_main, interleaved_medians, sgemm_gflops

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from text_models import BertLogits, Recurrent, tiny_bert, transformers

N_ROWS, N_TOKENS, N_STEPS, TARGET = 64, 32, 50, 1
BATCH_SIZES = (None, 256, 512, 1024, 3200)


def _models() -> dict[str, tuple[Any, Any, Any, dict[str, Any]]]:
    """name -> (torch module, its embedding module, glassbox model, shapes)."""
    import torch
    from torch import nn

    import glassbox as gb

    torch.manual_seed(0)

    class Bag(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.emb = nn.Embedding(1000, 64, padding_idx=0)
            self.fc = nn.Linear(64, 2)

        def forward(self, ids):
            keep = (ids != 0).float().unsqueeze(-1)
            return self.fc(torch.tanh((self.emb(ids) * keep).sum(1) / keep.sum(1).clamp(min=1)))

    class Encoder(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.emb = nn.Embedding(1000, 64, padding_idx=0)
            self.pos = nn.Embedding(N_TOKENS, 64)
            layer = nn.TransformerEncoderLayer(64, 4, 128, activation="gelu", batch_first=True)
            self.encoder = nn.TransformerEncoder(layer, 2, enable_nested_tensor=False)
            self.fc = nn.Linear(64, 2)

        def forward(self, input_ids, attention_mask):
            x = self.emb(input_ids) + self.pos(torch.arange(input_ids.shape[1]))
            return self.fc(self.encoder(x, src_key_padding_mask=attention_mask == 0)[:, 0])

    shapes = {"input_ids": (N_TOKENS,), "attention_mask": (N_TOKENS,)}
    models: dict[str, tuple[Any, Any, Any, dict[str, Any]]] = {}
    bag = Bag().eval()
    models["embedding bag"] = (bag, bag.emb, gb.from_torch(bag, input_shape=(N_TOKENS,)), {})
    for cell in ("LSTM", "GRU"):
        net = Recurrent(cell).eval()  # embedding 1000 x 64, 64 units each way
        model = gb.from_torch(net, input_shape=(N_TOKENS,))
        models[f"Bi{cell} 64"] = (net, net.emb, model, {})
    encoder = Encoder().eval()
    models["TransformerEncoder 2x64"] = (
        encoder,
        encoder.emb,
        gb.from_torch(encoder, input_shape=shapes),
        {"mask": True},
    )
    bert = _bert()
    if bert is not None:
        models["HF BERT 2x64 (ONNX)"] = bert
    return models


def _bert() -> tuple[Any, Any, Any, dict[str, Any]] | None:
    """The Hugging Face model built from a config, converted by from_torch (through its ONNX
    export, as torch.fx cannot trace it), or None without transformers."""
    import warnings

    import glassbox as gb

    if transformers() is None:
        return None
    model = tiny_bert(1000)
    shapes = {"input_ids": (N_TOKENS,), "attention_mask": (N_TOKENS,)}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "exported with torch.onnx.export": we know
        native = gb.from_torch(model, input_shape=shapes)
    wrapped = BertLogits(model).eval()
    return wrapped, model.bert.embeddings.word_embeddings, native, {"mask": True, "onnx": True}


def _word_embedding_layer(model: Any) -> str:
    """The layer reading the token ids: the first embedding layer."""
    return next(layer.name for layer in model.spec.layers if layer.kind == "embedding")


def _tokens() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    ids = rng.integers(1, 1000, size=(N_ROWS, N_TOKENS))
    mask = np.ones_like(ids)
    for row in range(N_ROWS):  # padded rows of various lengths
        length = N_TOKENS - (row % 4) * 6
        ids[row, length:], mask[row, length:] = 0, 0
    return ids, mask


def _measure(
    name: str, entry: tuple[Any, Any, Any, dict[str, Any]], repeats: int, sgemm: float
) -> Row:
    """One model: the values checked against Captum, then interleaved medians."""
    import torch
    from captum.attr import LayerIntegratedGradients as CaptumLIG

    import glassbox as gb

    module, embedding, model, info = entry
    ids, mask = _tokens()
    t_ids, t_mask = torch.tensor(ids), torch.tensor(mask)
    inputs = (ids, mask) if info.get("mask") else ids
    ours = gb.LayerIntegratedGradients(
        model, _word_embedding_layer(model), n_steps=N_STEPS, n_threads=2
    )
    captum = CaptumLIG(module, embedding)
    extra = {"additional_forward_args": (t_mask,)} if info.get("mask") else {}

    def theirs(batch: int | None) -> Callable[[], Any]:
        return lambda: captum.attribute(
            t_ids,
            baselines=torch.zeros_like(t_ids),
            target=TARGET,
            n_steps=N_STEPS,
            internal_batch_size=batch,
            **extra,
        )

    expected = theirs(None)().detach().numpy()
    got = ours(inputs, target=TARGET).values
    error = float(np.abs(got - expected).max() / np.abs(expected).max())
    jobs: dict[str, Callable[[], Any]] = {"glassbox": lambda: ours(inputs, target=TARGET)}
    jobs.update({f"captum {b}": theirs(b) for b in BATCH_SIZES})
    medians = interleaved_medians(jobs, repeats)
    best = min((v, k) for k, v in medians.items() if k != "glassbox")
    points = N_ROWS * N_STEPS
    gflops = 2 * 3 * model.network.macs_per_sample * points / medians["glassbox"] / 1e9
    return Row(
        f"LayerIG {name}",
        f"{N_ROWS}x{N_TOKENS} tokens, {N_STEPS} steps",
        medians["glassbox"],
        peer=best[0],
        peer_name="Captum",
        gflops=gflops,
        notes=[
            f"{name}: Captum best internal_batch_size={best[1].split()[1]}; "
            f"max diff / max |value| {error:.1e}; same-run SGEMM {sgemm:.0f} GFLOP/s"
        ],
    )


def run(quick: bool = False) -> list[Row]:
    import torch

    torch.set_num_threads(2)
    sgemm = sgemm_gflops()["numpy"]
    rows = []
    for name, entry in _models().items():
        rows.append(_measure(name, entry, 3 if quick else 5, sgemm))
        time.sleep(0.5)
    return rows


if __name__ == "__main__":
    bench_main(run, __doc__, "3 rounds instead of 5")
