"""from_torch on a Hugging Face ``BertForSequenceClassification`` (built from a small config, never
downloaded), eager and SDPA attention. torch.fx cannot trace it (its forward slices by input
shapes and is wrapped by decorators), so from_torch exports it to ONNX (TorchScript exporter) and
translates the graph with from_onnx, saying so in a warning. The forward equals torch's with
padded rows; LayerIntegratedGradients on the word embedding's ONNX node equals Captum's on
``bert.embeddings.word_embeddings``. Without onnx, or when the export fixes a branch on input
values, the module is refused by name."""

from __future__ import annotations

import importlib.util
from typing import Any

import numpy as np
import pytest

import glassbox as gb
from glassbox.errors import UnsupportedLayerError

torch = pytest.importorskip("torch")
pytest.importorskip("onnx")
from text_models import (  # noqa: E402
    BERT_WORDS,
    BertLogits,
    captum_word_attributions,
    tiny_bert,
    token_batch,
    transformers,
)

T, VOCAB = 16, 100
SHAPES = {"input_ids": (T,), "attention_mask": (T,)}
EXPORTED = r"could not be traced with torch\.fx, so it was exported with torch\.onnx\.export"


def convert(module: Any, **options: Any) -> Any:
    with pytest.warns(UserWarning, match=EXPORTED):
        return gb.from_torch(module, **options)


@pytest.fixture(scope="module", params=["eager", "sdpa"])
def bert(request: Any) -> tuple[Any, Any]:
    if transformers() is None:
        pytest.skip("transformers is not installed")
    module = tiny_bert(VOCAB, attn_implementation=request.param)
    assert module.config._attn_implementation == request.param
    module.train()  # converted with inference semantics, and left as it was
    model = convert(module, input_shape=SHAPES)
    assert module.training and module.bert.encoder.layer[0].attention.self.dropout.training
    return module.eval(), model


def test_forward_equals_torch_with_padded_rows(bert: tuple[Any, Any]) -> None:
    module, model = bert
    assert [(i.name, i.shape, i.dtype) for i in model.inputs] == [
        ("input_ids", (T,), "int"),
        ("attention_mask", (T,), "int"),
    ]
    ids, *masks = token_batch(T, VOCAB)
    for mask in masks:
        with torch.no_grad():
            expected = module(
                input_ids=torch.from_numpy(ids), attention_mask=torch.from_numpy(mask)
            )
        expected = expected.logits.numpy()
        got = model.predict({"input_ids": ids, "attention_mask": mask})
        np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-4 * np.abs(expected).max())


def test_layer_integrated_gradients_equal_captum(bert: tuple[Any, Any]) -> None:
    pytest.importorskip("captum.attr")
    module, model = bert
    assert model.spec.layers[model.layer_names.index(BERT_WORDS)].kind == "embedding"
    ids, _, mask = token_batch(T, VOCAB, rows=4, seed=3)
    ours = gb.LayerIntegratedGradients(model, BERT_WORDS, n_steps=20)((ids, mask), target=1)
    theirs = captum_word_attributions(module, ids, mask, target=1, n_steps=20)
    assert ours.values.shape == (4, T, 64)
    np.testing.assert_allclose(ours.values, theirs, rtol=0, atol=1e-4 * np.abs(theirs).max())


def test_output_and_names_pass_through(bert: tuple[Any, Any]) -> None:
    module, _ = bert
    model = convert(module, input_shape=SHAPES, output="probabilities", output_names=["no", "yes"])
    ids, _, mask = token_batch(T, VOCAB, rows=3)
    with torch.no_grad():
        logits = BertLogits(module)(torch.from_numpy(ids), torch.from_numpy(mask))
    expected = torch.softmax(logits, -1).numpy()
    np.testing.assert_allclose(model.predict((ids, mask)), expected, atol=1e-5)
    assert model.output_names == ["no", "yes"]


class Branchy(torch.nn.Module):
    """A branch on the input's values: fx refuses it, and an export would fix the branch."""

    def __init__(self) -> None:
        super().__init__()
        self.fc = torch.nn.Linear(4, 2)

    def forward(self, x):
        if x.abs().sum() > 0:
            return self.fc(x)
        return -self.fc(x)


def test_what_the_export_cannot_do_is_refused(monkeypatch: Any) -> None:
    with pytest.raises(UnsupportedLayerError, match=r"Branchy.*does not reproduce Branchy"):
        gb.from_torch(Branchy(), input_shape=(4,))
    # without an input shape, or without onnx, the tracing error as it is
    with pytest.raises(UnsupportedLayerError, match=r"could not be traced.*use glassbox\.wrap"):
        gb.from_torch(Branchy())
    find_spec = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util,
        "find_spec",
        lambda name, *a: None if name == "onnx" else find_spec(name, *a),
    )
    with pytest.raises(UnsupportedLayerError, match=r"could not be traced with torch\.fx \(") as e:
        gb.from_torch(Branchy(), input_shape=(4,))
    assert "ONNX" not in str(e.value)
