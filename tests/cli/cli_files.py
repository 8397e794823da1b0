"""What the command-line tests share: the data's columns and size, running ``glassbox.cli.main``
and reading an output file's values (the files themselves are the ``files`` fixture of
``conftest.py``)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

FEATURES = ["a", "b", "c", "d", "e"]
N_ROWS = 330  # not a multiple of the batches the tests use: the last batch is short


def run(*argv: object) -> int:
    """``glassbox.cli.main`` on ``argv`` (paths as strings)."""
    from glassbox.cli import main

    return main([str(a) for a in argv])


def read_values(path: Path, columns: list[str] = FEATURES) -> np.ndarray:
    """The attribution columns of an output file (rows x columns), as written."""
    if path.suffix == ".npy":
        return np.load(path)
    import pyarrow.csv
    import pyarrow.parquet

    if path.suffix == ".parquet":
        table = pyarrow.parquet.read_table(path)
    else:  # Arrow parses the shortest round-trip text of each number back exactly
        table = pyarrow.csv.read_csv(path)
    return np.column_stack([table.column(name).to_numpy() for name in columns])


def assert_values(path: Path, expected: np.ndarray, columns: list[str] = FEATURES) -> None:
    """The file's values are ``expected``'s, bit for bit (in ``expected``'s precision)."""
    got = read_values(path, columns)
    np.testing.assert_array_equal(got.astype(expected.dtype), expected)
