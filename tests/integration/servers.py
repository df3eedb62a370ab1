"""Run an ASGI app under a real server in a subprocess, for integration tests.

```python
with ServerProcess.start("uvicorn", "serverapp:app", log_path=tmp_path / "server.log") as server:
    httpx.get(server.url + "/health")
# the server is stopped here (SIGTERM, then SIGKILL), also when the body raised
```

- :data:`SERVER_KINDS`: the servers every test runs under: uvicorn on the asyncio loop, hypercorn
  with its asyncio worker and hypercorn with its trio worker.
- :func:`free_port`: a free TCP port on 127.0.0.1.
- :class:`ServerProcess`: starts a server (stdout and stderr go to one log file), waits until it
  answers HTTP, and stops it; :meth:`ServerProcess.output` reads what it printed so far.
- :func:`raw_request`: send bytes no well-behaved client would send and read the whole answer;
  :func:`split_response` takes that answer apart (status, headers, body).

The server process gets its own session (process group), so stopping it also reaches the worker
process hypercorn spawns. The app module is imported from ``app_dir`` (this folder by default),
which is put on ``PYTHONPATH``; the project root is there too, so ``framework`` imports from the
checkout, and the tests folder, so a test module served this way can import these helpers.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from types import TracebackType

import httpx

HERE = Path(__file__).resolve().parent
PROJECT_ROOT = HERE.parent.parent
HOST = "127.0.0.1"

SERVER_KINDS = ("uvicorn", "hypercorn-asyncio", "hypercorn-trio")
"""Server kinds :meth:`ServerProcess.start` knows; fixtures are parametrised over them."""

STARTUP_TIMEOUT = 20.0
BIND_ATTEMPTS = 3
STOP_TIMEOUT = 10.0


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        port: int = sock.getsockname()[1]
        return port


def server_command(kind: str, app: str, port: int) -> list[str]:
    """The command line that serves ``app`` (``module:attribute``) with server ``kind``."""
    if kind == "uvicorn":
        return [
            sys.executable,
            "-m",
            "uvicorn",
            app,
            "--host",
            HOST,
            "--port",
            str(port),
            "--loop",
            "asyncio",
            "--lifespan",
            "on",
            "--no-access-log",
        ]
    if kind in ("hypercorn-asyncio", "hypercorn-trio"):
        worker = kind.split("-", 1)[1]
        # One worker process (hypercorn's default): its parent turns SIGTERM into a graceful
        # shutdown for both worker classes (the trio worker alone does not handle SIGTERM).
        return [
            sys.executable,
            "-m",
            "hypercorn",
            app,
            "--bind",
            f"{HOST}:{port}",
            "--worker-class",
            worker,
            "--workers",
            "1",
            "--graceful-timeout",
            "3",
        ]
    raise ValueError(f"Unknown server kind {kind!r}; expected one of {SERVER_KINDS}")


class ServerProcess:
    """One server process serving an app on ``127.0.0.1:port``.

    Use :meth:`start` (it waits until the server answers) and :meth:`stop`, or the object as a
    context manager, which stops the server on the way out whatever happened.
    """

    def __init__(
        self,
        kind: str,
        app: str,
        *,
        log_path: Path,
        env: Mapping[str, str] | None = None,
        app_dir: Path = HERE,
        extra_args: Sequence[str] = (),
    ) -> None:
        self.kind = kind
        self.app = app
        self.log_path = Path(log_path)
        self.port = free_port()
        self.url = f"http://{HOST}:{self.port}"
        self.returncode: int | None = None
        child_env = dict(os.environ)
        child_env.update(env or {})
        python_path = [str(app_dir), str(PROJECT_ROOT), str(HERE.parent)]
        if child_env.get("PYTHONPATH"):
            python_path.append(child_env["PYTHONPATH"])
        child_env["PYTHONPATH"] = os.pathsep.join(python_path)
        child_env["PYTHONUNBUFFERED"] = "1"
        with open(self.log_path, "wb") as log:
            self.process = subprocess.Popen(
                [*server_command(kind, app, self.port), *extra_args],
                cwd=app_dir,
                env=child_env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    @classmethod
    def start(
        cls,
        kind: str,
        app: str,
        *,
        log_path: Path,
        env: Mapping[str, str] | None = None,
        app_dir: Path = HERE,
        extra_args: Sequence[str] = (),
        ready_path: str = "/",
    ) -> ServerProcess:
        """Start a server and wait until it answers HTTP on ``ready_path`` (any status will do).

        ``env`` adds environment variables; ``extra_args`` go after the command line
        :func:`server_command` builds (a repeated option overrides it). Raises ``RuntimeError``
        with the server's output if it exits or does not answer in time. Another process taking
        the free port before the server binds it (a race on a shared machine) means a new try.
        """
        for attempt in range(1, BIND_ATTEMPTS + 1):
            server = cls(
                kind, app, log_path=log_path, env=env, app_dir=app_dir, extra_args=extra_args
            )
            try:
                server.wait_ready(ready_path)
            except BaseException as exc:
                server.stop()
                lost_port = (
                    isinstance(exc, RuntimeError) and "address already in use" in str(exc).lower()
                )
                if not lost_port or attempt == BIND_ATTEMPTS:
                    raise
            else:
                return server
        raise AssertionError("unreachable")

    def wait_ready(self, path: str = "/", timeout: float = STARTUP_TIMEOUT) -> None:
        """Poll until an HTTP request to ``path`` gets any answer."""
        deadline = time.monotonic() + timeout
        while True:
            if self.process.poll() is not None:
                raise RuntimeError(
                    f"{self.kind} exited with {self.process.returncode} before it answered:\n"
                    + self.output()
                )
            try:
                httpx.get(self.url + path, timeout=1.0)
                return
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(
                    f"{self.kind} did not answer within {timeout}s:\n" + self.output()
                )
            time.sleep(0.05)

    def wait_exit(self, timeout: float) -> int | None:
        """Wait up to ``timeout`` seconds for the process to end; its exit code or None."""
        try:
            self.returncode = self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            return None
        return self.returncode

    def terminate(self) -> None:
        """Send SIGTERM to the server process (its own handler decides what happens)."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)

    def stop(self, timeout: float = STOP_TIMEOUT) -> int:
        """SIGTERM, wait up to ``timeout`` seconds, then SIGKILL the whole process group.

        Returns the exit code (negative for a signal, as :mod:`subprocess` reports it).
        """
        self.terminate()
        code = self.wait_exit(timeout)
        if code is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)
            code = self.process.wait()
        else:
            # A worker left behind by a parent that exited would hold the port: reap the group.
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)
        self.returncode = code
        return code

    def output(self) -> str:
        """Everything the server wrote to stdout and stderr so far."""
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def output_size(self) -> int:
        """The size of the log so far: remember it, then read what came after with ``output_since``."""
        return self.log_path.stat().st_size

    def output_since(self, offset: int) -> str:
        """What the server wrote after the log was ``offset`` bytes long."""
        with open(self.log_path, "rb") as log:
            log.seek(offset)
            return log.read().decode("utf-8", errors="replace")

    def __enter__(self) -> ServerProcess:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    def __repr__(self) -> str:
        return f"ServerProcess({self.kind!r}, {self.app!r}, url={self.url!r})"


def raw_request(port: int, data: bytes, timeout: float = 10.0) -> bytes:
    """Send ``data`` as is on a fresh connection and return everything the server answers
    until it closes the connection (send ``Connection: close`` to make it do so).

    The socket is not half-closed after sending: some servers take that for a client that left.
    """
    with socket.create_connection((HOST, port), timeout=timeout) as sock:
        sock.sendall(data)
        chunks = []
        with contextlib.suppress(ConnectionResetError):
            while True:
                chunk = sock.recv(65536)
                if not chunk:
                    break
                chunks.append(chunk)
    return b"".join(chunks)


def parse_status(response: bytes) -> int:
    """The status code of a raw HTTP/1.1 response (``HTTP/1.1 404 Not Found`` gives 404)."""
    status_line = response.split(b"\r\n", 1)[0]
    parts = status_line.split(b" ", 2)
    if len(parts) < 2 or not parts[0].startswith(b"HTTP/"):
        raise AssertionError(f"Not an HTTP response: {response[:200]!r}")
    return int(parts[1])


def split_response(response: bytes) -> tuple[int, dict[str, str], bytes]:
    """Status, headers (lower-case names, last one wins) and body of a raw HTTP/1.1 response."""
    head, _, body = response.partition(b"\r\n\r\n")
    headers: dict[str, str] = {}
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        headers[name.strip().lower().decode("latin-1")] = value.strip().decode("latin-1")
    return parse_status(response), headers, body
