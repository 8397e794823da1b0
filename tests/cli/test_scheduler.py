"""``glassbox explain --scheduler ADDRESS``: the batches explained on a Dask cluster give the file
a local run writes, bit for bit (seeded KernelShap, and a classifier's predicted targets)."""

from __future__ import annotations

import pytest

from cli.cli_files import run

pytest.importorskip("distributed")
pq = pytest.importorskip("pyarrow.parquet")


@pytest.fixture(scope="module")
def scheduler():
    from distributed import LocalCluster

    # worker threads in this process: the path is the same as over TCP to worker processes
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=False) as cluster:
        yield cluster.scheduler_address


@pytest.mark.parametrize(
    "method",
    [
        ["--method", "kernelshap", "--n-samples", "32", "--background-rows", "16", "--seed", "2"],
        ["--method", "lime", "--n-samples", "64", "--background-rows", "30", "--seed", "1"],
    ],
)
def test_a_cluster_writes_the_local_file(files, tmp_path, scheduler, method):
    local, remote = tmp_path / "local.parquet", tmp_path / "remote.parquet"
    common = [*method, "--columns", "a,b,c,d,e", "--id-column", "id", "--batch-rows", "40"]
    assert run("explain", files["gb"], files["parquet"], *common, "--out", local) == 0
    assert run("explain", files["gb"], files["parquet"], *common, "--out", remote,
               "--scheduler", scheduler) == 0  # fmt: skip
    assert pq.read_table(remote).equals(pq.read_table(local))


def test_predicted_targets_travel_with_each_batch(files, tmp_path, scheduler):
    """A three-class TorchScript model without --target: each row's predicted class is found
    here, sent with its batch and written after the values."""
    import warnings

    local, remote = tmp_path / "local.csv", tmp_path / "remote.csv"
    common = ["--method", "saliency", "--columns", "a,b,c,d,e", "--batch-rows", "50"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the TorchScript model goes through its ONNX export
        assert run("explain", files["pt"], files["csv"], *common, "--out", local) == 0
        assert run("explain", files["pt"], files["csv"], *common, "--out", remote,
                   "--scheduler", scheduler) == 0  # fmt: skip
    assert remote.read_bytes() == local.read_bytes()
    assert local.read_text().splitlines()[0].endswith(',"target"')


def test_no_scheduler_at_the_address_is_one_clear_line(files, tmp_path, capsys):
    code = run("explain", files["gb"], files["csv"], "--method", "saliency", "--columns",
               "a,b,c,d,e", "--out", tmp_path / "o.csv", "--scheduler",
               "tcp://127.0.0.1:9")  # fmt: skip
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1
    assert "--scheduler: no Dask scheduler answered at 'tcp://127.0.0.1:9'" in err
