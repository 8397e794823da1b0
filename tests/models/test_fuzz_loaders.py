"""Fuzzing the model loaders: mutated ONNX graphs fed to ``from_onnx`` and mutated pickled
``NativeModel`` states fed to ``pickle.loads`` end in a valid model (which then predicts finite
values on a small batch) or a clean ``ValueError`` / ``TypeError``; never a crash, a hang or a
huge allocation.

A mutated model may reach the native core, where a bug would be a segfault rather than an
exception, so every case runs in a worker subprocess (one per test module, restarted after a
crash): a crash, a timeout or a memory blow-up is reported as a failure together with the
mutations that caused it, and hypothesis shrinks them. The worker caps its address space so
that a runaway allocation fails fast (as a MemoryError, which counts as a failure) instead of
swapping, and reports its peak RSS so that large-but-successful allocations fail too.
"""

from __future__ import annotations

import contextlib
import copy
import os
import pickle
import select
import struct
import subprocess
import sys
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_loader_errors import pickled

import glassbox
from glassbox.models.layers import LAYERS
from glassbox.models.native import NativeModel, build_network
from glassbox.models.spec import NetworkSpec

BIG = 3689348814741910325  # x 5 overflows int64
#: Integers that break naive geometry: zero, negatives, huge, int32 / int64 edges.
NASTY_INTS = (-(2**63), -(2**31), -2, -1, 0, 1, 2, 3, 5, 2**20, 2**31, 2**40, BIG, 2**63 - 1)
CASE_TIMEOUT = 120.0  # seconds per case (the machine may be busy); a hang fails the test
RSS_GROWTH = 768 << 20  # bytes the worker's peak RSS may grow by over all cases

WORKER = r"""
import os, pickle, resource, struct, sys, traceback
import numpy as np
os.environ.setdefault("GLASSBOX_NUM_THREADS", "2")
import glassbox
from glassbox.models.native import NativeModel
import onnx  # noqa: F401  (imported before the address-space cap)
from glassbox.models.onnx_adapter import from_onnx

def rss():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024

def vm():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")

# a runaway allocation fails fast instead of swapping (reported as a failure); not under
# AddressSanitizer (.ci/sanitize), which reserves terabytes of address space for its shadow
SANITIZED = "libasan" in os.environ.get("LD_PRELOAD", "")
if not SANITIZED:
    limit = vm() + (3 << 30)
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))

def largest_weight(model):
    arrays = [w for layer in model.spec.layers for w in layer.weights.values() if w is not None]
    return max((float(np.abs(w).max()) for w in arrays if np.size(w)), default=0.0)

def run(kind, payload):
    model = from_onnx(payload) if kind == "onnx" else pickle.loads(payload)
    if not isinstance(model, NativeModel):
        return ("error", f"TypeError: loaded a {type(model).__name__}")
    if not model.built:
        return ("valid", "lazy model")
    network = model.network
    if network.bytes_per_point > (64 << 20) or network.macs_per_sample > 5e8:
        return ("valid", "large model: not run")  # valid; running it is not the loader's job
    X = np.random.default_rng(0).uniform(-1, 1, (2, *model.input_shape)).astype(np.float32)
    Y = model.predict(X)
    if Y.shape != (2, model.n_outputs):
        return ("bad", f"predict gave shape {Y.shape}")
    if not np.isfinite(Y).all() and largest_weight(model) < 1e30:
        # weights near float32's limit may overflow honestly; other non-finite outputs are bugs
        return ("bad", f"predict gave non-finite values; largest weight {largest_weight(model)}")
    return ("valid", f"{model.n_outputs} outputs")

read, write = sys.stdin.buffer, sys.stdout.buffer
write.write(struct.pack("<Q", 0 if SANITIZED else rss())); write.flush()
while True:
    head = read.read(8)
    if len(head) < 8:
        break
    kind, payload = pickle.loads(read.read(struct.unpack("<Q", head)[0]))
    try:
        outcome = run(kind, payload)
    except (ValueError, TypeError) as error:  # glassbox's own errors are ValueErrors
        base = "ValueError" if isinstance(error, ValueError) else "TypeError"
        outcome = ("error", f"{base} ({type(error).__name__}): {error}")
    except BaseException as error:
        outcome = ("bad", "".join(traceback.format_exception(error))[-2000:])
    # ASan's quarantine and shadow make RSS meaningless there: report no growth
    reply = pickle.dumps((*outcome, 0 if SANITIZED else rss()))
    write.write(struct.pack("<Q", len(reply)) + reply); write.flush()
"""


class Worker:
    """The subprocess that runs the cases; restarted after a crash or a hang."""

    def __init__(self) -> None:
        self.proc: subprocess.Popen[bytes] | None = None
        self.baseline = 0

    def _start(self) -> None:
        env = dict(os.environ, PYTHONPATH=str(Path(glassbox.__file__).parents[1]))
        self.proc = subprocess.Popen(
            [sys.executable, "-c", WORKER],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=env,
        )
        self.baseline = struct.unpack("<Q", self._read(8, 300.0))[0]

    def _read(self, n: int, timeout: float) -> bytes:
        assert self.proc is not None and self.proc.stdout is not None
        data = b""
        fd = self.proc.stdout.fileno()
        while len(data) < n:
            ready, _, _ = select.select([fd], [], [], timeout)
            if not ready:
                raise TimeoutError
            chunk = os.read(fd, n - len(data))
            if not chunk:
                raise EOFError
            data += chunk
        return data

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.kill()
            self.proc.wait()
            for stream in (self.proc.stdin, self.proc.stdout, self.proc.stderr):
                if stream is not None:
                    stream.close()
            self.proc = None

    def run(self, kind: str, payload: bytes) -> tuple[str, str]:
        """("valid" | "error", detail), or ("crash" | "hang" | "bad", detail)."""
        if self.proc is None:
            self._start()
        assert self.proc is not None and self.proc.stdin is not None
        request = pickle.dumps((kind, payload))
        try:
            self.proc.stdin.write(struct.pack("<Q", len(request)) + request)
            self.proc.stdin.flush()
            size = struct.unpack("<Q", self._read(8, CASE_TIMEOUT))[0]
            status, detail, rss = pickle.loads(self._read(size, CASE_TIMEOUT))
        except TimeoutError:
            self.stop()
            return "hang", f"no answer within {CASE_TIMEOUT} s"
        except (EOFError, BrokenPipeError):
            assert self.proc is not None and self.proc.stderr is not None
            code = self.proc.wait()
            stderr = self.proc.stderr.read().decode(errors="replace")[-2000:]
            self.stop()
            return "crash", f"the worker died (exit code {code}): {stderr}"
        if rss - self.baseline > RSS_GROWTH:
            grown = (rss - self.baseline) >> 20
            self.stop()  # a fresh baseline for the next case
            return "bad", f"peak RSS grew by {grown} MiB ({detail})"
        return status, detail


@pytest.fixture(scope="module")
def worker() -> Any:
    w = Worker()
    yield w
    w.stop()


def check(worker: Worker, kind: str, payload: bytes, mutations: object) -> None:
    status, detail = worker.run(kind, payload)
    assert status in ("valid", "error"), f"{status} for mutations {mutations!r}: {detail}"
    if status == "error":
        assert detail.startswith(("ValueError", "TypeError")), detail


FUZZ = settings(
    max_examples=200,
    derandomize=True,  # the same examples every run (CI): a failure reproduces
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)


# --------------------------------------------------------------------------------------------
# ONNX graphs
# --------------------------------------------------------------------------------------------

onnx = pytest.importorskip("onnx")
from onnx import TensorProto, helper, numpy_helper  # noqa: E402


def _init(name: str, array: np.ndarray) -> Any:
    return numpy_helper.from_array(np.asarray(array), name)


def _onnx_cnn() -> Any:
    rng = np.random.default_rng(0)
    n = helper.make_node
    nodes = [
        n("Conv", ["x", "W", "B"], ["c"], name="conv", pads=[1, 1, 1, 1], strides=[1, 1]),
        n("Relu", ["c"], ["r"], name="relu"),
        n("MaxPool", ["r"], ["p"], name="maxpool", kernel_shape=[2, 2], strides=[2, 2]),
        n(
            "AveragePool",
            ["p"],
            ["a"],
            name="avgpool",
            kernel_shape=[3, 3],
            pads=[1, 1, 1, 1],
            count_include_pad=0,
        ),
        n("BatchNormalization", ["a", "g", "b", "m", "v"], ["bn"], name="bn"),
        n("Conv", ["bn", "W2"], ["c2"], name="conv2", group=2, dilations=[2, 2], pads=[2] * 4),
        n("Add", ["bn", "c2"], ["s"], name="add"),
        n("Flatten", ["s"], ["f"], name="flatten"),
        n("Gemm", ["f", "Wg", "Bg"], ["y"], name="fc", transB=1),
    ]
    inits = [
        _init("W", rng.normal(0, 0.3, (4, 2, 3, 3)).astype(np.float32)),
        _init("B", rng.normal(0, 0.1, 4).astype(np.float32)),
        _init("g", rng.uniform(0.5, 1.5, 4).astype(np.float32)),
        _init("b", rng.normal(0, 0.1, 4).astype(np.float32)),
        _init("m", rng.normal(0, 0.1, 4).astype(np.float32)),
        _init("v", rng.uniform(0.5, 1.5, 4).astype(np.float32)),
        _init("W2", rng.normal(0, 0.3, (4, 2, 3, 3)).astype(np.float32)),
        _init("Wg", rng.normal(0, 0.2, (3, 64)).astype(np.float32)),
        _init("Bg", np.zeros(3, np.float32)),
    ]
    graph = helper.make_graph(
        nodes,
        "cnn",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["n", 2, 8, 8])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["n", 3])],
        initializer=inits,
    )
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])


def _onnx_mlp() -> Any:
    rng = np.random.default_rng(1)
    n = helper.make_node
    nodes = [
        n("MatMul", ["x", "W"], ["mm"], name="matmul"),
        n("Add", ["mm", "bias"], ["h"], name="bias_add"),
        n("Sigmoid", ["h"], ["sg"], name="sigmoid"),
        n("Mul", ["h", "sg"], ["silu"], name="silu"),
        n("Shape", ["x"], ["shape"], name="shape"),
        n("Gather", ["shape", "zero"], ["batch"], name="gather", axis=0),
        n("Unsqueeze", ["batch", "axes"], ["batch1"], name="unsqueeze"),
        n("Concat", ["batch1", "rest"], ["target"], name="target", axis=0),
        n("Reshape", ["silu", "target"], ["r"], name="reshape"),
        n("Flatten", ["r"], ["fl"], name="flatten"),
        n("Concat", ["fl", "h"], ["cat"], name="concat", axis=1),
        n("Gemm", ["cat", "W2"], ["z"], name="fc", alpha=0.5),
        n("Softmax", ["z"], ["y"], name="softmax", axis=-1),
    ]
    inits = [
        _init("W", rng.normal(0, 0.4, (6, 8)).astype(np.float32)),
        _init("bias", rng.normal(0, 0.1, 8).astype(np.float32)),
        _init("zero", np.array(0, np.int64)),
        _init("axes", np.array([0], np.int64)),
        _init("rest", np.array([2, 4], np.int64)),
        _init("W2", rng.normal(0, 0.3, (16, 3)).astype(np.float32)),
    ]
    graph = helper.make_graph(
        nodes,
        "mlp",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["n", 6])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["n", 3])],
        initializer=inits,
    )
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])


ONNX_BASES = {"cnn": _onnx_cnn, "mlp": _onnx_mlp}
ATTRIBUTES = (
    "pads", "strides", "kernel_shape", "dilations", "group", "axis", "auto_pad", "ceil_mode",
    "count_include_pad", "transB", "alpha", "epsilon",
)  # fmt: skip
OPS = ("Conv", "MaxPool", "AveragePool", "Gemm", "MatMul", "Relu", "Flatten", "Reshape",
       "Concat", "Add", "Mul", "GlobalAveragePool", "BatchNormalization", "Softmax", "Pad",
       "Identity", "LSTM")  # fmt: skip

ints = st.sampled_from(NASTY_INTS)
attribute_values = st.one_of(
    ints,
    st.lists(ints, max_size=5),
    st.lists(st.integers(0, 4), min_size=1, max_size=5),
    st.sampled_from([0.5, float("nan"), float("inf"), "SAME_UPPER", "VALID", "junk", b"x"]),
    st.lists(st.sampled_from([1.5, float("nan")]), min_size=1, max_size=4),
)
onnx_mutation = st.one_of(
    st.tuples(st.just("dim"), st.integers(0, 3), st.sampled_from((*NASTY_INTS, None))),
    st.tuples(st.just("attr"), st.integers(0, 20), st.sampled_from(ATTRIBUTES), attribute_values),
    st.tuples(
        st.just("init"),
        st.integers(0, 20),
        st.sampled_from(
            ["dims", "dtype", "raw_short", "raw_long", "nan", "inf", "string", "int8", "huge"]
        ),
        st.integers(0, 7),
    ),
    st.tuples(
        st.just("input"),
        st.integers(0, 20),
        st.integers(0, 4),
        st.sampled_from(["unknown", "self", "later", "graph_input", "drop", "empty"]),
    ),
    st.tuples(st.just("op"), st.integers(0, 20), st.sampled_from(OPS)),
    st.tuples(st.just("remove"), st.integers(0, 20)),
)


def _mutate_initializer(tensor: Any, how: str, k: int) -> None:
    try:
        array = numpy_helper.to_array(tensor)
    except Exception:  # corrupt already (an earlier mutation)
        array = np.ones(3, np.float32)
    if how == "dims":
        dims = list(tensor.dims) or [1]
        dims[k % len(dims)] = NASTY_INTS[k % len(NASTY_INTS)] if k % 2 else dims[k % len(dims)] + 1
        del tensor.dims[:]
        tensor.dims.extend(int(np.clip(d, -(2**63), 2**63 - 1)) for d in dims)
    elif how == "dtype":
        tensor.data_type = (TensorProto.INT8, TensorProto.DOUBLE, TensorProto.FLOAT16,
                            TensorProto.UINT8, TensorProto.BOOL, TensorProto.INT64,
                            TensorProto.STRING, 0)[k]  # fmt: skip
    elif how in ("raw_short", "raw_long"):
        raw = numpy_helper.from_array(array).raw_data
        tensor.raw_data = (
            raw[: len(raw) // (k + 2)] if how == "raw_short" else raw + b"\0" * (k + 1)
        )
    elif how in ("nan", "inf") and array.dtype.kind == "f":
        bad = array.astype(array.dtype, copy=True)
        bad.flat[k % max(bad.size, 1)] = np.nan if how == "nan" else -np.inf
        tensor.CopyFrom(numpy_helper.from_array(bad, tensor.name))
    elif how == "string":
        tensor.CopyFrom(helper.make_tensor(tensor.name, TensorProto.STRING, array.shape,
                                           [b"w"] * array.size))  # fmt: skip
    elif how == "int8":
        tensor.CopyFrom(numpy_helper.from_array(array.astype(np.int8), tensor.name))
    elif how == "huge":
        tensor.CopyFrom(numpy_helper.from_array((array * 1e38 * (k + 1)).astype(np.float32),
                                                tensor.name))  # fmt: skip


@contextlib.contextmanager
def _quiet() -> Iterator[None]:
    """A mutation that does not apply to a tensor (strings to int8) leaves it as it is; casts
    that overflow or drop imaginary parts are meant."""
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        try:
            yield
        except (ValueError, TypeError, OverflowError):
            pass


def mutate_onnx(model: Any, mutations: list[tuple[Any, ...]]) -> bytes:
    graph = model.graph
    for mutation in mutations:
        what, nodes = mutation[0], graph.node
        node = nodes[mutation[1] % len(nodes)] if what not in ("dim",) and len(nodes) else None
        if what == "dim":
            dims = graph.input[0].type.tensor_type.shape.dim
            dim = dims[mutation[1] % len(dims)]
            if mutation[2] is None:
                dim.dim_param = "unknown"
            else:
                dim.dim_value = mutation[2]
        elif what == "attr":
            value, name = mutation[3], mutation[2]
            kept = [a for a in node.attribute if a.name != name]
            del node.attribute[:]
            attribute = (
                helper.make_attribute(name, [], attr_type=onnx.AttributeProto.INTS)
                if value == []
                else helper.make_attribute(name, value)
            )
            node.attribute.extend([*kept, attribute])
        elif what == "init":
            inits = graph.initializer
            with _quiet():
                _mutate_initializer(inits[mutation[1] % len(inits)], *mutation[2:])
        elif what == "input":
            slot, how = mutation[2], mutation[3]
            index = list(nodes).index(node)
            later = [o for n in list(nodes)[index:] for o in n.output]
            replacement = {
                "unknown": "nowhere",
                "self": node.output[0],
                "later": later[-1],
                "graph_input": graph.input[0].name,
                "empty": "",
            }.get(how)
            if how == "drop":
                if node.input:
                    del node.input[-1]
            elif node.input:
                node.input[slot % len(node.input)] = replacement
            else:
                node.input.append(replacement)
        elif what == "op":
            node.op_type = mutation[2]
        elif what == "remove" and len(nodes) > 1:
            graph.node.remove(node)
    return model.SerializeToString()


@pytest.mark.parametrize("base", sorted(ONNX_BASES))
def test_the_onnx_bases_load(worker: Worker, base: str) -> None:
    status, detail = worker.run("onnx", ONNX_BASES[base]().SerializeToString())
    assert status == "valid", detail


@FUZZ
@given(base=st.sampled_from(sorted(ONNX_BASES)), mutations=st.lists(onnx_mutation, max_size=3))
def test_mutated_onnx_graphs_load_cleanly(worker: Worker, base: str, mutations: list) -> None:
    payload = mutate_onnx(ONNX_BASES[base](), mutations)
    check(worker, "onnx", payload, (base, mutations))


# --------------------------------------------------------------------------------------------
# Pickled NativeModels (a pickle holds the model's NetworkSpec)
# --------------------------------------------------------------------------------------------


def _spec_cnn() -> NetworkSpec:
    rng = np.random.default_rng(2)
    spec = NetworkSpec(input_shape=(2, 8, 8))
    conv = spec.add(
        "conv2d",
        "conv",
        params={"padding": (1, 1, 1, 1)},
        weight=rng.normal(0, 0.3, (4, 2, 3, 3)),
        bias=rng.normal(0, 0.1, 4),
    )
    spec.add("relu", "relu")
    spec.add("max_pool2d", "maxpool", params={"kernel": (2, 2), "ceil_mode": True})
    pool = spec.add("avg_pool2d", "avgpool", params={"kernel": (3, 3), "stride": 1, "padding": 1})
    spec.add("batch_norm", "bn", scale=rng.uniform(0.5, 1.5, 4), shift=rng.normal(0, 0.1, 4))
    spec.add(
        "conv2d",
        "conv2",
        params={"groups": 2, "dilation": (2, 2), "padding": 2},
        weight=rng.normal(0, 0.3, (4, 2, 3, 3)),
        bias=None,
    )
    spec.add("add", "add", inputs=[pool, len(spec.layers) - 1])
    spec.add("adaptive_avg_pool2d", "gap", params={"output_size": (2, 2)})
    spec.add("flatten", "flatten")
    spec.add("dense", "fc", weight=rng.normal(0, 0.3, (3, 16)), bias=np.zeros(3))
    spec.add("softmax", "softmax")
    assert conv == 0
    return spec


def _spec_mlp() -> NetworkSpec:
    rng = np.random.default_rng(3)
    spec = NetworkSpec(input_shape=(6,))
    h = spec.add("dense", "fc0", weight=rng.normal(0, 0.4, (8, 6)), bias=rng.normal(0, 0.1, 8))
    spec.add("leaky_relu", "act", params={"negative_slope": 0.1})
    r = spec.add("reshape", "reshape", params={"shape": (2, 4)})
    spec.add("reduce_mean", "mean", params={"axes": (1,), "keepdims": True})
    spec.add("flatten", "flat")
    spec.add("concat", "concat", inputs=[h, len(spec.layers) - 1], params={"axis": 0})
    spec.add("scale_shift", "affine", scale=rng.uniform(0.5, 1.5, 10), shift=np.ones(1))
    spec.add("clamp", "clip", params={"min": -2.0, "max": 2.0})
    spec.add("dense", "fc1", weight=rng.normal(0, 0.3, (3, 10)), bias=None)
    assert r == 2
    return spec


SPEC_BASES = {"cnn": _spec_cnn, "mlp": _spec_mlp}
PARAMS = ("stride", "padding", "kernel", "dilation", "groups", "axis", "shape", "output_size",
          "axes", "negative_slope", "min", "max", "ceil_mode", "count_include_pad", "keepdims",
          "approximate")  # fmt: skip
param_values = st.one_of(
    ints,
    st.sampled_from(
        [float("nan"), float("inf"), -float("inf"), 1e300, 2.5, -3.0, "x", None, True, 10**400]
    ),
    st.lists(ints, max_size=5).map(tuple),
    st.lists(st.integers(-2, 4), min_size=1, max_size=5).map(tuple),
    st.just([[1, 2], [3]]),
    st.just(["a", "b"]),
)
WEIGHT_CHANGES = ("transpose", "ravel", "extra_dim", "truncate", "int8", "float64", "complex",
                  "strings", "object", "bool", "nan", "inf", "none", "empty", "scalar", "list",
                  "huge")  # fmt: skip
INPUT_SHAPES = ((0, 8, 8), (-1,), (1, BIG, 5), (2**40,), (2.5,), ("a",), (), None, (2, 8, 8),
                (6,), (2, 2**15, 2**14), (1, 1, 1), 7, (2**63, 1))  # fmt: skip
INPUTS = ([], [-2], "self", "next", [10**6], [2**40], [0.5], ["a"], [-1, -1], None, (0,), [True])
pickle_mutation = st.one_of(
    st.tuples(st.just("kind"), st.integers(0, 20), st.sampled_from([*LAYERS, "bogus", 3, None])),
    st.tuples(st.just("param"), st.integers(0, 20), st.sampled_from(PARAMS), param_values),
    st.tuples(
        st.just("weight"),
        st.integers(0, 20),
        st.sampled_from(["weight", "bias", "scale", "shift"]),
        st.sampled_from(WEIGHT_CHANGES),
    ),
    st.tuples(st.just("inputs"), st.integers(0, 20), st.sampled_from(INPUTS)),
    st.tuples(st.just("input_shape"), st.sampled_from(INPUT_SHAPES)),
    st.tuples(st.just("drop_layer"), st.integers(0, 20)),
    st.tuples(st.just("swap_layers"), st.integers(0, 20), st.integers(0, 20)),
    st.tuples(
        st.just("state"),
        st.sampled_from(["no_spec", "spec_junk", "factory_junk", "names", "layers_junk", "what"]),
    ),
)


def _changed_weight(value: Any, how: str) -> Any:
    array = np.zeros((2, 3), np.float32) if value is None else np.asarray(value)
    return {
        "transpose": lambda: np.ascontiguousarray(array.T),
        "ravel": lambda: array.ravel(),
        "extra_dim": lambda: array[None],
        "truncate": lambda: array.ravel()[:-1],
        "int8": lambda: array.astype(np.int8),
        "float64": lambda: array.astype(np.float64) * 1e300,
        "complex": lambda: array.astype(np.complex64),
        "strings": lambda: array.astype(str),
        "object": lambda: np.array([object()] * 3, dtype=object),
        "bool": lambda: array > 0,
        "nan": lambda: np.full_like(array, np.nan),
        "inf": lambda: np.full_like(array, np.inf),
        "none": lambda: None,
        "empty": lambda: array[:0],
        "scalar": lambda: np.float32(1.0),
        "list": lambda: array.tolist(),
        "huge": lambda: np.zeros((2**40, 0), np.float32),
    }[how]()


def _mutate_layer(layers: list[Any], index: int, what: str, args: list[Any]) -> None:
    layer = layers[index]
    if what == "kind":
        layer.kind = args[0]
    elif what == "param":
        layer.params[args[0]] = args[1]
    elif what == "weight":
        with _quiet():
            layer.weights[args[0]] = _changed_weight(layer.weights.get(args[0]), args[1])
    elif what == "inputs":
        named = {"self": [index], "next": [index + 1]}
        layer.inputs = named[args[0]] if isinstance(args[0], str) else args[0]
    elif what == "drop_layer":
        del layers[index]
    elif what == "swap_layers":
        other = args[0] % len(layers)
        layers[index], layers[other] = layers[other], layers[index]


def _mutate_whole_state(state: dict[str, Any], spec: NetworkSpec, change: str) -> None:
    if change == "no_spec":
        state.pop("spec", None)
    elif change == "spec_junk":
        state["spec"] = {"input_shape": (6,)}
    elif change == "factory_junk":
        state["factory"] = 42
    elif change == "names":
        state["feature_names"] = 17
    elif change == "layers_junk":
        spec.layers = "dense"  # type: ignore[assignment]
    else:
        state["what"] = None


def mutate_state(model: NativeModel, mutations: list[tuple[Any, ...]]) -> bytes:
    state = copy.deepcopy(model.__getstate__())
    spec: NetworkSpec = state["spec"]
    layers = spec.layers
    for what, *args in mutations:
        if what == "input_shape":
            spec.input_shape = args[0]
        elif what == "state":
            _mutate_whole_state(state, spec, args[0])
        elif layers:  # the other mutations change one layer (or two)
            index = args[0] % len(layers)
            _mutate_layer(layers, index, what, args[1:])
    return pickled(state)


def test_the_pickle_bases_load(worker: Worker) -> None:
    for base in SPEC_BASES.values():
        model = build_network(base())
        assert pickle.loads(pickle.dumps(model)).predict(np.zeros((1, *model.input_shape))).size
        status, detail = worker.run("pickle", mutate_state(model, []))
        assert status == "valid", detail


@FUZZ
@given(base=st.sampled_from(sorted(SPEC_BASES)), mutations=st.lists(pickle_mutation, max_size=3))
def test_mutated_pickles_load_cleanly(worker: Worker, base: str, mutations: list) -> None:
    payload = mutate_state(build_network(SPEC_BASES[base]()), mutations)
    check(worker, "pickle", payload, (base, mutations))


def test_the_worker_reports_a_crash_with_its_input(worker: Worker) -> None:
    """The harness itself: a case that kills the worker is a failure naming the input."""

    class Crash:
        def __reduce__(self) -> tuple[Any, ...]:
            return (os._exit, (3,))

    status, detail = worker.run("pickle", pickle.dumps(Crash()))
    assert status == "crash" and "exit code 3" in detail
    status, _ = worker.run("pickle", mutate_state(build_network(_spec_mlp()), []))
    assert status == "valid"  # restarted
