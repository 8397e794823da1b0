"""Progress of long core calls: a bar on stderr or a callable, fed from the core's counters.

Every core call runs with a ``_core.JobControl`` (see ``src/cpp/core/control.hpp``): the workers
advance its ``done`` / ``total`` counters between chunks and poll its interrupt flag, which
Ctrl-C sets. While the call runs with the GIL released, a small Python thread reads the counters
and reports them as rows of the caller's data:

- ``progress=True``: a bar on stderr (``tqdm`` when it is installed, else one plain line
  rewritten in place) with the rows done, the rate and the time left;
- ``progress=callable``: ``callable(done_rows, total_rows)`` about ten times a second and once
  at the end;
- ``progress=None`` (the default): the bar, but only when stderr is an interactive terminal and
  the job is still running after two seconds with more than a second left;
- ``progress=False``: nothing.

Examples
--------
>>> import numpy as np, glassbox as gb
>>> model = gb.wrap(lambda X: X.sum(axis=1), n_inputs=3)
>>> seen = []
>>> exp = gb.KernelShap(model, background=np.zeros(3), progress=lambda d, t: seen.append((d, t)))
>>> _ = exp(np.ones((4, 3), np.float32))
>>> seen[-1]
(4, 4)
"""

from __future__ import annotations

import contextlib
import sys
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

#: What ``progress=`` accepts.
ProgressArg = bool | Callable[[int, int], object] | None

_INTERVAL = 0.1  # seconds between two reads of the counters
_AUTO_AFTER = 2.0  # a bar appears (progress=None) for jobs still running after this long


def check_progress(progress: object) -> ProgressArg:
    """``progress`` checked: None, True, False or a callable of (done, total).

    >>> check_progress(True), check_progress(None)
    (True, None)
    """
    if progress is None or isinstance(progress, bool) or callable(progress):
        return progress  # type: ignore[return-value]
    raise TypeError(
        "progress: expected True (a bar on stderr), False, None (a bar for long jobs in a "
        f"terminal) or a callable of (done, total); got {type(progress).__name__}"
    )


class _Bar:
    """A progress line on stderr: tqdm when installed, else a plain line rewritten in place."""

    def __init__(self, total: int, what: str) -> None:
        self.total, self.what, self.start = total, what, time.perf_counter()
        try:
            from tqdm.auto import tqdm

            self.tqdm: Any = tqdm(total=total, desc=what, unit="row", leave=False)
        except ImportError:
            self.tqdm = None

    def update(self, done: int) -> None:
        if self.tqdm is not None:
            self.tqdm.update(done - self.tqdm.n)
            return
        elapsed = time.perf_counter() - self.start
        rate = done / elapsed if elapsed > 0 else 0.0
        left = (self.total - done) / rate if rate > 0 else float("inf")
        eta = f"{left:.0f} s left" if left != float("inf") else "..."
        line = f"\r{self.what}: {done}/{self.total} rows ({100 * done / max(self.total, 1):.0f}%)"
        sys.stderr.write(f"{line}, {rate:.1f} rows/s, {eta}  ")
        sys.stderr.flush()

    def close(self) -> None:
        if self.tqdm is not None:
            self.tqdm.close()
        else:
            sys.stderr.write("\n")
            sys.stderr.flush()


class _Monitor(threading.Thread):
    """Reads a JobControl's counters while a core call runs and reports them as rows."""

    def __init__(self, control: Any, progress: ProgressArg, rows: int, what: str) -> None:
        super().__init__(name="glassbox-progress", daemon=True)
        self.control, self.progress, self.rows, self.what = control, progress, rows, what
        self.finished = threading.Event()
        self.error: BaseException | None = None  # raised by the callable: stops the job
        self.bar: _Bar | None = None
        self.start_time = time.perf_counter()
        self.last = -1

    def rows_done(self) -> int:
        total = self.control.total
        return 0 if total <= 0 else min(self.rows, round(self.rows * self.control.done / total))

    def report(self, done: int) -> None:
        if done == self.last:
            return
        self.last = done
        if callable(self.progress) and not isinstance(self.progress, bool):
            self.progress(done, self.rows)
            return
        if self.bar is None and self.progress is None and not self._worth_a_bar(done):
            return
        if self.bar is None:
            self.bar = _Bar(self.rows, self.what)
        self.bar.update(done)

    def _worth_a_bar(self, done: int) -> bool:
        """progress=None: a terminal, and a job past two seconds with over a second left."""
        elapsed = time.perf_counter() - self.start_time
        if elapsed < _AUTO_AFTER or not _on_terminal():
            return False
        return done == 0 or elapsed * (self.rows - done) / done > 1.0

    def run(self) -> None:
        try:
            while not self.finished.wait(_INTERVAL):
                self.report(self.rows_done())
        except BaseException as error:
            self.error = error
            self.control.interrupt()  # a callable that raises cancels the job

    def stop(self, completed: bool) -> None:
        self.finished.set()
        self.join()
        if completed and self.error is None:
            self.report(self.rows)
        if self.bar is not None:
            self.bar.close()


def _on_terminal() -> bool:
    try:
        return sys.stderr is not None and sys.stderr.isatty()
    except (AttributeError, ValueError):  # a replaced or closed stderr
        return False


@contextlib.contextmanager
def tracked(options: Any, progress: ProgressArg, rows: int, what: str) -> Iterator[Any]:
    """Give ``options`` (a ``_core.RunOptions``) a fresh ``JobControl`` and report its progress,
    as ``rows`` rows of ``what``, while the body runs the core call.

    Examples
    --------
    >>> from glassbox import _core
    >>> options = _core.RunOptions()
    >>> with tracked(options, False, rows=10, what="job") as control:
    ...     options.control is control
    True
    """
    from glassbox import _core

    control = _core.JobControl()
    options.control = control
    monitor = None
    # progress=None draws a bar on a terminal only: elsewhere no thread is started (a thread
    # start and join per call is most of a small call's time on a busy machine)
    if progress is not False and rows > 0 and (progress is not None or _on_terminal()):
        monitor = _Monitor(control, progress, rows, what)
        monitor.start()
    completed = False
    try:
        yield control
        completed = True
    except KeyboardInterrupt:
        if monitor is None or not control.interrupted or monitor.error is None:
            raise
    finally:
        if monitor is not None:
            monitor.stop(completed)
    if monitor is not None and monitor.error is not None:  # the callable cancelled the job
        raise monitor.error


__all__ = ["ProgressArg", "check_progress", "tracked"]
