"""Files the command-line tests share: a small network saved by glassbox and as ONNX, and one
table of data (five features, an int ``id`` and a string ``name``) as CSV, Parquet and NPY."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pytest

FEATURES = ["a", "b", "c", "d", "e"]
N_ROWS = 330  # not a multiple of the batches the tests use: the last batch is short


@pytest.fixture(scope="session")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    pd = pytest.importorskip("pandas")
    pytest.importorskip("pyarrow")
    torch = pytest.importorskip("torch")
    import glassbox as gb

    folder = tmp_path_factory.mktemp("cli")
    torch.manual_seed(0)
    net = torch.nn.Sequential(
        torch.nn.Linear(5, 12), torch.nn.Tanh(), torch.nn.Linear(12, 1)
    ).eval()
    gb.from_torch(net).save(folder / "mlp.gb")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the legacy exporter's and TorchScript's deprecation
        classes = torch.nn.Sequential(
            torch.nn.Linear(5, 8), torch.nn.ReLU(), torch.nn.Linear(8, 3)
        ).eval()
        torch.jit.save(torch.jit.script(classes), str(folder / "classes.pt"))
        torch.onnx.export(
            net,
            (torch.zeros(2, 5),),
            str(folder / "mlp.onnx"),
            dynamo=False,
            input_names=["x"],
            output_names=["y"],
            dynamic_axes={"x": {0: "batch"}, "y": {0: "batch"}},
        )
    rng = np.random.default_rng(0)
    X = rng.normal(size=(N_ROWS, 5)).astype(np.float32)
    frame = pd.DataFrame(X, columns=FEATURES)
    frame.insert(0, "id", np.arange(1000, 1000 + N_ROWS))
    frame["name"] = [f"row{i}" for i in range(N_ROWS)]
    frame.to_csv(folder / "data.csv", index=False)
    frame.to_parquet(folder / "data.parquet", row_group_size=128)
    np.save(folder / "data.npy", X)
    return {
        "folder": folder,
        "gb": folder / "mlp.gb",
        "onnx": folder / "mlp.onnx",
        "pt": folder / "classes.pt",
        "csv": folder / "data.csv",
        "parquet": folder / "data.parquet",
        "npy": folder / "data.npy",
        "X": X,  # type: ignore[dict-item]
        "net": net,  # type: ignore[dict-item]
        "classes": classes,  # type: ignore[dict-item]
    }


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
