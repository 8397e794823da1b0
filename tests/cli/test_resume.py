"""``glassbox explain --resume``: a run interrupted after some batches leaves a readable file of
them (exit 130), and resuming it gives the bytes (CSV, NPY) / values (Parquet) of an
uninterrupted run; changed arguments or a changed DATA file refuse to resume."""

from __future__ import annotations

import os
import signal
from pathlib import Path

import numpy as np
import pytest

from cli.cli_files import N_ROWS, read_values, run

pq = pytest.importorskip("pyarrow.parquet")

BATCH = 64
IG = ["--method", "ig", "--n-steps", "8"]
KERNELSHAP = ["--method", "kernelshap", "--n-samples", "32", "--background-rows", "16"]


def explain(files, out, method, *more):
    return run("explain", files["gb"], files["parquet"], *method, "--columns", "a,b,c,d,e",
               "--id-column", "id", "--out", out, "--batch-rows", BATCH, *more)  # fmt: skip


def interrupt_after(monkeypatch, batches):
    """Ctrl-C while the batch after the first ``batches`` ones is being explained."""
    from glassbox.jobs.explain import Job

    explain = Job.explain

    def interrupted(self, first_row, batch):
        if first_row >= batches * BATCH:
            raise KeyboardInterrupt
        return explain(self, first_row, batch)

    monkeypatch.setattr(Job, "explain", interrupted)


def same_output(a: Path, b: Path) -> None:
    if a.suffix == ".parquet":  # the same values, row groups and columns
        assert pq.read_table(a).equals(pq.read_table(b))
        assert [pq.ParquetFile(p).metadata.num_row_groups for p in (a, b)] == [
            -(-N_ROWS // BATCH)
        ] * 2
    assert a.read_bytes() == b.read_bytes() or a.suffix == ".parquet"


@pytest.mark.parametrize(
    ("method", "fmt"),
    [(IG, "parquet"), (IG, "csv"), (KERNELSHAP, "parquet"), (KERNELSHAP, "csv")],
)
def test_resume_gives_the_uninterrupted_result(files, tmp_path, monkeypatch, capsys, method, fmt):
    whole = tmp_path / f"whole.{fmt}"
    assert explain(files, whole, method) == 0
    out = tmp_path / f"out.{fmt}"
    with monkeypatch.context() as patch:
        interrupt_after(patch, 2)
        assert explain(files, out, method) == 130
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and f"holds the {2 * BATCH} rows of 2 complete batches" in err
    assert "--resume" in err
    # the interrupted output is readable: the two complete batches
    np.testing.assert_array_equal(read_values(out), read_values(whole)[: 2 * BATCH])
    assert Path(f"{out}.progress.json").is_file()
    with monkeypatch.context() as patch:  # interrupted again, while resuming
        interrupt_after(patch, 4)
        assert explain(files, out, method, "--resume") == 130
    np.testing.assert_array_equal(read_values(out), read_values(whole)[: 4 * BATCH])
    assert explain(files, out, method, "--resume") == 0
    same_output(out, whole)
    assert not Path(f"{out}.progress.json").exists()
    assert not Path(f"{out}.resume.tmp").exists()


def test_npy_resume_is_byte_identical(files, tmp_path, monkeypatch):
    whole, out = tmp_path / "whole.npy", tmp_path / "out.npy"
    argv = ["explain", files["gb"], files["npy"], *KERNELSHAP, "--batch-rows", BATCH]
    assert run(*argv, "--out", whole) == 0
    with monkeypatch.context() as patch:
        interrupt_after(patch, 3)
        assert run(*argv, "--out", out) == 130
    assert run(*argv, "--out", out, "--resume") == 0
    assert out.read_bytes() == whole.read_bytes()


def test_csv_batch_cut_in_half_is_dropped_on_resume(files, tmp_path, monkeypatch):
    """A run killed in the middle of a write: the bytes after the last recorded batch go."""
    whole, out = tmp_path / "whole.csv", tmp_path / "out.csv"
    assert explain(files, whole, IG) == 0
    with monkeypatch.context() as patch:
        interrupt_after(patch, 2)
        assert explain(files, out, IG) == 130
    with open(out, "ab") as handle:
        handle.write(b"0.1,0.2,0.")  # half a row, as a killed writer would leave
    assert explain(files, out, IG, "--resume") == 0
    assert out.read_bytes() == whole.read_bytes()


def test_resume_refuses_changed_arguments_or_data(files, tmp_path, monkeypatch, capsys):
    data = tmp_path / "data.parquet"
    data.write_bytes(files["parquet"].read_bytes())
    own = {**files, "parquet": data}
    out = tmp_path / "out.parquet"
    with monkeypatch.context() as patch:
        interrupt_after(patch, 1)
        assert explain(own, out, IG) == 130
    capsys.readouterr()
    assert explain(own, out, ["--method", "ig", "--n-steps", "9"], "--resume") == 2
    err = capsys.readouterr().err
    assert (
        err.startswith("glassbox explain: error: --resume: the arguments differ")
        and "options" in err
    )
    assert explain(own, out, IG, "--batch-rows", "32", "--resume") == 2
    assert "batch_rows" in capsys.readouterr().err
    stat = data.stat()
    os.utime(data, ns=(stat.st_atime_ns, stat.st_mtime_ns + 10**9))  # DATA touched
    assert explain(own, out, IG, "--resume") == 2
    err = capsys.readouterr().err
    assert "--resume: DATA" in err and "changed since the interrupted run" in err
    assert err.count("\n") == 1


def test_resume_without_progress_file(files, tmp_path, capsys):
    out = tmp_path / "out.csv"
    assert explain(files, out, IG, "--resume") == 0  # nothing yet: starts at the beginning
    assert explain(files, out, IG, "--resume") == 2  # finished: nothing to resume
    assert "nothing to resume" in capsys.readouterr().err


def test_ctrl_c_during_a_write_waits_for_the_batch():
    from glassbox.jobs.explain import _held_interrupts

    done = []
    with pytest.raises(KeyboardInterrupt), _held_interrupts():
        os.kill(os.getpid(), signal.SIGINT)
        done.append("written")  # the block runs to its end first
    assert done == ["written"]
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
