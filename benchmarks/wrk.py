"""The load generator of the real-server benchmark: ``wrk``, driven by a small Lua script.

Every endpoint gets a script (written to a temporary file) that sets the request's method,
headers and body, and a ``done()`` hook that prints wrk's own counters on one line in a form
meant for this module, so nothing depends on the layout of wrk's human-readable report.
The script has no ``response()`` hook on purpose: with one, wrk parses every response's headers
and body in Lua, and the client, not the server, could become what limits the rate.
"""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from benchmarks.endpoints import Endpoint
from benchmarks.soak import HOST

RESULT_TAG = "BENCHMARK-RESULT"
"""How the ``done()`` hook's line starts."""

_COUNTERS = ("requests", "duration", "connect", "read", "write", "status", "timeout")

_DONE = f"""
function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    "{RESULT_TAG} requests=%d duration=%d connect=%d read=%d write=%d status=%d timeout=%d\\n",
    summary.requests, summary.duration, e.connect, e.read, e.write, e.status, e.timeout))
end
"""


_LUA_SAFE = frozenset(
    b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 !#$%&'()*+,-./:;<=>?@[]^_`{|}~"
)
"""Bytes written into a Lua string literal as they are: printable ASCII but quotes and ``\\``."""


def lua_string(data: bytes) -> str:
    """``data`` as a Lua string literal: printable ASCII as it is, every other byte (quotes and
    backslashes included) as a three-digit decimal escape, which Lua reads back byte for byte."""
    return '"' + "".join(chr(b) if b in _LUA_SAFE else f"\\{b:03d}" for b in data) + '"'


def lua_script(endpoint: Endpoint) -> str:
    """The wrk script for ``endpoint``: its method, headers and body, and the ``done()`` hook.
    wrk adds ``Host`` and, for a body, ``Content-Length`` itself."""
    lines = [f"-- {endpoint.name}: {endpoint.method} {endpoint.target}"]
    lines.append(f"wrk.method = {lua_string(endpoint.method.encode())}")
    if endpoint.body:
        lines.append(f"wrk.body = {lua_string(endpoint.body)}")
        lines.append(f'wrk.headers["content-type"] = {lua_string(endpoint.content_type)}')
    for name, value in endpoint.headers:
        lines.append(f"wrk.headers[{lua_string(name)}] = {lua_string(value)}")
    return "\n".join(lines) + "\n" + _DONE


@dataclass(frozen=True)
class WrkResult:
    """wrk's counters for one run."""

    requests: int
    """Responses completed."""
    duration: int
    """The run's length in µs."""
    connect: int
    read: int
    write: int
    timeout: int
    status: int
    """Responses with a status above 399 (wrk's "Non-2xx or 3xx responses")."""

    @property
    def rate(self) -> float:
        """Requests per second, as wrk computes its "Requests/sec"."""
        return self.requests / (self.duration / 1e6) if self.duration else 0.0

    def problems(self, endpoint: Endpoint) -> list[str]:
        """What went wrong, in words; empty when nothing did.

        For an endpoint that should answer 4xx/5xx, every response counts in ``status``, so
        there the problem is a response that did *not*: wrk cannot tell a 404 from a 500, which
        is why every server is checked with a real request before it is loaded.
        """
        found = [
            f"{count} socket {kind} errors"
            for kind, count in [
                ("connect", self.connect),
                ("read", self.read),
                ("write", self.write),
                ("timeout", self.timeout),
            ]
            if count
        ]
        if endpoint.status < 400 and self.status:
            found.append(f"{self.status} non-2xx/3xx responses (expected {endpoint.status})")
        elif endpoint.status >= 400 and self.status != self.requests:
            found.append(
                f"{self.requests - self.status} of {self.requests} responses below 400 "
                f"(expected {endpoint.status})"
            )
        if not self.requests:
            found.append("no response at all")
        return found


class WrkError(RuntimeError):
    """wrk failed or printed no result line."""


def parse(output: str) -> WrkResult:
    """The :class:`WrkResult` in wrk's output (the line the ``done()`` hook printed)."""
    for line in output.splitlines():
        if line.startswith(RESULT_TAG):
            fields = dict(word.split("=", 1) for word in line.split()[1:])
            return WrkResult(**{name: int(fields[name]) for name in _COUNTERS})
    raise WrkError(f"no {RESULT_TAG} line in wrk's output:\n{output}")


def wrk_command(
    port: int,
    endpoint: Endpoint,
    script: Path,
    *,
    duration: int,
    connections: int,
    prefix: list[str],
) -> list[str]:
    """The wrk command line: one thread, ``connections`` keep-alive connections, ``duration``
    seconds (wrk takes whole seconds only), run after ``prefix`` (``taskset ...``)."""
    url = f"http://{HOST}:{port}{endpoint.target}"
    return [
        *prefix,
        "wrk",
        "--threads",
        "1",
        "--connections",
        str(connections),
        "--duration",
        f"{duration}s",
        "--script",
        str(script),
        url,
    ]


def run_wrk(command: list[str], duration: int) -> WrkResult:
    """Run ``command`` (from :func:`wrk_command`) and return its counters."""
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=duration + 30)
    except subprocess.TimeoutExpired as error:
        raise WrkError(f"wrk did not finish: {' '.join(command)}") from error
    if done.returncode != 0:
        raise WrkError(
            f"wrk exited with code {done.returncode}: {' '.join(command)}\n"
            f"{done.stdout}{done.stderr}"
        )
    return parse(done.stdout)


def wrk_version() -> str | None:
    """wrk's version (``debian/4.1.0-3`` and the like), or ``None`` when wrk is missing."""
    if shutil.which("wrk") is None:
        return None
    # wrk has no version option of its own: -v prints a banner with usage and exits with 1.
    banner = subprocess.run(["wrk", "-v"], capture_output=True, text=True, check=False)
    words = (banner.stdout + banner.stderr).split()
    return words[1] if len(words) > 1 and words[0] == "wrk" else "unknown version"
