"""Soak test: many requests against our app under a real uvicorn, watching the server's memory.

The server is a ``uvicorn`` subprocess (``--no-access-log``, 127.0.0.1, a free port; the uvloop
event loop and the httptools parser when installed, else asyncio and h11) serving
``benchmarks.apps.ours:app``. The client is a small asyncio HTTP/1.1 client on raw streams:
several keep-alive connections, one request in flight on each (no pipelining), cycling through
the endpoints of :mod:`benchmarks.endpoints` that answer 200. Every response's status and body
are checked.

The server's resident set size (``VmRSS`` in ``/proc/<pid>/status``) is read after the warm-up
requests and then after every tenth of the remaining ones; the growth between the warm-up and the
end is the number to watch.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import importlib.util
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Coroutine, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from benchmarks.endpoints import ENDPOINTS, Endpoint

PROJECT_ROOT = Path(__file__).resolve().parent.parent
HOST = "127.0.0.1"
APP = "benchmarks.apps.ours:app"
STARTUP_TIMEOUT = 20.0
STOP_TIMEOUT = 10.0


@dataclass
class SoakResult:
    """What a soak run saw. Memory figures are in kB, as /proc reports them."""

    requests: int
    warmup: int
    connections: int
    loop: str
    http: str
    seconds: float
    rss_after_warmup_kb: int
    rss_end_kb: int
    rss_samples: list[tuple[int, int]]
    """(requests done, RSS in kB) after the warm-up and after each tenth of the rest."""
    statuses: collections.Counter[int] = field(default_factory=collections.Counter)
    mismatches: int = 0
    """Responses with the expected status but another body."""
    server_exit_code: int | None = None
    stopped_by: str = ""
    """How the server ended: "SIGTERM" (graceful), "SIGKILL" (had to be killed)."""

    @property
    def growth_kb(self) -> int:
        return self.rss_end_kb - self.rss_after_warmup_kb

    @property
    def ok(self) -> bool:
        return self.mismatches == 0 and set(self.statuses) == {200}


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        port: int = sock.getsockname()[1]
        return port


def rss_kb(pid: int) -> int:
    """The resident set size of process ``pid`` in kB (Linux)."""
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise RuntimeError(f"no VmRSS line for process {pid}")


def server_options() -> tuple[str, str]:
    """The event loop and HTTP parser uvicorn gets: the fast ones when they are installed."""
    loop = "uvloop" if importlib.util.find_spec("uvloop") else "asyncio"
    http = "httptools" if importlib.util.find_spec("httptools") else "h11"
    return loop, http


@contextlib.contextmanager
def uvicorn_server(
    app: str = APP, stopped: list[str] | None = None
) -> Iterator[tuple[subprocess.Popen[bytes], int]]:
    """Run ``app`` under uvicorn in a subprocess; yields the process and its port.

    The server is stopped on leaving (SIGTERM, then SIGKILL), also when the body raised; how it
    ended is appended to ``stopped``.
    """
    loop, http = server_options()
    port = free_port()
    command = [
        sys.executable,
        "-m",
        "uvicorn",
        app,
        "--app-dir",
        str(PROJECT_ROOT),
        "--host",
        HOST,
        "--port",
        str(port),
        "--loop",
        loop,
        "--http",
        http,
        "--no-access-log",
        "--log-level",
        "warning",
    ]
    process = subprocess.Popen(command, cwd=PROJECT_ROOT, stdin=subprocess.DEVNULL)
    try:
        _wait_until_listening(process, port)
        yield process, port
    finally:
        how = stop(process)
        if stopped is not None:
            stopped.append(how)


def _wait_until_listening(process: subprocess.Popen[bytes], port: int) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"uvicorn exited with code {process.returncode} while starting")
        with contextlib.suppress(OSError), socket.create_connection((HOST, port), timeout=1):
            return
        time.sleep(0.05)
    raise RuntimeError(f"uvicorn did not listen on port {port} within {STARTUP_TIMEOUT} s")


def stop(process: subprocess.Popen[bytes]) -> str:
    """Stop ``process``: SIGTERM, then SIGKILL if it is still running after a while.

    Returns how it ended: ``"SIGTERM"``, ``"SIGKILL"`` or ``"exited by itself"``.
    """
    if process.poll() is not None:
        return "exited by itself"
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(STOP_TIMEOUT)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
        return "SIGKILL"
    return "SIGTERM"


def _run_client(main: Coroutine[Any, Any, None]) -> None:
    """Run the client on uvloop when it is installed (it is faster), else on asyncio."""
    try:
        import uvloop
    except ImportError:
        asyncio.run(main)
    else:
        uvloop.run(main)


def _raw_request(endpoint: Endpoint) -> bytes:
    lines = [f"{endpoint.method} {endpoint.target} HTTP/1.1", f"host: {HOST}"]
    lines += [f"{name.decode()}: {value.decode()}" for name, value in endpoint.headers]
    if endpoint.body:
        lines += ["content-type: application/json", f"content-length: {len(endpoint.body)}"]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + endpoint.body


class _Client:
    """Keep-alive connections that share one request budget."""

    def __init__(self, port: int, connections: int, result: SoakResult) -> None:
        self.port = port
        self.connections = connections
        self.result = result
        self.requests = [
            (_raw_request(endpoint), endpoint.expected or b"")
            for endpoint in ENDPOINTS
            if endpoint.status == 200
        ]
        self.streams: list[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = []
        self.sent = 0

    async def open(self) -> None:
        for _ in range(self.connections):
            self.streams.append(await asyncio.open_connection(HOST, self.port))

    async def close(self) -> None:
        for _, writer in self.streams:
            writer.close()
            with contextlib.suppress(OSError):
                await writer.wait_closed()

    async def run(self, count: int) -> None:
        """Send ``count`` more requests over all connections, one in flight per connection."""
        stop_at = self.sent + count
        await asyncio.gather(*(self._worker(*streams, stop_at) for streams in self.streams))

    async def _worker(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, stop_at: int
    ) -> None:
        requests = self.requests
        statuses = self.result.statuses
        while self.sent < stop_at:
            request, expected = requests[self.sent % len(requests)]
            self.sent += 1
            writer.write(request)
            head = await reader.readuntil(b"\r\n\r\n")
            status = int(head[9:12])
            length = 0
            for line in head.split(b"\r\n")[1:]:
                if line[:15].lower() == b"content-length:":
                    length = int(line[15:])
                    break
            else:
                raise RuntimeError(f"response without content-length: {head!r}")
            body = await reader.readexactly(length)
            statuses[status] += 1
            if status == 200 and body != expected:
                self.result.mismatches += 1


def run_soak(
    requests: int = 100_000,
    *,
    warmup: int = 10_000,
    connections: int = 8,
    samples: int = 10,
    progress: Callable[[str], None] | None = None,
) -> SoakResult:
    """Serve our app with uvicorn and send it ``requests`` requests (``warmup`` of them first).

    Returns the RSS readings and what the responses were; the server is stopped on return.
    """
    if not 0 < warmup < requests:
        raise ValueError("need 0 < warmup < requests")
    loop_name, http = server_options()
    result = SoakResult(
        requests=requests,
        warmup=warmup,
        connections=connections,
        loop=loop_name,
        http=http,
        seconds=0.0,
        rss_after_warmup_kb=0,
        rss_end_kb=0,
        rss_samples=[],
    )
    stopped: list[str] = []
    with uvicorn_server(stopped=stopped) as (process, port):
        _run_client(_drive(process.pid, port, result, samples, progress))
    result.server_exit_code = process.returncode
    result.stopped_by = stopped[0]
    return result


async def _drive(
    pid: int,
    port: int,
    result: SoakResult,
    samples: int,
    progress: Callable[[str], None] | None,
) -> None:
    client = _Client(port, result.connections, result)
    await client.open()
    try:
        start = time.perf_counter()
        await client.run(result.warmup)
        result.rss_after_warmup_kb = rss_kb(pid)
        result.rss_samples.append((client.sent, result.rss_after_warmup_kb))
        rest = result.requests - result.warmup
        steps = max(1, min(samples, rest))
        for step in range(steps):
            await client.run(rest * (step + 1) // steps - rest * step // steps)
            result.rss_samples.append((client.sent, rss_kb(pid)))
            if progress is not None:
                progress(f"{client.sent:,} requests, server RSS {result.rss_samples[-1][1]:,} kB")
        result.seconds = time.perf_counter() - start
        result.rss_end_kb = result.rss_samples[-1][1]
    finally:
        await client.close()
