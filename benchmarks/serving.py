"""Real servers for the benchmark apps: start them, check their answers, stop them.

Each app of :mod:`benchmarks.apps` is served by a subprocess on 127.0.0.1 and a free port:

- ``uvicorn``: the uvloop event loop and the httptools parser (asyncio and h11 when those are
  not installed, as in :mod:`benchmarks.soak`), 1 worker, no access log;
- ``granian``: its ASGI interface, 1 worker, no access log, HTTP/1 only (the load client speaks
  nothing else), and the same event loop as uvicorn.

Every server runs in a session of its own, so that stopping it can reach the processes it
spawned (granian serves from a worker process) and so that a Ctrl-C in the terminal reaches only
the harness, which then stops the servers itself: SIGTERM, then SIGKILL for the whole group.
"""

from __future__ import annotations

import contextlib
import http.client
import importlib
import importlib.util
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from benchmarks.endpoints import Endpoint
from benchmarks.soak import HOST, PROJECT_ROOT, server_options

SERVER_KINDS = ("uvicorn", "granian")
"""The servers, in the order the benchmark runs them."""

APP_TARGETS = {
    "ours": "benchmarks.apps.ours:app",
    "starlette": "benchmarks.apps.starlette_app:app",
    "fastapi": "benchmarks.apps.fastapi_app:app",
    "raw": "benchmarks.apps.raw:app",
}
"""Each app as a server imports it: ``module:attribute``."""

STARTUP_TIMEOUT = 60.0
"""Seconds a server gets to answer its first request. Generous: the servers of one kind start
together on one CPU, and FastAPI's import alone takes a good part of a second."""
STOP_TIMEOUT = 10.0
"""Seconds between SIGTERM and SIGKILL."""
CHECK_TIMEOUT = 10.0
"""Seconds one checking request may take."""


class ServerError(RuntimeError):
    """A server would not start, or died; the message ends with the tail of its log."""


class WrongAnswer(RuntimeError):
    """A server answered a checking request with another status or body than expected."""


@dataclass(frozen=True)
class Pinning:
    """Which CPU the servers and the load client run on; ``None`` when they are not pinned."""

    server_cpu: int | None
    client_cpu: int | None
    note: str
    """One line for the output: where each side runs, or why nothing is pinned."""

    def prefix(self, cpu: int | None) -> list[str]:
        """The ``taskset`` words that run a command on ``cpu`` (none when not pinned)."""
        return [] if cpu is None else ["taskset", "--cpu-list", str(cpu)]


def choose_pinning(enabled: bool = True) -> Pinning:
    """The server on the first CPU this process may use, the client on the second.

    With two cores, letting the scheduler move both sides around makes them compete for the
    same core at random moments; pinned, each has a core of its own and runs are repeatable.
    """
    cpus = sorted(os.sched_getaffinity(0))
    if not enabled:
        return Pinning(None, None, "not pinned (--no-pin)")
    if shutil.which("taskset") is None:
        return Pinning(None, None, "not pinned: taskset (util-linux) is not installed")
    if len(cpus) < 2:
        return Pinning(None, None, f"not pinned: only {len(cpus)} CPU available")
    server, client = cpus[0], cpus[1]
    return Pinning(server, client, f"servers pinned to CPU {server}, wrk to CPU {client} (taskset)")


def server_command(kind: str, target: str, port: int) -> list[str]:
    """The command line that serves ``target`` (``module:app``) with server ``kind``."""
    loop, http_parser = server_options()
    if kind == "uvicorn":
        options = ["--workers", "1", "--loop", loop, "--http", http_parser, "--no-access-log"]
    elif kind == "granian":
        # The same event loop as uvicorn (granian's own default would prefer rloop when it is
        # installed), and HTTP/1 only: uvicorn speaks nothing else, nor does wrk.
        options = ["--interface", "asgi", "--workers", "1", "--loop", loop, "--http", "1"]
        options += ["--no-access-log"]
    else:
        raise ValueError(f"unknown server {kind!r}; choose from {', '.join(SERVER_KINDS)}")
    address = ["--host", HOST, "--port", str(port), "--log-level", "warning"]
    return [sys.executable, "-m", kind, target, *address, *options]


def describe(kind: str) -> str:
    """How server ``kind`` is run, for the output (the command line without app and port)."""
    words = server_command(kind, "APP", 0)
    words[0] = "python"
    return " ".join(words).replace(" --port 0", " --port PORT")


@dataclass
class Server:
    """One running server: which app it serves, where, and where its output goes."""

    kind: str
    app: str
    port: int
    process: subprocess.Popen[bytes]
    log: Path
    not_found: bytes
    """The body this app answers an unknown path with (frameworks differ)."""

    @property
    def label(self) -> str:
        return f"{self.kind} serving {self.app}"

    def log_tail(self, lines: int = 20) -> str:
        """The last lines of the server's output, for error messages."""
        try:
            text = self.log.read_text(errors="replace")
        except OSError:
            return "(no log)"
        return "\n".join(text.splitlines()[-lines:]) or "(log empty)"

    def ensure_alive(self) -> None:
        """Raise :class:`ServerError` if the server has exited."""
        if self.process.poll() is not None:
            raise ServerError(
                f"{self.label} exited with code {self.process.returncode}; its log ends:\n"
                + self.log_tail()
            )


def not_found_body(app: str) -> bytes:
    """The 404 body of app ``app``, from its module (importing it builds the app once)."""
    module = importlib.import_module(APP_TARGETS[app].partition(":")[0])
    body: bytes = module.NOT_FOUND
    return body


def _environment() -> dict[str, str]:
    """The servers' environment: this project's root first on the import path, so that they
    import the same ``benchmarks`` and ``framework`` as the harness (a work tree's, say)."""
    env = dict(os.environ)
    paths = [str(PROJECT_ROOT), *filter(None, env.get("PYTHONPATH", "").split(os.pathsep))]
    env["PYTHONPATH"] = os.pathsep.join(paths)
    return env


def _free_ports(count: int) -> list[int]:
    """``count`` distinct free ports: each probe socket stays bound until all are chosen, so the
    kernel cannot hand the same port out twice (servers started together would collide)."""
    with contextlib.ExitStack() as probes:
        ports = []
        for _ in range(count):
            sock = probes.enter_context(socket.socket(socket.AF_INET, socket.SOCK_STREAM))
            sock.bind((HOST, 0))
            ports.append(sock.getsockname()[1])
        return ports


def _spawn(kind: str, app: str, port: int, log_dir: Path, pinning: Pinning) -> Server:
    """Start serving ``app`` with ``kind`` on ``port``, pinned, its output in a log under
    ``log_dir``."""
    # Everything that can fail or take time comes before the process exists, so that nothing
    # can come between starting it and handing it to the caller, who stops it.
    not_found = not_found_body(app)
    log = log_dir / f"{kind}-{app}.log"
    command = [*pinning.prefix(pinning.server_cpu), *server_command(kind, APP_TARGETS[app], port)]
    with log.open("wb") as output:
        process = subprocess.Popen(
            command,
            cwd=PROJECT_ROOT,
            env=_environment(),
            stdin=subprocess.DEVNULL,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: see the module's docstring
        )
    return Server(kind, app, port, process, log, not_found)


def wait_until_answering(server: Server, timeout: float = STARTUP_TIMEOUT) -> None:
    """Wait until ``server`` answers an HTTP request (any status will do).

    A listening socket is not enough: granian's main process binds the port before its worker
    has imported the app, and the first requests would wait on that.
    """
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        server.ensure_alive()
        connection = http.client.HTTPConnection(HOST, server.port, timeout=2)
        try:
            connection.request("GET", "/")
            connection.getresponse().read()
            return
        except (OSError, http.client.HTTPException):
            time.sleep(0.05)
        finally:
            connection.close()
    raise ServerError(
        f"{server.label} did not answer on port {server.port} within {timeout:.0f} s; its log "
        "ends:\n" + server.log_tail()
    )


def stop(process: subprocess.Popen[bytes], timeout: float = STOP_TIMEOUT) -> str:
    """Stop a server started by :func:`running`, and anything it spawned.

    SIGTERM to the server (a graceful shutdown; granian passes it on to its worker), then, if it
    has not exited within ``timeout`` s, SIGKILL to its whole process group. Whatever is left in
    the group after the server exited (an orphaned worker) is killed too. Returns how the server
    ended: ``"SIGTERM"``, ``"SIGKILL"`` or ``"exited by itself"``.
    """
    how = "exited by itself"
    try:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            how = "SIGTERM"
            try:
                process.wait(timeout)
            except subprocess.TimeoutExpired:
                how = "SIGKILL"
    finally:
        # Also when the wait was interrupted (a second Ctrl-C). The group id is the server's pid
        # (start_new_session); the group outlives the server only while a process of it runs.
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait()
    return how


@contextlib.contextmanager
def running(
    kind: str, apps: Sequence[str], log_dir: Path, pinning: Pinning
) -> Iterator[dict[str, Server]]:
    """Serve every app of ``apps`` with server ``kind`` at once, each on its own port.

    Yields the servers by app name once every one answers; all are stopped on leaving, also when
    starting one failed or the body raised (a Ctrl-C included).
    """
    servers: dict[str, Server] = {}
    # An exit stack runs every stop, even when an earlier one raised.
    with contextlib.ExitStack() as stops:
        # Started together, so their imports overlap with one another's waits.
        for app, port in zip(apps, _free_ports(len(apps))):
            servers[app] = _spawn(kind, app, port, log_dir, pinning)
            stops.callback(stop, servers[app].process)
        for server in servers.values():
            wait_until_answering(server)
        yield servers


def fetch(port: int, endpoint: Endpoint) -> tuple[int, bytes]:
    """Send ``endpoint``'s request once over a fresh connection; returns status and body."""
    headers = {name.decode("latin-1"): value.decode("latin-1") for name, value in endpoint.headers}
    if endpoint.body:
        headers["content-type"] = endpoint.content_type.decode("latin-1")
    connection = http.client.HTTPConnection(HOST, port, timeout=CHECK_TIMEOUT)
    try:
        connection.request(endpoint.method, endpoint.target, endpoint.body or None, headers)
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


def check(server: Server, endpoint: Endpoint) -> None:
    """Raise :class:`WrongAnswer` unless ``server`` answers ``endpoint`` with the expected status
    and exactly the expected body (the app's own 404 body for the 404 endpoint)."""
    expected = (
        endpoint.status,
        server.not_found if endpoint.expected is None else endpoint.expected,
    )
    try:
        answer = fetch(server.port, endpoint)
    except (OSError, http.client.HTTPException) as error:
        raise WrongAnswer(
            f"{server.label} gave no answer to {endpoint.method} {endpoint.target} "
            f"({endpoint.name}): {error!r}"
        ) from error
    if answer != expected:
        raise WrongAnswer(
            f"{server.label} answered {endpoint.method} {endpoint.target} ({endpoint.name}) "
            f"with {answer[0]} {answer[1][:300]!r}; expected {expected[0]} {expected[1]!r}"
        )


def granian_missing() -> str | None:
    """Why granian cannot be used here, or ``None`` when it can."""
    try:
        importlib.import_module("granian")
    except ImportError as error:
        return (
            f"granian cannot be imported ({error}); it is in the bench extra: pip install granian"
        )
    return None
