"""Files the command-line tests share: a small network saved by glassbox and as ONNX, and one
table of data (five features, an int ``id`` and a string ``name``) as CSV, Parquet and NPY."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pytest

from cli.cli_files import FEATURES, N_ROWS


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
