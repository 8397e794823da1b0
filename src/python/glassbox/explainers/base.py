"""The one base of every explainer: run options, the model check, ``options`` from the
constructor's signature, models built on first use, the Explanation and the repr.

Writing an explainer (one class per method):

1. Derive from ``Explainer`` (gradient family: needs a native network) or ``AgnosticExplainer``
   (anything ``glassbox.as_model`` accepts); set ``method_name`` (``Explanation.method``).
2. In ``__init__``, store every constructor argument on ``self`` under its own name (validated;
   scikit-learn's ``get_params`` convention), then call
   ``super().__init__(
            model, n_threads=n_threads, memory_budget=memory_budget, progress=progress
        )`` last: it checks
   the model, the run options and ``self.seed`` (when the constructor takes a ``seed``), and runs
   ``_setup()`` when the model is built.
3. Put whatever needs the model's network or shapes in ``_setup()``; it runs once, in the
   constructor for a built model or at the first call for a model built lazily from its data.
4. ``__call__`` starts with ``self._inputs(X, target)`` (or ``self._ready(X)``), calls one core
   function (``self._call_core(_core.f, X, ...)`` passes the model and the run options) and
   returns ``self._explanation(...)`` (``self._from_result(...)`` for a core result object).
"""

from __future__ import annotations

import functools
import inspect
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from glassbox import _core
from glassbox._validation import (
    as_baselines,
    as_batch,
    as_distribution,
    as_targets,
    check_model_outputs,
    check_seed,
    core_job,
    layout_hint,
    nonfinite_rows,
    run_options,
    warn_nonfinite,
)
from glassbox.data import (
    Schema,
    check_finite_rows,
    check_numeric,
    frame_kind,
    read_array,
    read_table,
)
from glassbox.errors import UnsupportedLayerError
from glassbox.explanation import Explanation, stitch_rows
from glassbox.models.agnostic import AgnosticModel, accepts_missing, core_model, evaluate
from glassbox.models.callable import CallableModel
from glassbox.models.convert import Pending, convert, native_trees
from glassbox.models.inputs import (
    baseline_rows,
    bind_inputs,
    check_embedding_ids,
    feature_labels,
    input_columns,
    pack,
    passed_through,
    row_patterns,
    sample_values,
)
from glassbox.models.native import NativeModel
from glassbox.models.trees.model import TreeModel
from glassbox.progress import ProgressArg, check_progress
from glassbox.rows import first_row, row_offset


@dataclass(frozen=True)
class ArraySummary:
    """How ``options`` and ``repr`` show an array argument: its shape and dtype, not its values.

    Examples
    --------
    >>> ArraySummary.of(np.zeros((100, 5), np.float32))
    <array shape=(100, 5) dtype=float32>
    """

    shape: tuple[int, ...]
    dtype: str

    @classmethod
    def of(cls, array: Any) -> ArraySummary:
        """The summary of anything with ``shape`` and ``dtype`` (NumPy, torch, ...)."""
        return cls(tuple(int(s) for s in array.shape), str(array.dtype).removeprefix("torch."))

    def __repr__(self) -> str:
        return f"<array shape={self.shape} dtype={self.dtype}>"


def summarize(value: Any) -> Any:
    """``value`` as ``options`` records it: arrays as an ``ArraySummary``, containers item by
    item, everything else as it is.

    Examples
    --------
    >>> summarize({"low": np.zeros(3), "gamma": 0.25})
    {'low': <array shape=(3,) dtype=float64>, 'gamma': 0.25}
    """
    if hasattr(value, "shape") and hasattr(value, "dtype") and len(value.shape) > 0:
        return ArraySummary.of(value)
    if isinstance(value, dict):
        return {key: summarize(item) for key, item in value.items()}
    if type(value) in (list, tuple):
        return type(value)(summarize(item) for item in value)
    return value


def as_array(data: object) -> object:
    """Data given to a constructor (a background, training data) as a NumPy array when it reads
    as one (no copy of an array), else as it is, for the checks of ``_setup`` to name.

    Examples
    --------
    >>> as_array([[1, 2], [3, 4]]).shape, as_array([[1], [2, 3]])
    ((2, 2), [[1], [2, 3]])
    """
    if isinstance(data, np.ndarray) or data is None or isinstance(data, (str, bytes)):
        return data
    try:
        return np.asarray(data)
    except (TypeError, ValueError):  # ragged or not numeric: as_batch says why
        return data


def is_python_model(model: object) -> bool:
    """A model glassbox always calls in Python: a function, an estimator, a ``wrap`` model; not
    a native network or tree model, nor a model that may be converted to one."""
    if isinstance(model, (NativeModel, TreeModel, str, bytes)) or hasattr(model, "__fspath__"):
        return False
    if native_trees(model) is not None:  # a scikit-learn tree model: evaluated natively
        return False
    for framework, base in (("torch", "nn.Module"), ("keras", "Model"), ("onnx", "ModelProto")):
        module = sys.modules.get(framework)
        cls = module
        for part in base.split("."):
            cls = getattr(cls, part, None)
        if isinstance(cls, type) and isinstance(model, cls):
            return False
    return True


#: Explanation field -> attribute of the core's ``Attribution`` (the gradient family's result).
ATTRIBUTION_FIELDS = {"base_values": "base_values", "delta": "delta", "stderr": "std_error"}


@functools.cache
def _parameters(cls: type) -> tuple[inspect.Parameter, ...]:
    """The constructor's parameters after ``self`` and ``model``, in order."""
    signature = inspect.signature(cls.__init__)
    return tuple(p for p in signature.parameters.values() if p.name not in ("self", "model"))


class Explainer:
    """Base of every explainer (as Captum's ``Attribution``): holds the model and the
    configuration, validated once; ``__call__(X, ...)`` explains a batch.

    Parameters
    ----------
    model : NativeModel, a raw torch / Keras / scikit-learn model, or for ``AgnosticExplainer``
        anything ``glassbox.as_model`` accepts (a plain function too)
        Raw models are converted once (``models/convert.py``): native where possible, else, for
        the model-agnostic methods, called in batches at inference. A model whose input shape
        is not known yet (a ``NativeModel`` with ``built`` False, a plain function without data)
        is built from the first batch the explainer is called with.
    n_threads : int, optional
        Threads of the core call; default ``GLASSBOX_NUM_THREADS``, else every core.
    memory_budget : int, optional
        Bytes one worker's chunk may use; bounds peak memory whatever the size of the job.
    progress : bool, callable or None, default None
        A bar on stderr while the job runs (True), nothing (False), ``callable(done, total)``
        with the rows done, or None: a bar only for long jobs in a terminal (see
        ``glassbox.progress``).

    Attributes
    ----------
    method_name : str
        The method's identifier, recorded as ``Explanation.method``.
    needs_network : bool
        True: the method needs gradients, so a native network (``NativeModel``); False: any model.
    options : dict
        The configuration: every constructor argument but ``model``, by name (arrays summarised
        by shape and dtype). ``options[name] == getattr(self, name)`` otherwise.

    Examples
    --------
    >>> import numpy as np, glassbox as gb
    >>> spec = gb.NetworkSpec(input_shape=(2,))
    >>> _ = spec.add("dense", "fc", weight=np.array([[1.0, -1.0]]), bias=np.array([0.5]))
    >>> saliency = gb.Saliency(gb.build_network(spec), abs=False)
    >>> saliency
    Saliency(abs=False, n_threads=None, memory_budget=None, progress=None)
    >>> saliency(np.array([[2.0, 1.0]])).values
    array([[ 1., -1.]], dtype=float32)
    """

    method_name: ClassVar[str] = "explainer"
    needs_network: ClassVar[bool] = True
    #: Values are per input feature (not per element of a layer).
    attributes_inputs: ClassVar[bool] = True
    #: Which integer inputs get values (``models.inputs.ATTRIBUTION_KINDS``); None: "gradient"
    #: for gradient methods, "tokens" for model-agnostic ones.
    integer_inputs: ClassVar[str | None] = None
    data_name: ClassVar[str] = "X"  # the constructor's data ``_data_shape`` reads, for messages
    #: Why the method needs numeric features (it does arithmetic on them), or None: it only
    #: moves values between rows, so coded (non-numeric) DataFrame columns pass through.
    needs_numbers: ClassVar[str | None] = "it computes on the values of the features"
    #: Missing values (NaN) in a DataFrame pass to a Python model (which may impute them).
    missing_ok: ClassVar[bool] = False
    #: The schema of the first DataFrame the explainer read (its data or X), or None.
    _schema: Schema | None = None
    _sample: np.ndarray | None = None
    #: The explainer only copies values between rows (never computes on them): a Python
    #: model's DataFrame data are coded column by column (exact, cheap to rebuild).
    moves_values: ClassVar[bool] = False
    _code_numbers: bool = False

    def __init__(
        self,
        model: object,
        *,
        n_threads: int | None = None,
        memory_budget: int | None = None,
        progress: ProgressArg = None,
    ) -> None:
        self.model: AgnosticModel = self._check_model(model)  # type: ignore[assignment]
        if self._schema is not None:  # a DataFrame given to the constructor (a background)
            self._adopt(self._schema, self._sample)
        self.progress = check_progress(progress)
        run_options(n_threads, memory_budget)  # checks both; core_options builds them per call
        self.n_threads = None if n_threads is None else int(n_threads)
        self.memory_budget = None if memory_budget is None else int(memory_budget)
        if any(p.name == "seed" for p in _parameters(type(self))):
            self.seed = check_seed(getattr(self, "seed", None))
        self._set_up = False
        if getattr(self.model, "built", True):
            self._run_setup()

    # ---- the model --------------------------------------------------------------------------

    def _check_model(self, model: object) -> AgnosticModel | Pending:
        """The model converted once (``models.convert``): native where possible; for the
        model-agnostic methods, else called in batches. Raw models and plain functions whose
        input shape is not known yet are converted at the first batch (``Pending``)."""
        shape = self._data_shape()
        converted = convert(model, shape, gradients=self.needs_network, data=self.data_name)
        if self.needs_network and not isinstance(converted, NativeModel):
            raise TypeError(
                f"model: {type(self).__name__} needs gradients, so it needs a native network "
                f"(glassbox.from_torch / from_sklearn / from_onnx / from_keras); got "
                f"{type(model).__name__}. Model-agnostic methods accept wrapped callables."
            )
        return converted

    def _data_shape(self) -> tuple[int, ...] | None:
        """The per-sample shape of data given to the constructor (a background, training data),
        if any: what a plain function or a raw model is taken to accept."""
        return None

    def _setup(self) -> None:
        """Hook: what the constructor does with the model's network or shapes (resolve layers,
        rules, data widths). Runs once, when the model is built."""

    def _ready(self, X: object) -> None:
        """Called first by every ``__call__``: converts or builds a model whose input shape was
        not known from the per-sample shape of ``X``, then runs ``_setup()`` once."""
        if self._set_up:
            return
        if not getattr(self.model, "built", True):
            try:
                shape = tuple(int(s) for s in read_array(X).shape)  # never __array_function__
            except (TypeError, ValueError):  # ragged or not an array: as_batch says why later
                shape = ()
            if len(shape) < 2:
                raise ValueError(
                    f"X: the model was converted without an input shape, so it is built from the "
                    f"first batch (n, *sample_shape) it explains; X has shape {shape}. Pass a "
                    "batch, or pass input_shape= to the adapter (e.g. "
                    "glassbox.from_torch(net, input_shape=(1, 28, 28)))"
                )
            if isinstance(self.model, Pending):
                self.model = self.model.resolve(shape[1:])
                if self._schema is not None:  # a DataFrame read before the model was known
                    self._adopt(self._schema, self._sample)
            else:
                self._build(shape[1:])
        self._run_setup()

    def _run_setup(self) -> None:
        """``_setup()``, remembering the attributes it made (pickling leaves them out)."""
        before = set(self.__dict__)
        self._setup()
        self._made_by_setup = tuple(sorted(set(self.__dict__) - before))
        self._set_up = True

    # ---- pickling (glassbox.dask ships explainers to worker processes) ----------------------

    def __getstate__(self) -> dict[str, Any]:
        """The explainer without what ``_setup()`` made from the model (core objects among it,
        which do not pickle); ``__setstate__`` makes it again. A progress callable must pickle
        (``glassbox.dask`` ships explainers with ``progress=False``)."""
        made = set(self.__dict__.get("_made_by_setup", ()))
        return {key: value for key, value in self.__dict__.items() if key not in made}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        if state.get("_set_up"):
            self._run_setup()

    def __copy__(self) -> Explainer:
        """A shallow copy sharing the set-up state (``copy.copy`` would otherwise go through
        ``__getstate__`` and set up again)."""
        new = object.__new__(type(self))
        new.__dict__.update(self.__dict__)
        return new

    def _build(self, sample_shape: tuple[int, ...]) -> None:
        """Build the lazy native model for samples of ``sample_shape``."""
        try:
            self.model.build(sample_shape)  # type: ignore[union-attr]
        except UnsupportedLayerError as error:
            hint = layout_hint(sample_shape)
            if hint:
                raise UnsupportedLayerError(f"{hint} ({error})") from error
            raise
        except ValueError as error:
            raise ValueError(
                f"X: could not build the model for samples of shape {sample_shape} ({error}); "
                "pass input_shape= to the adapter"
            ) from error

    # ---- the data -------------------------------------------------------------------------

    def _code_data_for(self, model: object) -> None:
        """Before the constructor reads its data: code a DataFrame's numeric columns too when the
        method only moves values and ``model`` is called in Python (not a native network, nor a
        torch / Keras model, which may become one)."""
        self._code_numbers = self.moves_values and is_python_model(model)

    def _read_data(self, data: object, name: str) -> object:
        """Data given to the constructor (a background, training data): a DataFrame is read into
        rows through the explainer's schema (made from it); anything else as ``as_array``."""
        if isinstance(data, (tuple, Mapping)):  # one part per input of a model with several
            return data
        if frame_kind(data) is None:
            return as_array(data)
        table = read_table(data, self._schema, name, code_numbers=self._code_numbers)
        self._schema, self._sample = table.schema, table.rows[:1]
        return table.rows

    def _read(self, X: object) -> object:
        """``X`` as the core reads it: a DataFrame as its encoded rows (its schema adopted when
        it is the first one), anything else as it is."""
        if frame_kind(X) is None and self._schema is None:
            return X
        table = read_table(X, self._schema)
        if self._schema is None:
            self._schema = table.schema
            self._adopt(table.schema, table.rows[:1])
        return table.rows

    def _adopt(self, schema: Schema, sample: np.ndarray | None) -> None:
        """Use the DataFrame schema ``schema`` (``sample``: a row of the data, encoded): a Python
        model is called with DataFrames of its columns and dtypes; coded (non-numeric) columns
        need a method that only moves values and a Python model."""
        if isinstance(self.model, Pending):  # adopted once the model is converted
            self._sample = sample
            return
        if isinstance(self.model, CallableModel):
            self.model = self.model.framed(schema, sample)
            if self.needs_numbers is not None:
                check_numeric(schema, type(self).__name__, self.needs_numbers)
        elif schema.coded:
            raise TypeError(
                f"X: columns {schema.coded} are not numeric, and a native network computes on "
                "numbers; encode them as the network was trained, or explain a Python model "
                "(e.g. a pipeline with an encoder) with a model-agnostic method"
            )

    @property
    def feature_names(self) -> list[str] | None:
        """The names of the features: the DataFrame's columns, else the model's (None)."""
        if self._schema is not None:
            return self._schema.feature_names
        return self.model.feature_names

    def _allow_missing(self) -> bool:
        """Missing values (NaN) pass to the model: a Python model (it may impute them) or a tree
        model routing them, and a method that does no arithmetic on them (``missing_ok``)."""
        return accepts_missing(self.model) and self.missing_ok

    # ---- configuration ----------------------------------------------------------------------

    @property
    def options(self) -> dict[str, Any]:
        """The configuration: each constructor argument but ``model``, by name."""
        return {p.name: summarize(getattr(self, p.name)) for p in _parameters(type(self))}

    @property
    def core_options(self) -> _core.RunOptions:
        """The core's ``RunOptions`` (threads, memory budget) for one call."""
        return run_options(self.n_threads, self.memory_budget)

    def __repr__(self) -> str:
        parts = []
        for p in _parameters(type(self)):
            value = summarize(getattr(self, p.name))
            if p.kind is inspect.Parameter.VAR_KEYWORD:
                parts += [f"{key}={item!r}" for key, item in value.items()]
            else:
                parts.append(f"{p.name}={value!r}")
        return f"{type(self).__name__}({', '.join(parts)})"

    # ---- one call ---------------------------------------------------------------------------

    def _batch(self, X: object) -> np.ndarray:
        """``X`` checked: float32, shape (n, *model.input_shape)."""
        return as_batch(X, tuple(self.model.input_shape), allow_nan=self._allow_missing())

    def _targets(self, target: object, n_rows: int) -> np.ndarray | None:
        """Per-row output indices for ``target`` (indices, or names among the model's output
        names)."""
        return as_targets(target, n_rows, self.model.n_outputs, self.model.output_names)

    def _inputs(self, X: object, target: object) -> tuple[np.ndarray, np.ndarray, Any]:
        """The model made ready, the checked batch, its (n, d) rows for the core, and the
        per-row targets."""
        if getattr(self.model, "inputs", None):  # several named inputs, side by side in a row
            flat = self.model.rows(X)  # type: ignore[union-attr]
            if self.attributes_inputs:
                self._attributed_inputs()  # something to attribute, checked before any work
            return flat, flat, self._targets(target, flat.shape[0])
        X = self._read(X)
        if not self._allow_missing() and isinstance(X, np.ndarray) and X.dtype.kind == "f":
            if X.ndim >= 2 and X.size:  # which method refuses missing values, and why
                check_finite_rows(X.reshape(X.shape[0], -1), self._schema, type(self).__name__)
        self._ready(X)
        batch = self._batch(X)
        flat = batch.reshape(batch.shape[0], -1)
        if isinstance(self.model, NativeModel):
            check_embedding_ids(self.model, flat)
        return batch, flat, self._targets(target, batch.shape[0])

    def _core_model(self) -> object:
        """What the core evaluates: the compiled network, or the Python function."""
        return core_model(self.model)

    def _call_core(self, function: Callable[..., Any], X: np.ndarray, **arguments: Any) -> Any:
        """``function(model, X=X, options=..., **arguments)``: one core call on the model the core
        evaluates, with this explainer's run options."""
        options = self.core_options
        what = type(self).__name__
        with core_job(what, self.model, X, options, self.progress, rows=int(X.shape[0])):
            return function(self._core_model(), X=X, options=options, **arguments)

    def _check_finite(
        self,
        batch: np.ndarray,
        targets: np.ndarray | None,
        fields: dict[str, Any],
        outputs: np.ndarray | None,
    ) -> None:
        """The non-finite policy (docs/methods.md): one ``np.isfinite`` pass over the result (and
        over the model's outputs at the rows when the method computed them); only rows found
        non-finite are looked at again. The model's own output there not finite: ValueError
        naming the rows; finite: NonFiniteWarning (the method overflowed)."""
        n = batch.shape[0]
        arrays = {
            name: value
            for name, value in fields.items()
            if isinstance(value, np.ndarray) and value.ndim and value.shape[0] == n
        }
        bad = nonfinite_rows(*arrays.values(), outputs)
        if not bad.size:
            return
        what = type(self).__name__
        if outputs is None:  # not computed by the method: the model on the bad rows only
            rows = batch[bad].reshape(bad.size, -1)
            outputs = evaluate(self.model, rows, options=self.core_options)
            if targets is not None:
                outputs = outputs[np.arange(bad.size), targets[bad]]
        else:
            outputs = np.asarray(outputs)[bad]
        check_model_outputs(what, outputs, bad)
        warn_nonfinite(what, {name: value[bad] for name, value in arrays.items()}, bad)

    def _explanation(
        self,
        batch: np.ndarray,
        values: np.ndarray,
        target: np.ndarray | None,
        *,
        reshape: bool = True,
        options: dict[str, Any] | None = None,
        outputs: np.ndarray | None = None,
        by_input: bool = True,
        **fields: Any,
    ) -> Explanation:
        """The Explanation of ``batch``: ``values`` (and a ``stderr`` field) reshaped to the
        batch's shape unless ``reshape=False``; ``options`` adds per-call figures to the
        configuration; ``outputs`` are the model's outputs at the rows (explained outputs) when
        the method computed them; ``fields`` are further Explanation fields (``feature_names``
        defaults to the model's). A model with several inputs keeps the attributed inputs'
        columns (``_attributed``) unless ``by_input=False`` (values of a layer). Non-finite
        results raise or warn (``_check_finite``)."""
        if reshape:
            values = np.asarray(values).reshape(batch.shape)
            if fields.get("stderr") is not None:
                fields["stderr"] = np.asarray(fields["stderr"]).reshape(batch.shape)
        if by_input and getattr(self.model, "inputs", None):
            batch, values = self._attributed(batch, values, fields)
        fields.setdefault("feature_names", self.feature_names)
        self._check_finite(batch, target, {"values": values, **fields}, outputs)
        data = batch.copy()  # the batch may be the caller's own array: never hand it back
        if self._schema is not None and batch.ndim == 2:
            data = self._schema.originals(batch)  # the user's values (strings, categories, ...)
        return Explanation(
            values=values,
            data=data,
            output_names=self.model.output_names,
            target=target,
            method=self.method_name,
            options={**self.options, **(options or {})},
            **fields,
        )

    def _attributed_inputs(self) -> list[int]:
        """Indices of the inputs this method attributes (a model with several inputs): a
        clear error before any work when there are none."""
        inputs = self.model.inputs  # type: ignore[union-attr]
        kind = self.integer_inputs or ("gradient" if self.needs_network else "tokens")
        skipped = set(passed_through(self.model, kind))
        kept = [k for k in range(len(inputs)) if k not in skipped]
        if kept:
            return kept
        names = [spec.name for spec in inputs]
        if kind == "tokens":
            raise ValueError(
                f"X: every input of the model ({names}) is a mask or flag that keeps each row's "
                f"values, so {type(self).__name__} has nothing to attribute"
            )
        raise ValueError(
            f"X: {type(self).__name__} attributes real-valued inputs, and every input of this "
            f"model ({names}) holds integers (token ids, codes, masks); attribute token ids "
            "with LayerIntegratedGradients on their embedding, or with KernelShap / "
            "FeatureAblation"
        )

    def _attributed(
        self, batch: np.ndarray, values: np.ndarray, fields: dict[str, Any]
    ) -> tuple[np.ndarray, np.ndarray]:
        """A model with several inputs: the columns of the inputs this method attributes
        (``models.inputs.passed_through``), named ``input[i]``, and ``fields["inputs"]``."""
        inputs = self.model.inputs  # type: ignore[union-attr]
        kept = self._attributed_inputs()
        columns = input_columns(inputs, kept)
        if values.ndim >= 2 and values.shape[1] == batch.shape[1] != columns.size:
            values = values[:, columns]
            if fields.get("stderr") is not None:
                fields["stderr"] = np.asarray(fields["stderr"])[:, columns]
        if fields.get("feature_names") is None:
            fields["feature_names"] = feature_labels([inputs[k] for k in kept])
        fields["inputs"] = {inputs[k].name: tuple(inputs[k].shape) for k in kept}
        return batch[:, columns], values

    def _baselines(self, baselines: object, batch: np.ndarray) -> np.ndarray:
        """Baseline rows for ``batch`` (flat rows): ``as_baselines`` for a model with one
        input; for several, one value or array per input (tuple or dict), the integer inputs
        keeping each row's own values (``baseline_rows``)."""
        if not getattr(self.model, "inputs", None):
            return as_baselines(baselines, batch).reshape(batch.shape[0], -1)
        return baseline_rows(self.model, batch, baselines, tokens="own")

    def _references(self, baselines: object) -> np.ndarray:
        """A reference distribution shared by every row, as flat rows (m, d): a batch (or one
        sample) of the model's input, or for several inputs a tuple / dict of batches."""
        if not getattr(self.model, "inputs", None):
            references = as_distribution(baselines, tuple(self.model.input_shape))
            return references.reshape(references.shape[0], -1)
        ints = [spec.name for spec in self.model.inputs if spec.dtype == "int"]
        if ints:
            raise ValueError(
                f"baselines: {type(self).__name__} draws references shared by every row, but "
                f"the integer inputs {ints} must keep each row's own values; explain this "
                "model with IntegratedGradients or DeepLift (a baseline per row)"
            )
        return self.model.rows(baselines, "baselines")  # type: ignore[union-attr]

    def _from_result(
        self,
        batch: np.ndarray,
        result: Any,
        target: np.ndarray,
        fields: dict[str, str] = ATTRIBUTION_FIELDS,
        outputs: str | None = None,
    ) -> Explanation:
        """The Explanation of a core result object: its ``values`` and, for each Explanation
        field in ``fields``, the result's attribute of the given name (None where the method has
        no such field); ``outputs`` names the result's attribute holding the model's outputs at
        the rows, if it has one."""
        found = {field: getattr(result, name) for field, name in fields.items()}
        at_rows = None if outputs is None else np.asarray(getattr(result, outputs))
        return self._explanation(batch, result.values, target, outputs=at_rows, **found)


class AgnosticExplainer(Explainer):
    """Base of the model-agnostic explainers: any model ``glassbox.as_model`` accepts (a native
    network runs under OpenMP; a Python function is called on chunks of thousands of rows).

    One input shape per model: ``X`` (and a background or training data) is a batch of the
    model's samples, ``(n, *model.input_shape)`` (images ``(n, C, H, W)`` for an image model),
    and values come back in that shape. Flat rows ``(n, n_inputs)`` are accepted for any model
    too (values then come back flat), and a function of flat rows takes samples of any shape with
    ``n_inputs`` values (images for a function of flattened images).

    Examples
    --------
    >>> import numpy as np, glassbox as gb
    >>> model = gb.wrap(lambda X: X.sum(axis=1), n_inputs=4)
    >>> gb.FeatureAblation(model, feature_mask=[[0, 1], [2, 3]])(np.ones((1, 4))).values
    array([[2., 2., 2., 2.]])
    """

    method_name = "agnostic"
    needs_network = False

    def _batch(self, X: object, name: str = "X", allow_nan: bool = False) -> np.ndarray:
        """``X`` checked, in its own sample shape: the model's, flat rows, or (for a model of
        flat rows) any shape with ``n_inputs`` values."""
        shape = tuple(self.model.input_shape)
        try:
            array = np.asarray(X) if not isinstance(X, (str, bytes)) and X is not None else X
        except ValueError:  # ragged: as_batch says so
            array = None
        if (
            isinstance(array, np.ndarray)
            and array.ndim >= 2
            and (len(shape) == 1 or array.ndim == 2)
            and int(np.prod(array.shape[1:])) == int(np.prod(shape))
        ):
            shape = tuple(int(s) for s in array.shape[1:])
        return as_batch(X, shape, name, allow_nan=allow_nan or self._allow_missing())

    #: Constructor arguments holding data or baselines over the model's inputs.
    _DATA_ARGUMENTS = ("background", "training_data", "baselines")

    def _by_pattern(self, X: object, target: object) -> Explanation | None:
        """A native model with inputs passed through (masks: ``passed_through``): the rows
        grouped by their values there, each group explained by a copy of this explainer on the
        model with those inputs held at the group's values (``bind_inputs``), so every
        perturbation keeps the row's own mask; None for any other model (explain as usual)."""
        inputs = getattr(self.model, "inputs", None)
        fixed = passed_through(self.model, "tokens") if inputs else []
        if not fixed:
            return None
        kept = self._attributed_inputs()
        flat = self.model.rows(X)  # type: ignore[union-attr]
        targets = self._targets(target, flat.shape[0])
        columns = input_columns(inputs, kept)
        arguments = {p.name: getattr(self, p.name) for p in _parameters(type(self))}
        for key in set(self._DATA_ARGUMENTS) & set(arguments):
            value = arguments[key]
            if key == "baselines":
                arguments[key] = sample_values(inputs, kept, value, key)
            elif value is not None:
                arguments[key] = self._rows(value, key)[:, columns]
        parts = []
        offset = first_row()
        for rows, values in row_patterns(flat, input_columns(inputs, fixed)):
            clone = type(self)(bind_inputs(self.model, fixed, values), **arguments)
            # runs of consecutive rows, each at its place in the job: seeded draws per row
            # stay those of one call over every row
            for run in np.split(rows, np.flatnonzero(np.diff(rows) != 1) + 1):
                part_target = None if targets is None else targets[run]
                with row_offset(offset + int(run[0])):
                    parts.append((run, clone(flat[run][:, columns], target=part_target)))
        return stitch_rows(parts, flat.shape[0])

    def _sample_shapes(self, batch: np.ndarray | None = None) -> list[tuple[int, ...]]:
        """The sample shapes a feature mask may describe: the batch's, the model's, the data's."""
        shapes = [] if batch is None else [tuple(batch.shape[1:])]
        shapes += [tuple(self.model.input_shape), self._data_shape() or ()]
        size = self.model.n_inputs
        found = [s for s in [*shapes, (size,)] if s and int(np.prod(s)) == size]
        return list(dict.fromkeys(found))

    def _rows(self, data: object, name: str, allow_nan: bool = False) -> np.ndarray:
        """Constructor data (a background, training data) as flat float32 rows (m, n_inputs):
        a batch in any shape ``_batch`` accepts, or one sample; for a model with several
        inputs, a tuple / dict of batches (inputs passed through may be left out)."""
        if getattr(self.model, "inputs", None) and isinstance(data, (tuple, list, dict)):
            inputs = self.model.inputs  # type: ignore[union-attr]
            fixed = [inputs[k].name for k in passed_through(self.model, "tokens")]
            return pack(inputs, data, name, optional=fixed)
        array = as_array(data)
        if isinstance(array, np.ndarray) and array.shape in (
            tuple(self.model.input_shape),
            (self.model.n_inputs,),
        ):
            array = array[None]  # one sample: a batch of one
        batch = self._batch(array, name, allow_nan)
        return batch.reshape(batch.shape[0], -1)
