"""Drive a headless Chromium over the DevTools protocol (CDP), for the browser tests.

```python
executable = find_or_install_chromium()  # pytest.skip()s, with the reason, when impossible
with Chromium.launch(executable, profile_dir) as browser:
    page = browser.page()
    page.navigate("http://127.0.0.1:8000/docs")
    page.wait_for("document.querySelector('.opblock') !== null")
    page.click(".opblock-summary")
```

Chromium is Debian's ``chromium`` package: when it is missing, :func:`find_or_install_chromium`
installs it with ``apt-get`` (as root, or through passwordless ``sudo``). The protocol is spoken
with the ``websockets`` client the tests already depend on; clicks and typing go through CDP's
input events, as a person's would.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import os
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from websockets.sync.client import ClientConnection, connect

STARTUP_TIMEOUT = 30.0
DEFAULT_TIMEOUT = 15.0
EXECUTABLES = ("chromium", "chromium-browser")


def _find_chromium() -> str | None:
    for name in EXECUTABLES:
        path = shutil.which(name)
        if path:
            return path
    return None


def _apt_get(prefix: list[str], *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    return subprocess.run(
        [*prefix, "apt-get", "-o", "DPkg::Lock::Timeout=300", *args],
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=900,
    )


def find_or_install_chromium() -> str:
    """The path of a Chromium executable, installing Debian's ``chromium`` when there is none.

    Skips the calling test, saying why, when Chromium is missing and cannot be installed
    (no apt-get, neither root nor passwordless sudo, or the install failed).
    """
    found = _find_chromium()
    if found:
        return found
    if shutil.which("apt-get") is None:
        pytest.skip("chromium is not installed and there is no apt-get to install it with")
    if os.geteuid() == 0:
        prefix: list[str] = []
    elif (
        shutil.which("sudo") and subprocess.run(["sudo", "-n", "true"], check=False).returncode == 0
    ):
        prefix = ["sudo", "-n"]
    else:
        pytest.skip("chromium is not installed, and installing it needs root or passwordless sudo")
    install = ("install", "-y", "--no-install-recommends", "chromium")
    result = _apt_get(prefix, *install)
    if result.returncode != 0:  # maybe stale package lists: refresh them and try once more
        _apt_get(prefix, "update")
        result = _apt_get(prefix, *install)
    found = _find_chromium()
    if result.returncode != 0 or found is None:
        output = (result.stdout + result.stderr).strip().splitlines()[-5:]
        pytest.skip(
            "chromium is not installed and `apt-get install chromium` failed: " + " / ".join(output)
        )
    return found


class CDPError(RuntimeError):
    """A DevTools command failed, or the page threw."""


class Page:
    """One tab, driven over its own DevTools WebSocket."""

    def __init__(self, connection: ClientConnection) -> None:
        self.connection = connection
        self.ids = itertools.count(1)
        #: Every event received so far, as ``(method, params)``, oldest first.
        self.events: list[tuple[str, dict[str, Any]]] = []

    def send(self, method: str, timeout: float = DEFAULT_TIMEOUT, **params: Any) -> dict[str, Any]:
        """Run a DevTools command and return its result; events that arrive meanwhile are kept."""
        command_id = next(self.ids)
        self.connection.send(json.dumps({"id": command_id, "method": method, "params": params}))
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise CDPError(f"{method}: no answer in {timeout}s")
            message = json.loads(self.connection.recv(timeout=left))
            if message.get("id") == command_id:
                if "error" in message:
                    raise CDPError(f"{method}: {message['error']}")
                result: dict[str, Any] = message.get("result", {})
                return result
            if "method" in message:
                self.events.append((message["method"], message.get("params", {})))

    def evaluate(self, expression: str, *, user_gesture: bool = False) -> Any:
        """The value of a JavaScript expression in the page (promises are awaited)."""
        result = self.send(
            "Runtime.evaluate",
            expression=expression,
            returnByValue=True,
            awaitPromise=True,
            userGesture=user_gesture,
        )
        if "exceptionDetails" in result:
            details = result["exceptionDetails"]
            text = details.get("exception", {}).get("description") or details.get("text")
            raise CDPError(f"{expression!r} threw: {text}")
        return result["result"].get("value")

    def wait_for(self, expression: str, timeout: float = DEFAULT_TIMEOUT) -> Any:
        """Poll ``expression`` until it is truthy; return its value."""
        deadline = time.monotonic() + timeout
        while True:
            value = self.evaluate(expression)
            if value:
                return value
            if time.monotonic() > deadline:
                raise CDPError(f"still false after {timeout}s: {expression}")
            time.sleep(0.05)

    def navigate(self, url: str) -> None:
        """Open ``url`` and wait for its ``load`` event."""
        self.events.clear()
        self.send("Page.navigate", url=url)
        self.wait_for("document.readyState === 'complete'")

    def _center(self, selector: str) -> tuple[float, float]:
        """The middle of the first element matching ``selector``, scrolled into view."""
        box = self.wait_for(
            f"""(() => {{
                const element = document.querySelector({json.dumps(selector)});
                if (!element) return null;
                element.scrollIntoView({{block: "center"}});
                const rect = element.getBoundingClientRect();
                if (!rect.width || !rect.height) return null;
                return {{x: rect.left + rect.width / 2, y: rect.top + rect.height / 2}};
            }})()"""
        )
        return float(box["x"]), float(box["y"])

    def click(self, selector: str) -> None:
        """A left click in the middle of the first element matching ``selector``."""
        x, y = self._center(selector)
        self.send("Input.dispatchMouseEvent", type="mouseMoved", x=x, y=y)
        for kind in ("mousePressed", "mouseReleased"):
            self.send("Input.dispatchMouseEvent", type=kind, x=x, y=y, button="left", clickCount=1)

    def type_into(self, selector: str, text: str) -> None:
        """Click the field matching ``selector`` and type ``text`` into it."""
        self.click(selector)
        self.send("Input.insertText", text=text)

    def requested_urls(self) -> list[str]:
        """The URLs the page requested since it was opened (``Network.enable`` must be on)."""
        return [
            params["request"]["url"]
            for method, params in self.events
            if method == "Network.requestWillBeSent"
        ]


class Chromium:
    """A headless Chromium process with DevTools on a loopback port."""

    def __init__(self, process: subprocess.Popen[bytes], port: int) -> None:
        self.process = process
        self.base = f"http://127.0.0.1:{port}"
        self.connections = contextlib.ExitStack()

    @classmethod
    @contextlib.contextmanager
    def launch(cls, executable: str, profile_dir: Path) -> Iterator[Chromium]:
        """Start Chromium with a fresh profile in ``profile_dir``; stop it when the block ends."""
        log_path = profile_dir / "chromium.log"
        command = [
            executable,
            "--headless",
            "--no-sandbox",  # root in a container has no user namespace for the sandbox
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--no-first-run",
            "--no-default-browser-check",
            "--disable-extensions",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-proxy-server",
            "--remote-debugging-address=127.0.0.1",
            "--remote-debugging-port=0",
            f"--user-data-dir={profile_dir / 'profile'}",
            "--window-size=1280,900",
            "about:blank",
        ]
        # A port file left by an earlier run in the same profile would name a dead port.
        (profile_dir / "profile" / "DevToolsActivePort").unlink(missing_ok=True)
        with open(log_path, "wb") as log:
            process = subprocess.Popen(
                command, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT
            )
        browser: Chromium | None = None
        try:
            port = cls._wait_for_port(process, profile_dir / "profile", log_path)
            browser = cls(process, port)
            yield browser
        finally:
            if browser is not None:
                browser.connections.close()
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()

    @staticmethod
    def _wait_for_port(process: subprocess.Popen[bytes], profile: Path, log_path: Path) -> int:
        """The DevTools port Chromium picked: the first line of its ``DevToolsActivePort``."""
        active_port = profile / "DevToolsActivePort"
        deadline = time.monotonic() + STARTUP_TIMEOUT
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise CDPError(
                    f"chromium exited at startup:\n{log_path.read_text(errors='replace')}"
                )
            with contextlib.suppress(FileNotFoundError, ValueError, IndexError):
                return int(active_port.read_text().splitlines()[0])
            time.sleep(0.05)
        raise CDPError(f"chromium opened no DevTools port:\n{log_path.read_text(errors='replace')}")

    def page(self) -> Page:
        """A new tab, with the page, runtime and network domains on."""
        response = httpx.put(f"{self.base}/json/new?about:blank", trust_env=False, timeout=10)
        response.raise_for_status()
        target = response.json()
        connection = self.connections.enter_context(
            connect(target["webSocketDebuggerUrl"], proxy=None, max_size=None, open_timeout=10)
        )
        page = Page(connection)
        for domain in ("Page", "Runtime", "Network"):
            page.send(f"{domain}.enable")
        return page
