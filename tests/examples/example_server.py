"""Serve an example with a real ``uvicorn examples.NAME:app`` on 127.0.0.1, for the tests here.

```python
with UvicornServer.run("examples.echo:app", log_path) as server:
    httpx.get(server.url + "/")
assert server.stopped_gracefully()  # stopped with SIGTERM on the way out, also on failure
```

The command is the one ``make serve`` runs, from the project root, on a free port.
"""

from __future__ import annotations

import contextlib
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx

PROJECT_ROOT = Path(__file__).resolve().parents[2]
HOST = "127.0.0.1"
STARTUP_TIMEOUT = 20.0
STOP_TIMEOUT = 10.0


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        port: int = sock.getsockname()[1]
        return port


class UvicornServer:
    """One ``uvicorn`` process; its output goes to ``log_path``."""

    def __init__(self, app: str, log_path: Path) -> None:
        self.app = app
        self.log_path = log_path
        self.port = free_port()
        self.url = f"http://{HOST}:{self.port}"
        self.returncode: int | None = None
        command = [
            sys.executable,
            "-m",
            "uvicorn",
            app,
            "--host",
            HOST,
            "--port",
            str(self.port),
            "--lifespan",
            "on",
        ]
        with open(log_path, "wb") as log:
            self.process = subprocess.Popen(
                command, cwd=PROJECT_ROOT, stdout=log, stderr=subprocess.STDOUT
            )

    @classmethod
    @contextlib.contextmanager
    def run(cls, app: str, log_path: Path) -> Iterator[UvicornServer]:
        """Start the server, wait until it answers, and stop it when the block ends."""
        server = cls(app, log_path)
        try:
            server.wait_until_ready()
            yield server
        finally:
            server.stop()

    def output(self) -> str:
        """What the server printed so far."""
        return self.log_path.read_text(errors="replace")

    def wait_until_ready(self) -> None:
        deadline = time.monotonic() + STARTUP_TIMEOUT
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"uvicorn exited at startup:\n{self.output()}")
            try:
                httpx.get(self.url + "/", timeout=1.0)
                return
            except httpx.TransportError:
                time.sleep(0.05)
        raise RuntimeError(f"uvicorn did not answer in {STARTUP_TIMEOUT}s:\n{self.output()}")

    def stop(self) -> None:
        """SIGTERM (uvicorn shuts down gracefully, lifespan included); SIGKILL if it hangs."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.returncode = self.process.returncode

    def stopped_gracefully(self) -> bool:
        """The server ran its shutdown, lifespan included, and exited without an error.

        uvicorn re-raises the SIGTERM it handled once it is done, so -SIGTERM counts as clean.
        """
        clean_exit = self.returncode in (0, -signal.SIGTERM)
        return clean_exit and "Application shutdown complete." in self.output()
