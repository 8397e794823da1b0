"""A compression sweep: each probe at several amounts, measured against the original model."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from glassbox._validation import as_batch, check_choice
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

    ``amount`` is the fraction asked to be removed: of the weights (units for structured and
    relevance pruning) for the pruning methods, of the weight bits for "quantize" (which ran at
    ``bits``: round(32 (1 - amount)) clamped to 2..16).
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


def quantize_bits(amount: float) -> int:
    """The bit width that removes ``amount`` of float32 weight bits, within ``quantize``'s
    range: round(32 (1 - amount)) clamped to 2..16."""
    return min(max(round(FLOAT_BITS * (1 - amount)), MIN_BITS), MAX_BITS)


def sweep(
    model: object,
    X: object,
    y: object = None,
    amounts: Sequence[float] = AMOUNTS,
    methods: Sequence[str] = ("magnitude", "quantize"),
    *,
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
        relevance measured once on ``data``) and "quantize" (``quantize`` at the bit width
        that removes ``amount`` of the weight bits, round(32 (1 - amount)), clamped to 2..16:
        amounts up to 0.5 all run at 16 bits; 0.75 is 8 bits, 0.875 4 bits).
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
    >>> result = gb.compress.sweep(gb.build_network(spec), X, amounts=(0.25, 0.875))
    >>> result.to_frame()[["method", "amount", "bits", "sparsity", "agreement"]].round(3)
          method  amount  bits  sparsity  agreement
    0  magnitude   0.250    32     0.250       0.99
    1  magnitude   0.875    32     0.833       0.60
    2   quantize   0.250    16     0.000       1.00
    3   quantize   0.875     4     0.083       0.99
    """
    native = native_model(model, X)
    batch = as_batch(X, native.input_shape)
    labels = check_labels(y, batch.shape[0], native)
    if isinstance(methods, str) or not methods:
        raise ValueError(f"methods: expected a non-empty list among {METHODS}, got {methods!r}")
    methods = [check_choice(m, "methods", METHODS) for m in methods]
    if isinstance(amounts, (str, bytes)) or not isinstance(amounts, Sequence | np.ndarray):
        raise TypeError(f"amounts: expected a sequence of fractions in [0, 1), got {amounts!r}")
    amounts = [check_amount(a, "amounts") for a in amounts]
    if not amounts:
        raise ValueError("amounts: expected at least one fraction in [0, 1)")
    relevance: dict[int, np.ndarray] = {}
    hidden = hidden_affine_layers(native.spec)
    if "relevance" in methods:
        if not hidden:
            raise ValueError(
                "methods: 'relevance' prunes hidden units and the model has no hidden dense / "
                "conv2d layer; leave it out"
            )
        reference = batch if data is None else data
        relevance = unit_relevance(native, reference, hidden, None, "EpsilonPlus")
    rows: list[tuple[str, float, int]] = []
    measured: list[tuple[Fidelity, float]] = []
    for method in methods:
        for amount in amounts:
            width = quantize_bits(amount) if method == "quantize" else FLOAT_BITS
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
