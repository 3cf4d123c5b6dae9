"""Headless Chromium driven over the DevTools protocol through ``--remote-debugging-pipe``.

No websocket library and no node: Chromium reads NUL-terminated JSON commands on fd 3 and writes
replies and events on fd 4. Used to exercise dashboard JavaScript (the Create Behaviour Profile
action) in a real browser and to take screenshots, since no Grafana server can run here.
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import queue
import shutil
import subprocess
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from temporal_dsql_standins._process import StandinError, stop_pid

__all__ = ["Browser", "BrowserError", "chromium_binary"]

_FLAGS = (
    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-dev-shm-usage", "--no-first-run", "--no-default-browser-check", "--mute-audio",
    "--disable-extensions", "--disable-sync", "--hide-scrollbars", "--remote-debugging-pipe",
)


class BrowserError(StandinError):
    """Chromium is missing, crashed, or a DevTools command failed."""


def chromium_binary() -> str:
    for candidate in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(candidate)
        if found:
            return found
    raise BrowserError("chromium not found; run `bash scripts/ensure-system-deps.sh` (as root) or "
                       "`sudo apt-get install -y --no-install-recommends chromium`")


class Browser:
    """One headless Chromium with one page, attached in flat session mode."""

    def __init__(self, *, width: int = 1280, height: int = 800, timeout: float = 20.0) -> None:
        self.timeout = timeout
        self._profile = Path(tempfile.mkdtemp(prefix="chromium-profile-"))
        to_child_r, self._to_child = os.pipe()
        self._from_child, from_child_w = os.pipe()
        argv = [chromium_binary(), *_FLAGS, f"--user-data-dir={self._profile}",
                f"--window-size={width},{height}", "about:blank"]
        # The wrapper script execs the real binary; fds 3/4 are inherited through it.
        script = f'exec "$@" 3<&{to_child_r} 4>&{from_child_w}'
        self._process = subprocess.Popen(
            ["bash", "-c", script, "chromium", *argv], pass_fds=(to_child_r, from_child_w),
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        os.close(to_child_r)
        os.close(from_child_w)
        self._next_id = 0
        self._replies: dict[int, dict[str, Any]] = {}
        self._events: queue.Queue[dict[str, Any]] = queue.Queue()
        self._lock = threading.Condition()
        self._reader = threading.Thread(target=self._read_loop, daemon=True)
        self._reader.start()
        target = self.send("Target.createTarget", {"url": "about:blank"})["targetId"]
        self.session = self.send("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
        self.send("Page.enable", session=True)
        self.send("Runtime.enable", session=True)
        self.console: list[str] = []

    def _read_loop(self) -> None:
        buffer = b""
        while True:
            try:
                chunk = os.read(self._from_child, 65536)
            except OSError:
                chunk = b""
            if not chunk:
                with self._lock:
                    self._replies[-1] = {"error": {"message": "chromium closed the pipe"}}
                    self._lock.notify_all()
                return
            buffer += chunk
            while b"\0" in buffer:
                raw, buffer = buffer.split(b"\0", 1)
                message = json.loads(raw)
                if "id" in message:
                    with self._lock:
                        self._replies[message["id"]] = message
                        self._lock.notify_all()
                else:
                    self._events.put(message)

    def send(self, method: str, params: dict[str, Any] | None = None, *, session: bool = False) -> dict[str, Any]:
        self._next_id += 1
        command: dict[str, Any] = {"id": self._next_id, "method": method, "params": params or {}}
        if session:
            command["sessionId"] = self.session
        os.write(self._to_child, json.dumps(command).encode() + b"\0")
        deadline = time.monotonic() + self.timeout
        with self._lock:
            while self._next_id not in self._replies:
                if -1 in self._replies:
                    raise BrowserError(f"{method}: chromium exited")
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise BrowserError(f"{method}: no reply within {self.timeout:.0f}s")
                self._lock.wait(remaining)
            reply = self._replies.pop(self._next_id)
        if "error" in reply:
            raise BrowserError(f"{method}: {reply['error'].get('message')}")
        return dict(reply.get("result", {}))

    def wait_event(self, method: str, timeout: float | None = None) -> dict[str, Any]:
        deadline = time.monotonic() + (timeout or self.timeout)
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise BrowserError(f"no {method} event within the timeout")
            try:
                event = self._events.get(timeout=remaining)
            except queue.Empty:
                continue
            if event.get("method") == "Runtime.consoleAPICalled":
                args = event["params"].get("args", [])
                self.console.append(" ".join(str(a.get("value", a.get("description", ""))) for a in args))
            if event.get("method") == method:
                return dict(event.get("params", {}))

    def navigate(self, url: str) -> None:
        self.send("Page.navigate", {"url": url}, session=True)
        self.wait_event("Page.loadEventFired")

    def evaluate(self, expression: str) -> Any:
        result = self.send("Runtime.evaluate", {"expression": expression, "awaitPromise": True,
                                                "returnByValue": True}, session=True)
        if "exceptionDetails" in result:
            details = result["exceptionDetails"]
            raise BrowserError(f"page script failed: {details.get('exception', {}).get('description', details)}")
        return result.get("result", {}).get("value")

    def wait_for(self, expression: str, timeout: float | None = None) -> Any:
        """Poll a JavaScript expression until it is truthy; return its value."""
        deadline = time.monotonic() + (timeout or self.timeout)
        while time.monotonic() < deadline:
            value = self.evaluate(expression)
            if value:
                return value
            time.sleep(0.05)
        raise BrowserError(f"`{expression}` stayed falsy for {timeout or self.timeout:.0f}s")

    def screenshot(self, path: Path, *, clip: tuple[int, int] | None = None) -> Path:
        """PNG of the page; ``clip`` = (width, height) from the top-left corner."""
        params: dict[str, Any] = {"format": "png"}
        if clip is not None:
            params["clip"] = {"x": 0, "y": 0, "width": clip[0], "height": clip[1], "scale": 1}
            params["captureBeyondViewport"] = True
        data = self.send("Page.captureScreenshot", params, session=True)["data"]
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(base64.b64decode(data))
        return path

    def close(self) -> None:
        with contextlib.suppress(BrowserError, OSError):
            self.send("Browser.close")
        stop_pid(self._process.pid, timeout=5)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self._process.wait(timeout=1)
        for fd in (self._to_child, self._from_child):
            with contextlib.suppress(OSError):
                os.close(fd)
        shutil.rmtree(self._profile, ignore_errors=True)

    def __enter__(self) -> Browser:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
