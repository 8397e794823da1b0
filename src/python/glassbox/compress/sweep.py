"""A compression sweep: each probe at several amounts, measured against the original model."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from glassbox._validation import as_batch, check_choice, check_int
from glassbox.compress._model import (
    FLOAT_BITS,
    check_amount,
    hidden_affine_layers,
    model_size,
    native_model,
)
from glassbox.compress.fidelity import Fidelity, check_labels, fidelity, task_of
from glassbox.compress.prune import prune, prune_units, unit_relevance
from glassbox.compress.quantize import MAX_BITS, MIN_BITS, quantize
from glassbox.tables import KINDS, Tabular, pandas

#: The probes a sweep runs: magnitude pruning per layer (l1_unstructured), globally
#: (global_unstructured), structured (ln_structured, L1), relevance pruning, quantisation.
METHODS = ("magnitude", "global", "structured", "relevance", "quantize")
AMOUNTS = (0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9)
BITS = (8, 6, 4, 3, 2)
#: The columns of ``Sweep.to_frame()``, in order.
COLUMNS = (
    "method",
    "amount",
    "bits",
    "agreement",
    "accuracy",
    "output_mse",
    "sparsity",
    "params",
    "bytes",
)


@dataclass(frozen=True)
class Sweep(Tabular):
    """The result of :func:`sweep`: one entry per (method, amount), in the order run.

    ``amount`` is the fraction removed: of the weights (units for structured and relevance
    pruning) for the pruning methods, of the weight bits (1 - bits / 32) for "quantize".
    ``agreement``, ``accuracy`` and ``output_mse`` are those of :func:`fidelity` (accuracy
    NaN without ``y`` or for regression); ``sparsity`` is the fraction of zero affine weights;
    ``params`` / ``bytes`` the compressed model's nonzero parameters and storage. The original
    model's figures are attributes: ``baseline_accuracy``, ``baseline_params``,
    ``baseline_bytes``.
    """

    method: list[str]
    amount: np.ndarray
    bits: np.ndarray
    agreement: np.ndarray
    accuracy: np.ndarray
    output_mse: np.ndarray
    sparsity: np.ndarray
    params: np.ndarray
    bytes: np.ndarray
    baseline_accuracy: float
    baseline_params: int
    baseline_bytes: int
    task: str

    def to_frame(self, kind: str = "wide") -> Any:
        """One row per (method, amount) with the columns ``method``, ``amount``, ``bits``,
        ``agreement``, ``accuracy``, ``output_mse``, ``sparsity``, ``params``, ``bytes``."""
        check_choice(kind, "kind", KINDS)  # one row per item: both layouts are this table
        return pandas().DataFrame({column: getattr(self, column) for column in COLUMNS})


def sweep(
    model: object,
    X: object,
    y: object = None,
    amounts: Sequence[float] = AMOUNTS,
    methods: Sequence[str] = ("magnitude", "quantize"),
    *,
    bits: Sequence[int] = BITS,
    data: object = None,
) -> Sweep:
    """Run the compression probes at several amounts and measure each against ``model``.

    Parameters
    ----------
    model : NativeModel
    X : array
        The rows predictions are compared on.
    y : array, optional
        Class labels, for the accuracies.
    amounts : sequence of float
        Pruning fractions in [0, 1).
    methods : sequence of str
        Among "magnitude" (``prune``, per layer), "global" (``prune(scope="global")``),
        "structured" (``prune(structured=True)``), "relevance" (``prune(method="relevance")``,
        relevance measured once on ``data``) and "quantize" (``quantize`` at each of ``bits``).
    bits : sequence of int
        The widths "quantize" runs at (2 to 16).
    data : array, optional
        The reference rows of relevance pruning (default: ``X``).

    Returns
    -------
    Sweep

    Examples
    --------
    >>> import numpy as np, glassbox as gb
    >>> spec = gb.NetworkSpec(input_shape=(4,))
    >>> rng = np.random.default_rng(0)
    >>> _ = spec.add("dense", "fc", weight=rng.normal(size=(3, 4)), bias=None)
    >>> X = rng.normal(size=(100, 4))
    >>> result = gb.compress.sweep(gb.build_network(spec), X, amounts=(0.25, 0.5), bits=(4,))
    >>> result.to_frame()[["method", "amount", "bits", "sparsity", "agreement"]].round(3)
          method  amount  bits  sparsity  agreement
    0  magnitude   0.250    32     0.250       0.99
    1  magnitude   0.500    32     0.500       0.90
    2   quantize   0.875     4     0.083       0.99
    """
    native = native_model(model, X)
    batch = as_batch(X, native.input_shape)
    labels = check_labels(y, batch.shape[0], native)
    if isinstance(methods, str) or not methods:
        raise ValueError(f"methods: expected a non-empty list among {METHODS}, got {methods!r}")
    methods = [check_choice(m, "methods", METHODS) for m in methods]
    amounts = [check_amount(a, "amounts") for a in amounts]
    widths = [check_int(b, "bits", MIN_BITS, MAX_BITS) for b in bits]
    if not amounts and any(m != "quantize" for m in methods):
        raise ValueError("amounts: expected at least one pruning fraction")
    if not widths and "quantize" in methods:
        raise ValueError("bits: expected at least one bit width for 'quantize'")
    relevance: dict[int, np.ndarray] = {}
    hidden = hidden_affine_layers(native.spec)
    if "relevance" in methods:
        reference = batch if data is None else data
        relevance = unit_relevance(native, reference, hidden, None, "EpsilonPlus")
    rows: list[tuple[str, float, int]] = []
    measured: list[tuple[Fidelity, float]] = []
    for method in methods:
        settings = (
            [(b, 1 - b / FLOAT_BITS) for b in widths]
            if method == "quantize"
            else [(FLOAT_BITS, a) for a in amounts]
        )
        for width, amount in settings:
            if method == "quantize":
                compressed = quantize(native, width)
            elif method == "relevance":
                compressed = prune_units(native, hidden, relevance, amount, "layer")
            else:
                compressed = prune(
                    native,
                    amount,
                    structured=method == "structured",
                    scope="global" if method == "global" else "layer",
                )
            rows.append((method, amount, width))
            found = fidelity(native, compressed, batch, labels, attributions=False)
            measured.append((found, compressed.compression.total_sparsity))
    params, size = model_size(native)
    return Sweep(
        method=[r[0] for r in rows],
        amount=np.array([r[1] for r in rows], dtype=np.float64),
        bits=np.array([r[2] for r in rows], dtype=np.int64),
        agreement=np.array([f.agreement for f, _ in measured]),
        accuracy=np.array([f.accuracy_after for f, _ in measured]),
        output_mse=np.array([f.output_mse for f, _ in measured]),
        sparsity=np.array([sparsity for _, sparsity in measured]),
        params=np.array([f.params_after for f, _ in measured], dtype=np.int64),
        bytes=np.array([f.bytes_after for f, _ in measured], dtype=np.int64),
        baseline_accuracy=measured[0][0].accuracy_before,
        baseline_params=params,
        baseline_bytes=size,
        task=task_of(native),
    )
