"""``glassbox explain MODEL DATA``: attributions of every row of a data file, streamed in row
batches and written batch by batch, resumable after an interruption (``glassbox.jobs.output``).

Each batch is read (``jobs.files.Source``), explained by one explainer call (made inside
``glassbox.row_offset(first_row)`` when glassbox has it, so that a sampled method's draws are
keyed by the row's index in the file, not in the batch) and written before the next is read:
peak memory depends on ``--batch-rows``, not on the file. The output's columns are the
attributions, named after the explained columns and in their order, then the ``--id-column``
columns, then (only for a model with several outputs explained without ``--target``) a
``target`` column naming the output explained for each row (its predicted one).
"""

from __future__ import annotations

import argparse
import collections
import contextlib
import os
import signal
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from glassbox.jobs.files import (
    InputError,
    Source,
    add_command,
    column_index,
    fail,
    format_from,
    load_data,
    load_model,
    positive_int,
    split_names,
)
from glassbox.jobs.output import FORMATS, WRITERS, Progress, file_stamp

#: Rows of DATA taken as the background when a method needs one and none is given.
DEFAULT_BACKGROUND_ROWS = 100
#: Megabytes of working memory the method's chunks may use, over all threads (--memory-budget).
DEFAULT_MEMORY_MB = 96


@dataclass(frozen=True)
class Method:
    """How ``glassbox explain --method NAME`` builds and calls an explainer.

    ``options``: constructor keyword -> the ``args`` attribute holding it (passed when not None);
    ``background``: the constructor keyword taking the background rows (None: no background;
    ``optional``: only when ``--background`` / ``--background-rows`` is given); ``call``: call
    keyword -> ``args`` attribute (``"@background"``: the background rows).
    """

    explainer: str
    options: dict[str, str] = field(default_factory=dict)
    background: str | None = None
    optional: bool = False
    call: dict[str, str] = field(default_factory=dict)
    seeded: bool = False


METHODS = {
    "ig": Method("IntegratedGradients", {"n_steps": "n_steps"}, call={"baselines": "baseline"}),
    "saliency": Method("Saliency"),
    "inputxgradient": Method("InputXGradient"),
    "smoothgrad": Method(
        "SmoothGrad", {"n_samples": "n_samples", "stdev": "stdev", "seed": "seed"}, seeded=True
    ),
    "gradientshap": Method(
        "GradientShap",
        {"n_samples": "n_samples", "stdev": "stdev", "seed": "seed"},
        call={"baselines": "@background"},
        seeded=True,
    ),
    "lrp": Method("LRP", {"composite": "composite"}),
    "deeplift": Method("DeepLift", call={"baselines": "baseline"}),
    "kernelshap": Method(
        "KernelShap", {"n_samples": "n_samples", "seed": "seed"}, "background", seeded=True
    ),
    "permutation": Method(
        "PermutationShapley", {"n_samples": "n_samples", "seed": "seed"}, "background", seeded=True
    ),
    "lime": Method(
        "Lime", {"num_samples": "n_samples", "seed": "seed"}, "training_data", seeded=True
    ),
    "treeshap": Method("TreeShap", background="background", optional=True),
    "featureablation": Method("FeatureAblation", {"baselines": "baseline"}),
}
ALIASES = {
    "integratedgradients": "ig",
    "inputxgrad": "inputxgradient",
    "permutationshapley": "permutation",
    "shapley": "permutation",
    "deepliftrescale": "deeplift",
    "ablation": "featureablation",
}

EXAMPLES = f"""examples:
  glassbox explain model.onnx data.parquet --method ig --out attributions.parquet
  glassbox explain model.onnx data.parquet --method ig --out attributions.parquet --resume
  glassbox explain mlp.gb data.csv --method kernelshap --background-rows 200 --seed 1 \\
      --columns age,income,debt --id-column customer_id --out shap.csv
  glassbox explain forest.joblib --allow-pickle data.csv --method treeshap --target 1 \\
      --id-column id --out tree.parquet
  glassbox explain net.pt data.npy --method saliency --out saliency.npy --batch-rows 50000

methods: ig, saliency, inputxgradient, smoothgrad, gradientshap, lrp, deeplift (gradients: a
native network: .gb, .onnx, a TorchScript file it converts, a scikit-learn MLP / linear pickle);
kernelshap, permutation (Permutation Shapley), lime, featureablation (any model);
treeshap (tree ensembles: scikit-learn, XGBoost, LightGBM).

columns: --columns A,B,C names the model's input columns, in order; without it, the columns the
model names (a saved glassbox or scikit-learn model fitted on a DataFrame) when DATA has them
all, else every column but the --id-column ones.

target: --target INT|NAME explains that output for every row. Without it a one-output model's
output is explained, and a model with several outputs (a classifier's classes) explains each
row's predicted output (the largest), named in an extra last column "target".

background: kernelshap, permutation, lime and gradientshap take the first
--background-rows rows of DATA (default {DEFAULT_BACKGROUND_ROWS}) unless --background FILE gives
them; treeshap uses one only when given (interventional; else path-dependent). ig, deeplift and
featureablation compare with --baseline (default 0).

cluster: --scheduler tcp://host:8786 explains each batch on a Dask cluster (pip install
"glassbox[dask]"); DATA is read and OUT written here, with the same values and resume.

streaming and resume: DATA is read, explained and written --batch-rows rows at a time (peak
memory follows the batch, not the file). OUT.progress.json records the finished batches; after
Ctrl-C (exit 130) or a failure, the same command with --resume continues after the last complete
batch, giving the same values as an uninterrupted run; it refuses if the arguments or DATA
changed. A finished run removes the progress file."""


def add_parser(commands: Any) -> None:
    """Add the ``explain`` subcommand to ``commands`` (argparse subparsers)."""
    parser = add_command(
        commands,
        "explain",
        "attributions of every row of a data file, streamed in batches (resumable)",
        "Explain every row of DATA with one attribution method and write the values as a\n"
        "table: one column per explained input column (same names, same order), then the\n"
        "--id-column columns.",
        EXAMPLES,
    )
    parser.add_argument(
        "--method",
        required=True,
        metavar="NAME",
        help="ig, saliency, inputxgradient, smoothgrad, gradientshap, lrp, deeplift, kernelshap, "
        "permutation, lime, treeshap or featureablation",
    )
    parser.add_argument(
        "--out", help="output file (default: DATA's name + the method, in DATA's format)"
    )
    parser.add_argument(
        "--format", choices=FORMATS, help="output format (default: --out's extension)"
    )
    parser.add_argument("--target", help="the output explained: index or name (see below)")
    parser.add_argument(
        "--columns", metavar="A,B,C", help="the model's input columns, in order (default: all)"
    )
    parser.add_argument(
        "--id-column",
        action="append",
        default=[],
        metavar="COL",
        help="a column of DATA copied to the output after the attributions (repeatable)",
    )
    parser.add_argument("--background", metavar="FILE", help="background rows (a data file)")
    parser.add_argument(
        "--background-rows",
        type=positive_int,
        metavar="N",
        help=f"the first N rows of DATA as background (default {DEFAULT_BACKGROUND_ROWS} where "
        "one is needed)",
    )
    parser.add_argument(
        "--batch-rows",
        type=positive_int,
        default=10_000,
        metavar="N",
        help="rows read, explained and written at a time (default: 10000)",
    )
    parser.add_argument("--threads", type=positive_int, metavar="N", help="threads (default: all)")
    parser.add_argument(
        "--memory-budget",
        type=positive_int,
        default=DEFAULT_MEMORY_MB,
        metavar="MB",
        help=f"working memory of the method, over all threads (default: {DEFAULT_MEMORY_MB})",
    )
    parser.add_argument("--seed", type=int, default=0, help="seed of sampled methods (default: 0)")
    parser.add_argument(
        "--progress",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="a progress line on stderr (default: when stderr is a terminal)",
    )
    parser.add_argument(
        "--resume", action="store_true", help="continue an interrupted run (see below)"
    )
    parser.add_argument(
        "--scheduler",
        metavar="ADDRESS",
        help="explain the batches on a Dask cluster (tcp://host:8786; needs glassbox[dask]): "
        "the explainer is sent to the workers once, DATA is read and OUT written here",
    )
    parser.add_argument(
        "--n-steps", type=positive_int, metavar="N", help="ig: integration steps (default: 50)"
    )
    parser.add_argument(
        "--n-samples",
        type=positive_int,
        metavar="N",
        help="kernelshap, permutation, lime, smoothgrad, gradientshap: samples per row",
    )
    parser.add_argument("--stdev", type=float, help="smoothgrad, gradientshap: noise stdev")
    parser.add_argument(
        "--baseline",
        type=float,
        default=0.0,
        help="ig, deeplift, featureablation: the baseline value (default: 0)",
    )
    parser.add_argument("--composite", help="lrp: the rule composite (e.g. epsilon_plus)")


def method_name(text: str) -> str:
    """``--method`` as a key of ``METHODS`` (case, '-' and '_' ignored; aliases)."""
    key = text.lower().replace("-", "").replace("_", "")
    key = ALIASES.get(key, key)
    if key not in METHODS:
        raise InputError(
            f"--method: unknown method {text!r} (expected one of {', '.join(METHODS)})"
        )
    return key


def run(args: argparse.Namespace) -> int:
    """Run ``glassbox explain`` with parsed ``args``; return the exit code."""
    try:
        job = Job(args)
        return job.run()
    except KeyboardInterrupt:
        print("glassbox explain: interrupted before any batch was written", file=sys.stderr)
        return 130
    except (ValueError, TypeError, ImportError, OSError) as error:
        return fail("explain", error, 2)
    except Exception as error:  # a failure, not the user's input: exit 1, still one line
        return fail("explain", error, 1)


class Job:
    """One ``glassbox explain`` run: the files and explainer set up from ``args``; ``run()``."""

    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.key = method_name(args.method)
        self.method = METHODS[self.key]
        self.source = Source(args.data)
        self.out = args.out or f"{Path(args.data).stem}.{self.key}{Path(args.data).suffix}"
        self.format = format_from(self.out, args.format, FORMATS)
        self._columns()
        self.model = load_model(args.model, args.allow_pickle, n_inputs=len(self.features))
        self._model_columns()
        from glassbox.explainers.base import is_python_model

        numeric = all(self.source.numeric(c) for c in self.features)
        self.as_array = numeric and not is_python_model(self.model)
        self.explainer = self._explainer()
        self.target = self._target()

    # -- set-up -------------------------------------------------------------------------------

    def _columns(self) -> None:
        """The explained columns (``--columns``, else every column but the ids) and the ids."""
        names = self.source.columns
        self.ids = [names[self.source.index(c, "--id-column")] for c in self.args.id_column]
        if self.args.columns is not None:
            keys = split_names(self.args.columns)
            self.features = [names[self.source.index(key, "--columns")] for key in keys]
        else:
            self.features = [n for n in names if n not in self.ids]
        if not self.features:
            raise InputError("--columns: no columns left to explain")
        if self.ids and self.format == "npy":
            raise InputError(
                "--id-column: an .npy output holds only the attribution values; write csv or "
                "parquet to keep id columns"
            )
        self.read = list(dict.fromkeys([*self.features, *self.ids]))  # columns read, in order

    def _model_columns(self) -> None:
        """Without ``--columns``: the model's own feature names when DATA has them all (a label
        or other columns left out), in the model's order; then the widths checked before any
        work."""
        names = getattr(self.model, "feature_names", None) or getattr(
            self.model, "feature_names_in_", None
        )
        names = None if names is None else [str(n) for n in names]
        if self.args.columns is None and names and set(names) <= set(self.source.columns):
            self.features = names
            self.read = list(dict.fromkeys([*self.features, *self.ids]))
        width = getattr(self.model, "n_inputs", None)
        if isinstance(width, int) and width != len(self.features):
            shown = ", ".join(self.features[:6]) + (", ..." if len(self.features) > 6 else "")
            raise InputError(
                f"--columns: the model takes {width} inputs, and {len(self.features)} columns of "
                f"DATA would be explained ({shown}); name the model's input columns in order "
                "with --columns A,B,C (ids go in --id-column)"
            )

    def _background(self) -> Any:
        """The background rows (None when the method takes none)."""
        method, args = self.method, self.args
        wanted = method.background is not None or "@background" in method.call.values()
        given = args.background is not None or args.background_rows is not None
        if not wanted or (method.optional and not given):
            return None
        if args.background is not None:
            X, _, _ = load_data(args.background, None)
            if hasattr(X, "columns"):
                missing = [c for c in self.features if c not in [str(n) for n in X.columns]]
                if missing:
                    raise InputError(f"--background: the file has no column {missing[0]!r}")
                return X[self.features]
            return X[:, self._feature_indices()]
        return self._features(
            self.source.head(args.background_rows or DEFAULT_BACKGROUND_ROWS, self.read)
        )

    def _feature_indices(self) -> list[int]:
        return [column_index(c, self.source.columns, "--columns") for c in self.features]

    def _features(self, batch: Any) -> Any:
        """The explained columns of a batch: a float32 array (NPY; numeric columns for a native
        model) or a pandas DataFrame (columns of other types, or a model called in Python,
        which may want its column names)."""
        if isinstance(batch, np.ndarray):
            return batch[:, self._feature_indices()]
        if self.as_array:
            columns = [_numbers(batch.column(c)) for c in self.features]
            return np.column_stack(columns).astype(np.float32, copy=False)
        return batch.select(self.features).to_pandas()

    def _explainer(self) -> Any:
        import glassbox as gb

        method, args = self.method, self.args
        options = {
            key: getattr(args, name)
            for key, name in method.options.items()
            if getattr(args, name) is not None
        }
        self.background = self._background()
        if method.background is not None and self.background is not None:
            options[method.background] = self.background
        cls = getattr(gb, method.explainer)
        threads = args.threads or int(os.environ.get("GLASSBOX_NUM_THREADS") or os.cpu_count() or 1)
        budget = args.memory_budget * 2**20 // threads  # the core's budget is per worker
        try:
            return cls(
                self.model, **options, n_threads=args.threads, memory_budget=budget, progress=False
            )
        except (TypeError, gb.UnsupportedLayerError) as error:
            raise InputError(f"--method {self.key}: {error}") from error

    def _target(self) -> int | None:
        """The output index of ``--target``; None: each row's predicted output (several
        outputs), 0 for a model with one."""
        from glassbox._names import resolve

        model = self.explainer.model
        n_outputs = int(model.n_outputs)
        names = getattr(model, "output_names", None)
        text = self.args.target
        if text is None:
            return 0 if n_outputs == 1 else None
        key: int | str = int(text) if text.lstrip("-").isdigit() else text
        try:
            return resolve(key, names, n_outputs, "--target", what="output", negative=False)
        except (ValueError, TypeError) as error:
            raise InputError(str(error)) from error

    def arguments(self) -> dict[str, Any]:
        """What determines the values written (the sidecar's record; a change refuses resume)."""
        args = self.args
        chosen = {
            name: getattr(args, name)
            for name in (*self.method.options.values(), *self.method.call.values())
            if not name.startswith("@")
        }
        return {
            "model": file_stamp(args.model),
            "method": self.key,
            "options": chosen,
            "target": args.target,
            "columns": self.features,
            "id_columns": self.ids,
            "background": file_stamp(args.background) if args.background else None,
            "background_rows": args.background_rows,
            "batch_rows": args.batch_rows,
            "format": self.format,
        }

    # -- the run ------------------------------------------------------------------------------

    def _call_arguments(self) -> dict[str, Any]:
        return {
            key: self.background if name == "@background" else getattr(self.args, name)
            for key, name in self.method.call.items()
        }

    def explain(self, first_row: int, batch: Any) -> tuple[np.ndarray, Any]:
        """The attributions of one batch (rows x explained columns, float32 or float64 as the
        explainer returns them) and the columns
        written after them (ids, and the per-row target when it is the predicted output)."""
        import glassbox as gb

        X, target = self._inputs(batch)
        with gb.row_offset(first_row):  # seeded draws per row: those of one call over the file
            explanation = self.explainer(X, **self._call_arguments(), target=target)
        return self._result(explanation, X, batch, target)

    def _inputs(self, batch: Any) -> tuple[Any, Any]:
        """The explained columns of a batch, and the target (each row's predicted output when
        none was given)."""
        X = self._features(batch)
        return X, self.target if self.target is not None else self._predicted(X)

    def _remote(self, batches: Iterator[tuple[int, Any]]) -> Iterator[tuple[np.ndarray, Any]]:
        """``explain`` of each batch, in order, on the Dask cluster at ``--scheduler``: the
        explainer scattered to every worker once, a few batches in flight per worker (so the
        workers stay busy while this process reads and writes), the same calls as a local run
        (one per batch, inside its ``row_offset``), so the same values."""
        from glassbox.dask import _explain_partition, connect

        client = connect(self.args.scheduler, "--scheduler")
        try:
            [payload] = client.scatter(
                [(self.explainer, self._call_arguments())], broadcast=True, hash=False
            )
            window = max(2, 2 * len(client.scheduler_info().get("workers", {})))
            pending: collections.deque[tuple[Any, Any, Any, Any]] = collections.deque()
            for first_row, batch in batches:
                X, target = self._inputs(batch)
                task = client.submit(
                    _explain_partition, payload, X, first_row, {"target": target}, None, pure=False
                )
                pending.append((task, X, batch, target))
                if len(pending) >= window:
                    task, X, batch, target = pending.popleft()
                    yield self._result(task.result(), X, batch, target)
            while pending:
                task, X, batch, target = pending.popleft()
                yield self._result(task.result(), X, batch, target)
        finally:
            client.close()  # cancels what is still in flight (Ctrl-C, a failure)

    def _result(self, explanation: Any, X: Any, batch: Any, target: Any) -> tuple[np.ndarray, Any]:
        """A batch's explanation as the values and the extra columns written."""
        values = np.asarray(explanation.values).reshape(len(X), -1)
        if values.dtype not in (np.float32, np.float64):
            values = values.astype(np.float64)
        if values.shape[1] != len(self.features):
            raise InputError(
                f"--method {self.key}: the model's attributions have {values.shape[1]} columns "
                f"per row, DATA's explained columns {len(self.features)}; choose them with "
                "--columns"
            )
        return values, self._extra(batch, target)

    def _predicted(self, X: Any) -> np.ndarray:
        """Each row's predicted output (the largest) of a model with several outputs."""
        import glassbox as gb

        model = self.explainer.model
        if not hasattr(model, "predict"):
            model = gb.as_model(self.model, n_inputs=len(self.features))
        rows = np.asarray(X.to_numpy() if hasattr(X, "to_numpy") else X, dtype=np.float32)
        return np.asarray(model.predict(rows)).argmax(axis=1)

    def _extra(self, batch: Any, target: Any) -> Any:
        import pyarrow as pa

        if self.format == "npy":
            return None
        if isinstance(batch, np.ndarray):
            indices = [column_index(c, self.source.columns, "--id-column") for c in self.ids]
            columns = [pa.array(batch[:, j]) for j in indices]
        else:
            columns = [batch.column(c) for c in self.ids]
        names = list(self.ids)
        if self.target is None:  # per-row predicted outputs, by name
            labels = getattr(self.explainer.model, "output_names", None)
            n_outputs = int(self.explainer.model.n_outputs)
            from glassbox._names import output_labels

            labels = output_labels(labels, n_outputs)
            columns.append(pa.array([labels[k] for k in np.asarray(target)]))
            names.append("target" if "target" not in self.features else "explained_target")
        return pa.Table.from_arrays(columns, names=names) if columns else None

    def run(self) -> int:
        progress = Progress(self.out, self.arguments(), self.args.data)
        state = progress.resume(self.out) if self.args.resume else progress.state
        if not self.args.resume and progress.path.exists():
            progress.remove()  # a new run replaces the old one's output
        writer = WRITERS[self.format](self.out, self.features, state, self.source.count_rows)
        done, rows = int(state["batches_done"]), int(state["rows_written"])
        bar = _Progress(self.args.progress, self.source.n_rows, rows)
        batches = self.source.batches(self.args.batch_rows, self.read, start=rows)
        if self.args.scheduler:
            results = self._remote(batches)
        else:
            results = (self.explain(first_row, batch) for first_row, batch in batches)
        try:
            for values, extra in results:
                with _held_interrupts():  # Ctrl-C here waits until the batch is recorded
                    written = writer.write(values, extra)
                    done, rows = done + 1, rows + values.shape[0]
                    progress.save(batches_done=done, rows_written=rows, **written)
                bar.update(rows)
        except KeyboardInterrupt:
            results.close()  # a cluster's tasks in flight are cancelled
            bar.close()
            writer.close()
            print(
                f"glassbox explain: interrupted: {self.out} holds the {rows} rows of {done} "
                "complete batches; run the same command with --resume to continue",
                file=sys.stderr,
            )
            return 130
        except BaseException:
            results.close()
            bar.close()
            writer.close()  # a readable file of the complete batches; --resume continues
            raise
        bar.close()
        writer.close()
        progress.remove()
        print(f"wrote {self.out} ({rows} rows, {self.key})")
        return 0


@contextlib.contextmanager
def _held_interrupts() -> Iterator[None]:
    """Ctrl-C (SIGINT) inside the block is held and raised as KeyboardInterrupt after it, so a
    batch's write and its progress record are never cut in half (main thread only)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    received: list[Any] = []
    previous = signal.signal(signal.SIGINT, lambda *caught: received.append(caught))
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
    if received:
        raise KeyboardInterrupt


class _Progress:
    """Rows done on one stderr line (``--progress``; by default when stderr is a terminal)."""

    def __init__(self, shown: bool | None, total: int | None, start: int) -> None:
        if shown is None:
            shown = bool(getattr(sys.stderr, "isatty", lambda: False)())
        self.shown, self.total, self.start = shown, total, start
        self.began = time.perf_counter()
        self.printed = False

    def update(self, rows: int) -> None:
        if not self.shown:
            return
        elapsed = time.perf_counter() - self.began
        rate = (rows - self.start) / elapsed if elapsed > 0 else 0.0
        of = f"/{self.total}" if self.total else ""
        share = f" ({100 * rows / self.total:.0f}%)" if self.total else ""
        sys.stderr.write(f"\rexplain: {rows}{of} rows{share}, {rate:,.0f} rows/s  ")
        sys.stderr.flush()
        self.printed = True

    def close(self) -> None:
        if self.printed:
            sys.stderr.write("\n")
            sys.stderr.flush()
            self.printed = False


def _numbers(column: Any) -> np.ndarray:
    """An Arrow column of numbers as a float64 NumPy array, nulls as NaN, read from the Arrow
    buffers (``to_numpy`` imports pandas, 60 MB the job does not need)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    array = pc.cast(column.combine_chunks(), pa.float64())
    validity, data = array.buffers()
    n, offset = len(array), array.offset
    values = np.frombuffer(data, dtype=np.float64, count=offset + n)[offset:].copy()
    if array.null_count:
        bits = np.unpackbits(np.frombuffer(validity, dtype=np.uint8), bitorder="little")
        values[bits[offset : offset + n] == 0] = np.nan
    return values
