"""``glassbox explain`` at scale: peak memory and time of the command line on a large Parquet file.

Run ``python bench/bench_cli.py [--rows 200000] [--batch-rows 20000]`` from the repository root.
It builds, in a temporary directory:

- a small torch MLP (16-64-64-1, Tanh, seed 0) exported to ONNX (``torch.onnx.export``,
  ``dynamo=False``, a dynamic batch axis);
- a Parquet file of ``--rows`` standard-normal float32 rows (16 columns f0..f15) and an int64
  ``id`` column, written in row groups of 50,000 rows;

then runs ``glassbox explain model.onnx data.parquet --method ig --id-column id --out
out.parquet --batch-rows B`` in a subprocess (``glassbox.cli.main``, as ``python -m glassbox``)
and reports its peak resident memory (its VmHWM, Linux) and wall time, for the whole file
(``--rows``, 10x the batch by default) and for a file of one batch, to show that peak memory
follows the batch, not the file.
Last, it checks the written values against the Python API
(``gb.IntegratedGradients(gb.from_onnx(model))(X[rows], target=0)``) on 1,000 random rows.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

N_FEATURES = 16
ROOT = Path(__file__).resolve().parents[1]


def build_model(folder: Path) -> Path:
    import torch

    torch.manual_seed(0)
    net = torch.nn.Sequential(
        torch.nn.Linear(N_FEATURES, 64),
        torch.nn.Tanh(),
        torch.nn.Linear(64, 64),
        torch.nn.Tanh(),
        torch.nn.Linear(64, 1),
    ).eval()
    path = folder / "model.onnx"
    torch.onnx.export(
        net,
        (torch.zeros(2, N_FEATURES),),
        str(path),
        dynamo=False,
        input_names=["x"],
        output_names=["y"],
        dynamic_axes={"x": {0: "batch"}, "y": {0: "batch"}},
    )
    return path


def build_data(folder: Path, rows: int, name: str) -> Path:
    import pyarrow as pa
    import pyarrow.parquet as pq

    path = folder / name
    schema = pa.schema([(f"f{j}", pa.float32()) for j in range(N_FEATURES)] + [("id", pa.int64())])
    rng = np.random.default_rng(0)
    with pq.ParquetWriter(path, schema) as writer:
        for first in range(0, rows, 50_000):
            n = min(50_000, rows - first)
            X = rng.normal(size=(n, N_FEATURES)).astype(np.float32)
            columns = [pa.array(X[:, j]) for j in range(N_FEATURES)]
            columns.append(pa.array(np.arange(first, first + n, dtype=np.int64)))
            writer.write_table(pa.Table.from_arrays(columns, schema=schema))
    return path


#: The child: ``glassbox.cli.main`` (what ``python -m glassbox`` runs), then its own peak
#: resident memory (VmHWM: the high-water mark of this process image since its exec; the
#: ``ru_maxrss`` a parent reads with ``wait4`` may include the parent's own memory at the fork).
CHILD = """
import sys
from glassbox.cli import main
code = main(sys.argv[1:])
with open("/proc/self/status") as status:
    peak = next(int(line.split()[1]) for line in status if line.startswith("VmHWM"))
print(f"peak_kib={peak}", file=sys.stderr)
sys.exit(code)
"""


def run_cli(model: Path, data: Path, out: Path, batch_rows: int) -> tuple[float, float]:
    """(peak RSS in MB, seconds) of one ``glassbox explain`` subprocess."""
    command = [
        sys.executable, "-c", CHILD, "explain", str(model), str(data), "--method", "ig",
        "--id-column", "id", "--out", str(out), "--batch-rows", str(batch_rows), "--no-progress",
    ]  # fmt: skip
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src" / "python")}
    start = time.perf_counter()
    child = subprocess.run(command, env=env, capture_output=True, text=True)
    seconds = time.perf_counter() - start
    if child.returncode != 0:
        raise SystemExit(f"glassbox explain failed ({child.returncode}): {child.stderr}")
    peak = next(line for line in child.stderr.splitlines() if line.startswith("peak_kib="))
    return int(peak.split("=")[1]) / 1024, seconds


def check_values(model: Path, data: Path, out: Path, n_check: int = 1000) -> float:
    """Max |CLI - Python API| over ``n_check`` random rows (0.0: bit for bit)."""
    import pyarrow.parquet as pq

    import glassbox as gb

    table = pq.read_table(data)
    written = pq.read_table(out)
    names = [f"f{j}" for j in range(N_FEATURES)]
    assert written.column_names == [*names, "id"], written.column_names
    rows = np.sort(np.random.default_rng(1).choice(table.num_rows, n_check, replace=False))
    X = np.column_stack([table.column(n).to_numpy()[rows] for n in names])
    expected = gb.IntegratedGradients(gb.from_onnx(str(model)))(X, target=0).values
    got = np.column_stack([written.column(n).to_numpy()[rows] for n in names])
    assert np.array_equal(
        written.column("id").to_numpy()[rows], table.column("id").to_numpy()[rows]
    )
    return float(np.abs(got - expected).max())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--batch-rows", type=int, default=20_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        model = build_model(folder)
        big = build_data(folder, args.rows, "data.parquet")
        small = build_data(folder, args.batch_rows, "one_batch.parquet")
        print(
            f"glassbox explain model.onnx data.parquet --method ig (MLP {N_FEATURES}-64-64-1, "
            f"batch {args.batch_rows:,} rows; machine shared with other jobs)"
        )
        print(f"{'file rows':>12} {'peak RSS MB':>12} {'seconds':>9} {'rows/s':>10}")
        for data, rows in ((small, args.batch_rows), (big, args.rows)):
            out = folder / f"out_{rows}.parquet"
            rss, seconds = run_cli(model, data, out, args.batch_rows)
            print(f"{rows:>12,} {rss:>12.0f} {seconds:>9.2f} {rows / seconds:>10,.0f}")
        gap = check_values(model, big, folder / f"out_{args.rows}.parquet")
        print(f"max |CLI - Python API| over 1,000 random rows: {gap:.3g}")


if __name__ == "__main__":
    main()
