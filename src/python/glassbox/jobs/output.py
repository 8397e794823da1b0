"""The result of a streamed job, written batch by batch, and the progress sidecar that lets an
interrupted run continue (``glassbox explain --resume``).

Formats (``--format``, by default the ``--out`` file's extension):

- ``csv``: one header row, then each batch appended (Arrow's CSV writer: numbers in their
  shortest round-trip form). The sidecar records the file's size after each complete batch; a
  resumed run cuts the file there (dropping a batch half written when the run was killed) and
  appends.
- ``parquet``: one row group per batch (``pyarrow.parquet.ParquetWriter``). The footer is written
  when the writer closes, which Ctrl-C and errors do, so the file of the completed batches is
  readable. A closed Parquet file cannot be appended to: a resumed run streams the completed row
  groups of the old file, one at a time, into a new file beside it (``OUT.resume.tmp``), goes on
  with the next batches, and replaces OUT with it when it closes (finished or interrupted again).
  A run killed without closing (SIGKILL, power loss) leaves no footer: start it again.
- ``npy``: an array of the final shape (rows x attributed columns), created at the first batch
  (``numpy.lib.format.open_memmap``) and filled batch by batch; rows past the sidecar's
  ``rows_written`` are zeros until written. Only the values: no id columns.

The sidecar ``OUT.progress.json`` holds the job's arguments (what determines the values: the
model file and its size and time, the method and its options, the columns, the batch size, the
format) and their digest, DATA's size and modification time, and how many batches and rows are
complete. It is written (to a temporary file, then renamed) after each batch's rows, and removed
when the job finishes.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any

import numpy as np

from glassbox.jobs.files import InputError

FORMATS = ("csv", "parquet", "npy")
VERSION = 1


def file_stamp(path: str | Path) -> dict[str, Any]:
    """A file's identity for the sidecar: absolute path, size and modification time."""
    stat = os.stat(path)
    return {"path": str(Path(path).resolve()), "size": stat.st_size, "mtime_ns": stat.st_mtime_ns}


class Progress:
    """The sidecar ``OUT.progress.json`` of a job with ``arguments`` over DATA file ``data``."""

    def __init__(self, out: str, arguments: dict[str, Any], data: str) -> None:
        self.path = Path(f"{out}.progress.json")
        self.arguments = arguments
        self.digest = hashlib.sha256(json.dumps(arguments, sort_keys=True).encode()).hexdigest()
        self.input = file_stamp(data)
        self.state: dict[str, Any] = {"batches_done": 0, "rows_written": 0}

    def resume(self, out: str) -> dict[str, Any]:
        """The state of the interrupted run to continue (empty when there is none and no OUT),
        or ``InputError`` when its arguments or DATA changed."""
        if not self.path.is_file():
            if Path(out).exists():
                raise InputError(
                    f"--resume: {out!r} has no progress file {self.path.name!r}, so there is "
                    "nothing to resume (a finished run removes it); run without --resume to "
                    "write it again"
                )
            return self.state  # nothing written yet: start at the beginning
        try:
            saved = json.loads(self.path.read_text(encoding="utf-8"))
            saved_arguments, saved_input = saved["arguments"], saved["input"]
            state = {
                "batches_done": int(saved["batches_done"]),
                "rows_written": int(saved["rows_written"]),
            }
            state.update({k: v for k, v in saved.items() if k == "output_bytes"})
        except (ValueError, KeyError, TypeError) as error:
            raise InputError(
                f"--resume: {str(self.path)!r} is not a progress file ({error})"
            ) from error
        if saved.get("digest") != self.digest:
            changed = sorted(
                key
                for key in {*saved_arguments, *self.arguments}
                if saved_arguments.get(key) != self.arguments.get(key)
            )
            raise InputError(
                f"--resume: the arguments differ from the interrupted run's ({', '.join(changed)}"
                f" changed); run with the same arguments, or without --resume to start again"
            )
        if saved_input != self.input:
            raise InputError(
                f"--resume: DATA {self.input['path']!r} changed since the interrupted run (size "
                "or modification time); run without --resume to start again"
            )
        if not Path(out).exists():
            raise InputError(f"--resume: the output {out!r} of the interrupted run is gone")
        self.state = state
        return state

    def save(self, **state: Any) -> None:
        """Record a complete batch (atomically: a temporary file renamed over the old one)."""
        self.state = state
        record = {
            "glassbox": "explain progress",
            "version": VERSION,
            "digest": self.digest,
            "arguments": self.arguments,
            "input": self.input,
            **state,
        }
        temporary = self.path.with_name(self.path.name + ".tmp")
        temporary.write_text(json.dumps(record, indent=1), encoding="utf-8")
        os.replace(temporary, self.path)

    def remove(self) -> None:
        self.path.unlink(missing_ok=True)


def _table(values: np.ndarray, names: list[str], extra: Any) -> Any:
    """An Arrow table: the float32 ``values`` as columns ``names``, then ``extra``'s columns."""
    import pyarrow as pa

    columns = [_floats(values[:, j]) for j in range(values.shape[1])]
    if extra is not None:
        return pa.Table.from_arrays([*columns, *extra.columns], names=[*names, *extra.column_names])
    return pa.Table.from_arrays(columns, names=names)


def _floats(column: np.ndarray) -> Any:
    """A float32 / float64 NumPy column as an Arrow array, from its buffer (``pa.array`` imports
    pandas, 60 MB the job does not need)."""
    import pyarrow as pa

    data = np.ascontiguousarray(column)
    kind = pa.float32() if data.dtype == np.float32 else pa.float64()
    return pa.Array.from_buffers(kind, len(data), [None, pa.py_buffer(data)])


class CsvWriter:
    """Appends each batch to a CSV file (a header row first)."""

    def __init__(self, out: str, names: list[str], state: dict[str, Any], n_rows: Any) -> None:
        self.names = names
        self.handle = open(out, "r+b" if state["batches_done"] else "wb")
        if state["batches_done"]:
            self.handle.truncate(int(state["output_bytes"]))  # a batch half written: dropped
            self.handle.seek(0, os.SEEK_END)
        self.header = not state["batches_done"]

    def write(self, values: np.ndarray, extra: Any) -> dict[str, Any]:
        import pyarrow as pa
        import pyarrow.csv as pacsv

        sink = pa.BufferOutputStream()
        options = pacsv.WriteOptions(include_header=self.header)
        pacsv.write_csv(_table(values, self.names, extra), sink, write_options=options)
        self.handle.write(sink.getvalue().to_pybytes())
        self.handle.flush()
        self.header = False
        return {"output_bytes": self.handle.tell()}

    def close(self) -> None:
        self.handle.close()


class ParquetWriter:
    """One row group per batch; a resumed run copies the old file's complete row groups into a
    new file, which replaces the old one when it closes (see the module docstring)."""

    def __init__(self, out: str, names: list[str], state: dict[str, Any], n_rows: Any) -> None:
        self.out, self.names, self.writer = Path(out), names, None
        self.target = self.out
        self.done = int(state["batches_done"])
        if self.done:
            self.target = self.out.with_name(self.out.name + ".resume.tmp")
            self._copy_completed()

    def _copy_completed(self) -> None:
        import pyarrow as pa
        import pyarrow.parquet as pq

        try:
            old = pq.ParquetFile(self.out)
        except (pa.ArrowInvalid, OSError) as error:
            raise InputError(
                f"--resume: {str(self.out)!r} is not a readable Parquet file (a run killed "
                f"before it closed the file leaves no footer): {error}; run without --resume"
            ) from error
        if old.metadata.num_row_groups < self.done:
            raise InputError(
                f"--resume: {str(self.out)!r} has {old.metadata.num_row_groups} row groups, the "
                f"progress file counts {self.done} complete batches; run without --resume"
            )
        for group in range(self.done):  # one row group in memory at a time
            self._write(old.read_row_group(group))

    def _write(self, table: Any) -> None:
        import pyarrow.parquet as pq

        if self.writer is None:
            self.writer = pq.ParquetWriter(self.target, table.schema)
        elif table.schema != self.writer.schema:
            table = table.cast(self.writer.schema)
        self.writer.write_table(table, row_group_size=max(table.num_rows, 1))

    def write(self, values: np.ndarray, extra: Any) -> dict[str, Any]:
        self._write(_table(values, self.names, extra))
        return {}

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
        if self.target != self.out and self.target.exists():
            os.replace(self.target, self.out)


class NpyWriter:
    """An ``.npy`` array of the final shape (the values' dtype: float32 for networks, float64 for
    most model-agnostic methods), created at the first batch and filled in place."""

    def __init__(self, out: str, names: list[str], state: dict[str, Any], n_rows: Any) -> None:
        from numpy.lib.format import open_memmap

        self.out, self.shape = out, (int(n_rows()), len(names))
        self.array: Any = None
        if state["batches_done"]:
            self.array = open_memmap(out, mode="r+")
            if self.array.shape != self.shape:
                raise InputError(
                    f"--resume: {out!r} holds an array of shape {self.array.shape}, expected "
                    f"{self.shape}; run without --resume"
                )
        self.row = int(state["rows_written"])

    def write(self, values: np.ndarray, extra: Any) -> dict[str, Any]:
        from numpy.lib.format import open_memmap

        if self.array is None:
            self.array = open_memmap(self.out, mode="w+", dtype=values.dtype, shape=self.shape)
        self.array[self.row : self.row + values.shape[0]] = values
        self.array.flush()
        self.row += values.shape[0]
        return {}

    def close(self) -> None:
        if self.array is not None:
            self.array.flush()
            self.array = None


WRITERS = {"csv": CsvWriter, "parquet": ParquetWriter, "npy": NpyWriter}
