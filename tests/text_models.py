"""Text classifiers shared by the tests and ``bench/bench_text.py`` (which puts ``tests/`` on its
path): a small Hugging Face BERT built from a config (never downloaded), a module returning its
logits, Captum's LayerIntegratedGradients on its word embedding, token batches with padded rows,
and the recurrent classifier (embedding, a bidirectional LSTM or GRU, h_n of both directions,
linear).

``transformers()`` imports transformers offline; a torchvision whose C++ ops do not load (a build
for another torch) is hidden from it first, as BERT does not need it.
"""

from __future__ import annotations

import importlib
import os
import sys
from typing import Any

import numpy as np
import torch
from torch import nn

#: The word embedding of ``tiny_bert`` in its legacy (TorchScript) ONNX export.
BERT_WORDS = "/bert/embeddings/word_embeddings/Gather"


def transformers() -> Any:
    """The transformers module (offline), or None when it is not installed."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    try:
        importlib.import_module("torchvision")
    except Exception:
        for name in [m for m in sys.modules if m.split(".")[0] == "torchvision"]:
            del sys.modules[name]
        sys.modules["torchvision"] = None  # type: ignore[assignment]
    try:
        return importlib.import_module("transformers")
    except ImportError:
        return None


def tiny_bert(vocab: int = 100, *, seed: int = 0, **config: Any) -> Any:
    """``BertForSequenceClassification`` (2 layers, hidden 64, 4 heads, intermediate 128, 64
    positions, 2 labels) in eval mode; ``config`` adds to or overrides the BertConfig
    (``attn_implementation="eager"``)."""
    hf = transformers()
    settings = {
        "vocab_size": vocab,
        "hidden_size": 64,
        "num_hidden_layers": 2,
        "num_attention_heads": 4,
        "intermediate_size": 128,
        "max_position_embeddings": 64,
        "num_labels": 2,
        **config,
    }
    torch.manual_seed(seed)
    return hf.BertForSequenceClassification(hf.BertConfig(**settings)).eval()


class BertLogits(nn.Module):
    """A Hugging Face classifier as a module of (input_ids, attention_mask) returning logits
    (Captum selects targets in a tensor, not in a ``SequenceClassifierOutput``)."""

    def __init__(self, bert: Any) -> None:
        super().__init__()
        self.bert = bert

    def forward(self, input_ids: Any, attention_mask: Any) -> Any:
        return self.bert(input_ids=input_ids, attention_mask=attention_mask).logits


def captum_word_attributions(
    bert: Any, ids: np.ndarray, mask: np.ndarray, target: int, n_steps: int
) -> np.ndarray:
    """Captum's LayerIntegratedGradients on ``bert.bert.embeddings.word_embeddings`` from the
    padding token 0 (glassbox's default baseline), Gauss-Legendre (Captum's default method)."""
    from captum.attr import LayerIntegratedGradients

    lig = LayerIntegratedGradients(BertLogits(bert), bert.bert.embeddings.word_embeddings)
    t_ids = torch.from_numpy(ids)
    values = lig.attribute(
        t_ids,
        baselines=torch.zeros_like(t_ids),
        additional_forward_args=(torch.from_numpy(mask),),
        target=target,
        n_steps=n_steps,
    )
    return values.detach().numpy()


def token_batch(
    n_tokens: int, vocab: int, rows: int = 6, seed: int = 0
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Token ids and two masks: all ones, and padded rows (the first row keeps one token)."""
    rng = np.random.default_rng(seed)
    ids = rng.integers(0, vocab, size=(rows, n_tokens), dtype=np.int64)
    padded = np.ones_like(ids)
    for row, length in enumerate(rng.integers(1, n_tokens, size=rows)):
        padded[row, length:] = 0
    padded[0, 1:] = 0
    return ids, np.ones_like(ids), padded


class Recurrent(nn.Module):
    """Embedding, a bidirectional ``LSTM`` or ``GRU`` (batch first; ``num_layers``), the last
    hidden state of both directions (``h_n[-2]``, ``h_n[-1]``), a linear layer; ``bias``
    applies to the recurrent and the linear layer. Seed torch before building it."""

    def __init__(
        self,
        cell: str = "LSTM",
        vocab: int = 1000,
        dim: int = 64,
        hidden: int = 64,
        n_out: int = 2,
        *,
        num_layers: int = 1,
        bias: bool = True,
        padding_idx: int | None = 0,
    ) -> None:
        super().__init__()
        self.emb = nn.Embedding(vocab, dim, padding_idx=padding_idx)
        self.rnn = getattr(nn, cell)(
            dim, hidden, num_layers=num_layers, batch_first=True, bidirectional=True, bias=bias
        )
        self.fc = nn.Linear(2 * hidden, n_out, bias=bias)
        self.lstm = cell == "LSTM"

    def forward(self, ids: Any) -> Any:
        if self.lstm:
            _, (h, _) = self.rnn(self.emb(ids))
        else:
            _, h = self.rnn(self.emb(ids))
        return self.fc(torch.cat([h[-2], h[-1]], dim=1))
