"""from_onnx on transformer exports: a small Hugging Face BERT (2 layers, hidden 64, built from a
config, never downloaded) and an ``nn.TransformerEncoder`` classifier, each exported by torch's
default (dynamo) and legacy exporters with inputs ``input_ids`` and ``attention_mask``; the
native network must match onnxruntime and torch with and without padding in the mask."""

from __future__ import annotations

import contextlib
import io
import warnings
from typing import Any

import numpy as np
import pytest

onnx = pytest.importorskip("onnx")
torch = pytest.importorskip("torch")
ort = pytest.importorskip("onnxruntime")
pytest.importorskip("onnxscript")
from onnx import TensorProto, helper, numpy_helper  # noqa: E402

from glassbox.errors import UnsupportedLayerError  # noqa: E402
from glassbox.models.onnx_adapter import from_onnx  # noqa: E402
from text_models import (  # noqa: E402
    BERT_WORDS,
    captum_word_attributions,
    tiny_bert,
    token_batch,
    transformers,
)

nn = torch.nn
T, VOCAB = 32, 100
RTOL = 1e-4


def _export(net: Any, args: tuple[Any, ...], path: Any, names: list[str], dynamo: bool) -> Any:
    batch = {0: "batch"}
    kwargs: dict[str, Any] = {"input_names": names, "output_names": ["logits"]}
    if dynamo:
        dim = torch.export.Dim("batch")
        kwargs["dynamic_shapes"] = tuple({0: dim} for _ in names)
    else:
        kwargs["dynamic_axes"] = {**{n: batch for n in names}, "logits": batch}
        kwargs["opset_version"] = 17
    with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):
        warnings.simplefilter("ignore")
        torch.onnx.export(net, args, str(path), dynamo=dynamo, **kwargs)
    return path


def _check(path: Any, net: Any, names: list[str], n_tokens: int, vocab: int) -> Any:
    model = from_onnx(str(path))
    session = ort.InferenceSession(str(path))
    ids, *masks = token_batch(n_tokens, vocab)
    for mask in masks:
        expected = session.run(None, dict(zip(names, (ids, mask), strict=True)))[0]
        with torch.no_grad():
            framework = net(torch.from_numpy(ids), torch.from_numpy(mask))
        framework = getattr(framework, "logits", framework).numpy()
        got = model.predict(np.hstack([ids, mask]).astype(np.float32))
        scale = np.abs(expected).max()
        np.testing.assert_allclose(got, expected, rtol=RTOL, atol=RTOL * scale)
        np.testing.assert_allclose(got, framework, rtol=RTOL, atol=RTOL * scale)
    return model


# -- a small BERT ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def bert() -> Any:
    if transformers() is None:
        pytest.skip("transformers is not installed")
    return tiny_bert(VOCAB)


@pytest.fixture(scope="module", params=["dynamo", "legacy"])
def bert_onnx(request: Any, bert: Any, tmp_path_factory: Any) -> Any:
    ids, mask, _ = (torch.from_numpy(a) for a in token_batch(T, VOCAB, rows=2))
    path = tmp_path_factory.mktemp("bert") / f"bert_{request.param}.onnx"
    names = ["input_ids", "attention_mask"]
    return _export(bert, (ids, mask), path, names, request.param == "dynamo")


def test_bert_matches_onnxruntime_and_torch(bert_onnx: Any, bert: Any) -> None:
    model = _check(bert_onnx, bert, ["input_ids", "attention_mask"], T, VOCAB)
    assert [(i.name, i.shape, i.dtype) for i in model.spec.inputs] == [
        ("input_ids", (T,), "int"),
        ("attention_mask", (T,), "int"),
    ]
    # the word embedding keeps its node's name (a layer for LayerIntegratedGradients)
    dynamo = bert_onnx.name.endswith("dynamo.onnx")
    words = "node_embedding" if dynamo else BERT_WORDS
    assert model.spec.layers[model.layer_names.index(words)].kind == "embedding"
    kinds = {layer.kind for layer in model.spec.layers}
    assert {"embedding", "layer_norm", "matmul", "softmax"} <= kinds


# -- an nn.TransformerEncoder classifier ----------------------------------------------------------


class _Encoder(nn.Module):
    """Token and learned position embeddings, two encoder layers with a padding mask, the first
    token's features to three classes."""

    def __init__(self, vocab: int = 50, n_tokens: int = 16, width: int = 32) -> None:
        super().__init__()
        self.embedding = nn.Embedding(vocab, width)
        self.position = nn.Parameter(torch.randn(1, n_tokens, width) * 0.1)
        layer = nn.TransformerEncoderLayer(
            width, 4, dim_feedforward=64, dropout=0.0, batch_first=True
        )
        self.encoder = nn.TransformerEncoder(layer, 2, enable_nested_tensor=False)
        self.head = nn.Linear(width, 3)

    def forward(self, ids: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        h = self.embedding(ids) + self.position
        return self.head(self.encoder(h, src_key_padding_mask=mask == 0)[:, 0])


@pytest.mark.parametrize("dynamo", [True, False], ids=["dynamo", "legacy"])
def test_transformer_encoder_matches_onnxruntime_and_torch(dynamo: bool, tmp_path: Any) -> None:
    torch.manual_seed(1)
    net = _Encoder().eval()
    ids, mask, _ = (torch.from_numpy(a) for a in token_batch(16, 50, rows=2))
    path = _export(net, (ids, mask), tmp_path / "encoder.onnx", ["ids", "mask"], dynamo)
    _check(path, net, ["ids", "mask"], 16, 50)


# -- bad input ------------------------------------------------------------------------------------


def _two_inputs(node: Any, *, mask_type: int = TensorProto.INT64) -> Any:
    table = numpy_helper.from_array(np.ones((10, 4), np.float32), "table")
    graph = helper.make_graph(
        [helper.make_node("Gather", ["table", "ids"], ["emb"], name="words"), node],
        "g",
        [
            helper.make_tensor_value_info("ids", TensorProto.INT64, ["n", 3]),
            helper.make_tensor_value_info("mask", mask_type, ["n", 3]),
        ],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["n", "t", "d"])],
        initializer=[table],
    )
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])


def test_an_untranslatable_node_is_named() -> None:
    node = helper.make_node("TopK", ["emb", "k"], ["y", "i"], name="strange_topk")
    model = _two_inputs(node)
    model.graph.initializer.append(numpy_helper.from_array(np.array([2], np.int64), "k"))
    with pytest.raises(UnsupportedLayerError, match=r"strange_topk.*TopK"):
        from_onnx(model)


def test_an_input_of_a_string_type_is_named() -> None:
    node = helper.make_node("Identity", ["emb"], ["y"], name="out")
    with pytest.raises(ValueError, match=r"'mask'.*STRING"):
        from_onnx(_two_inputs(node, mask_type=TensorProto.STRING))


def test_layer_norm_before_opset_17_is_one_layer(tmp_path: Any) -> None:
    """The legacy exporter's ReduceMean-Sub-Pow-ReduceMean-Add-Sqrt-Div-Mul-Add form."""
    torch.manual_seed(2)
    net = nn.Sequential(nn.Linear(6, 8), nn.LayerNorm(8), nn.Tanh()).eval()
    with torch.no_grad():
        net[1].weight.uniform_(0.5, 1.5), net[1].bias.uniform_(-0.5, 0.5)
    X = np.random.default_rng(0).normal(size=(4, 5, 6)).astype(np.float32)
    path = tmp_path / "ln.onnx"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(net, (torch.from_numpy(X),), str(path), dynamo=False, opset_version=14)
    model = from_onnx(str(path))
    assert [layer.kind for layer in model.spec.layers] == ["dense", "layer_norm", "tanh"]
    session = ort.InferenceSession(str(path))
    expected = session.run(None, {session.get_inputs()[0].name: X})[0]
    got = model.predict(X).reshape(expected.shape)
    np.testing.assert_allclose(got, expected, rtol=RTOL, atol=1e-5)


# -- the per-sample mask indexing of both exporters, on a small graph -----------------------------


def _indexing_graph(legacy: bool) -> Any:
    """``y = x + m[b, j]`` read with the sample index ``b = Range(0, batch)``: GatherND (dynamo)
    or Gather on ``m`` flattened with its batch at ``b * 4 + j`` (legacy)."""

    def const(name: str, value: Any) -> Any:
        return numpy_helper.from_array(np.asarray(value, np.int64), name)

    nodes = [
        helper.make_node("Shape", ["m"], ["shape"], name="shape"),
        helper.make_node("Gather", ["shape", "zero"], ["batch"], name="batch", axis=0),
        helper.make_node("Range", ["zero", "batch", "one"], ["b"], name="range"),
        helper.make_node("Unsqueeze", ["b", "axis1"], ["b1"], name="b_column"),
    ]
    inits = [const("zero", 0), const("one", 1), const("axis1", [1]), const("cols", [range(4)])]
    if legacy:
        nodes += [
            helper.make_node("Mul", ["b1", "four"], ["start"], name="start"),
            helper.make_node("Add", ["start", "cols"], ["flat_index"], name="flat_index"),
            helper.make_node("Flatten", ["m"], ["m_rows"], name="rows", axis=2),
            helper.make_node("Gather", ["m_rows", "flat_index"], ["g"], name="read", axis=0),
            helper.make_node("Reshape", ["g", "minus1"], ["g_flat"], name="merge"),
            helper.make_node("Shape", ["x"], ["x_shape"], name="x_shape"),
            helper.make_node("Reshape", ["g_flat", "x_shape"], ["read_m"], name="unmerge"),
        ]
        inits += [const("four", [4]), const("minus1", [-1])]
    else:
        nodes += [
            helper.make_node("Expand", ["b1", "shape"], ["bb"], name="rows_b"),
            helper.make_node("Expand", ["cols", "shape"], ["jj"], name="cols_j"),
            helper.make_node("Unsqueeze", ["bb", "last"], ["bb1"], name="bb1"),
            helper.make_node("Unsqueeze", ["jj", "last"], ["jj1"], name="jj1"),
            helper.make_node("Concat", ["bb1", "jj1"], ["index"], name="index", axis=-1),
            helper.make_node("GatherND", ["m", "index"], ["read_m"], name="read"),
        ]
        inits += [const("last", [-1])]
    nodes.append(helper.make_node("Add", ["x", "read_m"], ["y"], name="sum"))
    graph = helper.make_graph(
        nodes,
        "indexing",
        [helper.make_tensor_value_info(n, TensorProto.FLOAT, ["n", 4]) for n in ("x", "m")],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["n", 4])],
        initializer=inits,
    )
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])


@pytest.mark.parametrize("legacy", [False, True], ids=["GatherND", "Gather-flattened"])
def test_masks_read_at_the_sample_index(legacy: bool) -> None:
    proto = _indexing_graph(legacy)
    x, m = np.random.default_rng(3).normal(size=(2, 5, 4)).astype(np.float32)
    expected = ort.InferenceSession(proto.SerializeToString()).run(None, {"x": x, "m": m})[0]
    model = from_onnx(proto)
    np.testing.assert_allclose(model.predict(np.hstack([x, m])), expected, rtol=1e-6)
    np.testing.assert_allclose(expected, x + m)


def test_an_open_sequence_length_is_taken_from_input_shape() -> None:
    table = np.random.default_rng(4).normal(size=(10, 4)).astype(np.float32)
    graph = helper.make_graph(
        [
            helper.make_node("Gather", ["table", "ids"], ["emb"], name="words"),
            helper.make_node("ReduceMean", ["emb"], ["y"], name="mean", axes=[1], keepdims=0),
        ],
        "bag",
        [helper.make_tensor_value_info("ids", TensorProto.INT64, ["n", "T"])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["n", 4])],
        initializer=[numpy_helper.from_array(table, "table")],
    )
    proto = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    with pytest.raises(ValueError, match=r"'ids'.*fixed sample shape"):
        from_onnx(proto)
    with pytest.raises(ValueError, match=r"input_shape: \(5, 2\) does not fit the input 'ids'"):
        from_onnx(proto, input_shape=(5, 2))
    model = from_onnx(proto, input_shape={"ids": (5,)})
    ids = np.random.default_rng(5).integers(0, 10, size=(3, 5))
    assert model.layer_names[1] == "words"
    np.testing.assert_allclose(model.predict(ids.astype(np.float32)), table[ids].mean(1), rtol=1e-6)


def test_layer_integrated_gradients_on_bert_equal_captum(bert_onnx: Any, bert: Any) -> None:
    """LayerIntegratedGradients at the word-embedding Gather of the export equals Captum's on
    the torch model's ``bert.embeddings.word_embeddings`` (same steps and method)."""
    pytest.importorskip("captum.attr")
    import glassbox as gb

    model = from_onnx(str(bert_onnx))
    embeddings = [layer.name for layer in model.spec.layers if layer.kind == "embedding"]
    assert len(embeddings) == 1  # position and token-type embeddings fold to constants
    ids, _, mask = token_batch(T, VOCAB, rows=4, seed=3)
    ours = gb.LayerIntegratedGradients(model, embeddings[0], n_steps=20)((ids, mask), target=1)
    theirs = captum_word_attributions(bert, ids, mask, target=1, n_steps=20)
    scale = np.abs(theirs).max()
    np.testing.assert_allclose(ours.values, theirs, rtol=0, atol=1e-4 * scale)
