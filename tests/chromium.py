"""Headless Chromium driven over the DevTools protocol, with no dependency beyond the standard
library: ``--remote-debugging-pipe`` makes Chromium read JSON commands, each ended by a NUL byte,
from its fd 3 and write replies and events the same way to its fd 4.

``open_page(path)`` loads a local HTML file in a fresh headless Chromium and returns what a test
checks: every URL the page requested, the value of a JavaScript expression, and a full-page
screenshot as RGBA pixels. Every wait has a deadline (a hung browser fails the test within
``timeout`` seconds) and the browser process is always killed.

Chromium is found as ``$CHROMIUM`` or ``chromium`` / ``chromium-browser`` / ``google-chrome`` on
PATH (Debian's ``chromium`` package: ``.ci/run`` installs it); without it ``open_page`` raises
``FileNotFoundError`` saying so: the browser tests fail, never skip.
"""

from __future__ import annotations

import base64
import fcntl
import io
import json
import os
import select
import shutil
import signal
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

#: The names Chromium goes by on PATH.
NAMES = ("chromium", "chromium-browser", "google-chrome")
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--no-default-browser-check",
    "--disable-extensions",
    "--disable-background-networking",
    "--disable-breakpad",
    "--disable-crash-reporter",
    "--remote-debugging-pipe",
    "--host-resolver-rules=MAP * ~NOTFOUND",  # a guard: no host name resolves
    "--window-size=1280,900",
)


def find_chromium() -> str:
    """The Chromium executable, or FileNotFoundError saying how to install it."""
    given = os.environ.get("CHROMIUM")
    if given:
        if not os.access(given, os.X_OK):
            raise FileNotFoundError(f"CHROMIUM={given!r} is not an executable file")
        return given
    for name in NAMES:
        found = shutil.which(name)
        if found:
            return found
    raise FileNotFoundError(
        "headless Chromium is needed by the report's browser test and was not found (looked for "
        f"$CHROMIUM and {', '.join(NAMES)} on PATH): install it, e.g. `apt-get install chromium` "
        "(.ci/run does), or set CHROMIUM=/path/to/chrome"
    )


@dataclass
class PageResult:
    """What ``open_page`` saw: the URLs requested, the expression's value, the screenshot."""

    requests: list[str] = field(default_factory=list)
    value: Any = None
    pixels: np.ndarray | None = None
    console: list[str] = field(default_factory=list)
    dialogs: list[str] = field(default_factory=list)


class DevTools:
    """One Chromium process and its DevTools pipe (see the module docstring)."""

    def __init__(self, executable: str, timeout: float) -> None:
        self.deadline = time.monotonic() + timeout
        self.profile = tempfile.mkdtemp(prefix="gb-chromium-")
        to_child, self._to_browser = os.pipe()  # Chromium reads commands from fd 3
        self._from_browser, from_child = os.pipe()  # and writes replies to fd 4
        # above fd 10 so that the child's dup2 onto 3 and 4 never overwrites one of them
        ends = [fcntl.fcntl(fd, fcntl.F_DUPFD_CLOEXEC, 10) for fd in (to_child, from_child)]
        os.close(to_child)
        os.close(from_child)

        def child_fds() -> None:
            os.dup2(ends[0], 3)
            os.dup2(ends[1], 4)

        try:
            self.process = subprocess.Popen(
                [executable, *FLAGS, f"--user-data-dir={self.profile}", "about:blank"],
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                pass_fds=(3, 4),
                preexec_fn=child_fds,  # two dup2 calls, nothing else
                start_new_session=True,  # its own process group: close() kills every helper
            )
        finally:
            for fd in ends:
                os.close(fd)
        self._buffer = b""
        self._next_id = 0
        self.events: list[dict[str, Any]] = []

    def close(self) -> None:
        """Kill the browser and its helper processes (its own process group, whatever state
        they are in) and remove its profile."""
        if self.process.poll() is None:
            try:  # politely first: the browser then stops its helpers itself
                self.deadline = time.monotonic() + 3
                self.send("Browser.close")
                self.process.wait(timeout=3)
            except (OSError, RuntimeError, TimeoutError, subprocess.TimeoutExpired):
                pass
        try:
            os.killpg(self.process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        try:
            self.process.wait(timeout=10)
        finally:
            for fd in (self._to_browser, self._from_browser):
                try:
                    os.close(fd)
                except OSError:
                    pass
            for _ in range(5):  # a dying helper may still write into the profile
                shutil.rmtree(self.profile, ignore_errors=True)
                if not os.path.exists(self.profile):
                    break
                time.sleep(0.2)

    def _left(self, what: str) -> float:
        left = self.deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError(f"headless Chromium: no answer in time while {what}")
        return left

    def _message(self, what: str) -> dict[str, Any]:
        """The next message from the browser (waits until the deadline)."""
        while b"\0" not in self._buffer:
            ready, _, _ = select.select([self._from_browser], [], [], self._left(what))
            if not ready:
                continue
            chunk = os.read(self._from_browser, 1 << 20)
            if not chunk:
                raise RuntimeError(f"headless Chromium closed its pipe while {what}")
            self._buffer += chunk
        message, _, self._buffer = self._buffer.partition(b"\0")
        return json.loads(message)

    def send(self, method: str, session: str | None = None, **params: Any) -> dict[str, Any]:
        """Send one command and return its result (events received meanwhile are kept)."""
        self._next_id += 1
        command: dict[str, Any] = {"id": self._next_id, "method": method, "params": params}
        if session:
            command["sessionId"] = session
        data = json.dumps(command).encode() + b"\0"
        while data:
            _, ready, _ = select.select([], [self._to_browser], [], self._left(method))
            if ready:
                data = data[os.write(self._to_browser, data) :]
        while True:
            message = self._message(method)
            if message.get("id") == self._next_id:
                if "error" in message:
                    raise RuntimeError(f"headless Chromium: {method} failed: {message['error']}")
                return message.get("result", {})
            self.events.append(message)

    def wait_for(self, event: str) -> dict[str, Any]:
        """The first event named ``event`` (kept or still to come)."""
        for message in self.events:
            if message.get("method") == event:
                return message
        while True:
            message = self._message(f"waiting for {event}")
            self.events.append(message)
            if message.get("method") == event:
                return message


def decode_png(data: bytes) -> np.ndarray:
    """RGBA (or RGB) pixels of a PNG, through matplotlib."""
    import matplotlib.pyplot as plt

    return plt.imread(io.BytesIO(data), format="png")


def open_page(path: str | os.PathLike[str], expression: str, timeout: float = 45.0) -> PageResult:
    """Load the file ``path`` in headless Chromium; return the URLs it requested, the value of
    the JavaScript ``expression`` once the load event fired, and a full-page screenshot."""
    url = Path(path).resolve().as_uri()
    browser = DevTools(find_chromium(), timeout)
    try:
        target = browser.send("Target.createTarget", url="about:blank")["targetId"]
        session = browser.send("Target.attachToTarget", targetId=target, flatten=True)["sessionId"]
        for domain in ("Network.enable", "Page.enable", "Runtime.enable"):
            browser.send(domain, session)
        browser.events.clear()  # about:blank's own events
        browser.send("Page.navigate", session, url=url)
        browser.wait_for("Page.loadEventFired")
        result = PageResult()
        evaluated = browser.send(
            "Runtime.evaluate", session, expression=expression, returnByValue=True
        )
        result.value = evaluated.get("result", {}).get("value")
        size = browser.send("Page.getLayoutMetrics", session)["cssContentSize"]
        clip = {"x": 0, "y": 0, "width": size["width"], "height": size["height"], "scale": 1}
        shot = browser.send(
            "Page.captureScreenshot",
            session,
            format="png",
            clip=clip,
            captureBeyondViewport=True,
        )
        result.pixels = decode_png(base64.b64decode(shot["data"]))
        for message in browser.events:
            params = message.get("params", {})
            if message.get("method") == "Network.requestWillBeSent":
                result.requests.append(params["request"]["url"])
            elif message.get("method") == "Runtime.consoleAPICalled":
                result.console.append(json.dumps(params.get("args")))
            elif message.get("method") == "Page.javascriptDialogOpening":
                result.dialogs.append(params.get("message", ""))
        return result
    finally:
        browser.close()
