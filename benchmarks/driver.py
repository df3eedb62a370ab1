"""The in-process driver: ASGI apps called directly, with no server and no sockets.

For every request the driver does what a server does before and after calling the app, and
nothing more:

- a fresh scope: a copy of a scope prepared once per endpoint, shaped like uvicorn's (the
  frameworks write into the scope, so it cannot be shared), with a fresh ``state`` dict;
- a ``receive`` that hands out the prepared body message(s), then ``http.disconnect``: a body
  is cut into ``http.request`` messages of at most 64 KiB, as a server passes on what it reads;
- a ``send`` that appends each message to a list.

Then it compares the status and the body bytes with the expected ones and raises
:class:`WrongResponse` on a difference, on every request. That check, the scope copy and the two
callables are the same for every app, so they add the same small constant to every time.
Endpoints whose answer must be gzipped or carry given headers are checked for those too
(the body decompressed first), by a loop of their own.

The scope offers no extensions (no ``http.response.pathsend``): files are sent as body messages
by every app.
"""

from __future__ import annotations

import gc
import time
import tracemalloc
import zlib
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from benchmarks.apps import BenchApp
from benchmarks.endpoints import Endpoint

Message = dict[str, Any]
ASGIApp = Callable[[dict[str, Any], Any, Any], Awaitable[None]]

_DISCONNECT: Message = {"type": "http.disconnect"}

CHUNK_SIZE = 64 * 1024
"""The largest ``http.request`` message the driver hands out (a request body is split)."""


class WrongResponse(AssertionError):
    """An app answered a benchmark request with another status or body than expected."""


@dataclass(frozen=True)
class Case:
    """One app and one endpoint, prepared for repeated calls."""

    app_name: str
    endpoint: Endpoint
    app: ASGIApp
    scope: dict[str, Any]
    messages: tuple[Message, ...]
    status: int
    body: bytes


def make_scope(endpoint: Endpoint) -> dict[str, Any]:
    """An HTTP scope for ``endpoint``, with the keys and headers uvicorn would give it."""
    headers = [
        (b"host", b"127.0.0.1:8000"),
        (b"user-agent", b"benchmarks/1"),
        (b"accept", b"*/*"),
        *endpoint.headers,
    ]
    if endpoint.body:
        headers += [
            (b"content-type", endpoint.content_type),
            (b"content-length", str(len(endpoint.body)).encode()),
        ]
    return {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.4"},
        "http_version": "1.1",
        "server": ("127.0.0.1", 8000),
        "client": ("127.0.0.1", 54321),
        "scheme": "http",
        "method": endpoint.method,
        "root_path": "",
        "path": endpoint.path,
        "raw_path": endpoint.path.encode(),
        "query_string": endpoint.query_string,
        "headers": headers,
    }


def prepare(bench_app: BenchApp, endpoint: Endpoint) -> Case:
    """The case for ``endpoint`` on ``bench_app``, with the body it must answer."""
    expected = endpoint.expected if endpoint.expected is not None else bench_app.not_found
    return Case(
        app_name=bench_app.name,
        endpoint=endpoint,
        app=bench_app.app,
        scope=make_scope(endpoint),
        messages=body_messages(endpoint.body),
        status=endpoint.status,
        body=expected,
    )


def body_messages(body: bytes) -> tuple[Message, ...]:
    """``body`` as the ``http.request`` messages a server would pass on: pieces of at most
    :data:`CHUNK_SIZE` bytes, ``more_body`` on all but the last (one empty message for none)."""
    if len(body) <= CHUNK_SIZE:
        return ({"type": "http.request", "body": body, "more_body": False},)
    starts = range(0, len(body), CHUNK_SIZE)
    return tuple(
        {
            "type": "http.request",
            "body": body[start : start + CHUNK_SIZE],
            "more_body": start + CHUNK_SIZE < len(body),
        }
        for start in starts
    )


def _receiver(messages: tuple[Message, ...]) -> Callable[[], Awaitable[Message]]:
    pending = iter(messages)

    async def receive() -> Message:
        return next(pending, _DISCONNECT)

    return receive


def _response(sent: list[Message]) -> tuple[int, bytes, bool]:
    """Status (-1 if no response started), body, and whether the body was finished."""
    status = sent[0]["status"] if sent and sent[0]["type"] == "http.response.start" else -1
    body = b"".join(m.get("body", b"") for m in sent[1:])
    finished = len(sent) > 1 and not sent[-1].get("more_body", False)
    return status, body, finished


def _short(body: bytes) -> str:
    return repr(body) if len(body) <= 200 else f"{body[:200]!r}... ({len(body):,} bytes)"


def _fail(case: Case, sent: list[Message], problem: str = "") -> WrongResponse:
    status, body, finished = _response(sent)
    return WrongResponse(
        f"{case.app_name} answered {case.endpoint.method} {case.endpoint.target} with "
        f"{status} {_short(body)}{'' if finished else ' (unfinished)'}"
        f"{f' ({problem})' if problem else ''}; expected {case.status} {_short(case.body)}"
    )


def verify(case: Case, sent: list[Message]) -> None:
    """Raise :class:`WrongResponse` unless ``sent`` is the whole expected answer: status, body
    (decompressed when the endpoint asks for gzip) and the headers the endpoint requires."""
    status, body, finished = _response(sent)
    if not finished or status != case.status:
        raise _fail(case, sent)
    headers = sent[0].get("headers", ())
    for header in case.endpoint.response_headers:
        if header not in headers:
            raise _fail(case, sent, f"no {header[0].decode()}: {header[1].decode()}")
    if case.endpoint.gzipped:
        if (b"content-encoding", b"gzip") not in headers:
            raise _fail(case, sent, "not gzipped")
        try:
            body = zlib.decompress(body, 16 + zlib.MAX_WBITS)
        except zlib.error as exc:
            raise _fail(case, sent, f"not gzip: {exc}") from None
    if body != case.body:
        raise _fail(case, sent, "gunzipped" if case.endpoint.gzipped else "")


async def call_once(case: Case) -> tuple[int, bytes]:
    """One request: the status and body bytes the app sent (not compared with the expected
    ones; an unfinished response raises :class:`WrongResponse`)."""
    sent: list[Message] = []

    async def send(message: Message) -> None:
        sent.append(message)

    await case.app({**case.scope, "state": {}}, _receiver(case.messages), send)
    status, body, finished = _response(sent)
    if not finished:
        raise _fail(case, sent)
    return status, body


CLOCKS: dict[str, Callable[[], float]] = {"cpu": time.process_time, "wall": time.perf_counter}
"""What a round's time is read from: ``cpu``, the CPU time of this process (time it was not
running, while the machine ran other work, is not counted), or ``wall``, elapsed time."""


async def run_requests(
    case: Case, count: int, clock: Callable[[], float] = time.perf_counter
) -> float:
    """Send ``count`` requests, checking each answer; the seconds it took on ``clock``.

    The loop is written out (no helper calls besides the app's) to keep the driver's own cost
    small next to the apps'. Endpoints with gzip or header requirements go through
    :func:`verify` on every request instead.
    """
    if case.endpoint.gzipped or case.endpoint.response_headers:
        return await _run_verified(case, count, clock)
    app, template, messages = case.app, case.scope, case.messages
    status, body = case.status, case.body
    start = clock()
    for _ in range(count):
        sent: list[Message] = []
        append = sent.append

        async def send(message: Message, append: Callable[[Message], None] = append) -> None:
            append(message)

        await app({**template, "state": {}}, _receiver(messages), send)
        if (
            len(sent) != 2
            or sent[0]["status"] != status
            or sent[1]["body"] != body
            or sent[1].get("more_body", False)
        ) and _response(sent) != (status, body, True):
            raise _fail(case, sent)
    return clock() - start


async def _run_verified(case: Case, count: int, clock: Callable[[], float]) -> float:
    app, template, messages = case.app, case.scope, case.messages
    start = clock()
    for _ in range(count):
        sent: list[Message] = []
        append = sent.append

        async def send(message: Message, append: Callable[[Message], None] = append) -> None:
            append(message)

        await app({**template, "state": {}}, _receiver(messages), send)
        verify(case, sent)
    return clock() - start


@dataclass
class Timing:
    """Per-request times (seconds) of one case, one entry per round."""

    case: Case
    requests: int
    rounds: list[float] = field(default_factory=list)

    @property
    def best(self) -> float:
        """The fastest round's time per request: the reported figure."""
        return min(self.rounds)

    @property
    def median(self) -> float:
        ordered = sorted(self.rounds)
        middle = len(ordered) // 2
        if len(ordered) % 2:
            return ordered[middle]
        return (ordered[middle - 1] + ordered[middle]) / 2


async def calibrate(
    case: Case,
    budget: float,
    warmup: int = 300,
    clock: Callable[[], float] = time.perf_counter,
    minimum: int = 100,
) -> int:
    """Warm the case up and return how many requests fill about ``budget`` seconds (at least
    ``minimum``)."""
    await run_requests(case, warmup, clock)
    count = warmup
    elapsed = await run_requests(case, count, clock)
    while elapsed < 0.05:  # too short to extrapolate from
        count *= 4
        elapsed = await run_requests(case, count, clock)
    return max(minimum, round(count * budget / elapsed))


async def measure(
    cases: Sequence[Case],
    rounds: int,
    *,
    requests: int | None = None,
    budget: float = 0.0625,
    progress: Callable[[str], None] | None = None,
    clock: Callable[[], float] = time.perf_counter,
    warmup: int = 300,
    minimum: int = 100,
) -> list[Timing]:
    """Time every case over ``rounds`` rounds (``warmup`` requests each first), on ``clock``.

    Each round runs every case once, so a slow patch of the machine hits all apps alike; the
    order of the cases rotates from round to round. ``requests`` fixes the requests per case and
    round; by default each case gets as many as fill ``budget`` seconds, and at least ``minimum``.
    """
    timings = []
    for case in cases:
        if requests is None:
            count = await calibrate(case, budget, warmup, clock=clock, minimum=minimum)
        else:
            count = requests
            await run_requests(case, min(count, warmup), clock)  # warm-up
        timings.append(Timing(case, count))
    for number in range(rounds):
        if progress is not None:
            progress(f"round {number + 1}/{rounds}")
        shift = number % len(timings)
        for timing in timings[shift:] + timings[:shift]:
            elapsed = await run_requests(timing.case, timing.requests, clock)
            timing.rounds.append(elapsed / timing.requests)
    return timings


@dataclass(frozen=True)
class MemoryUse:
    """What tracemalloc saw over the requests of one case (bytes, averaged per request)."""

    peak: float
    """Highest traced memory during a request minus the traced memory just before it."""
    retained: float
    """Traced memory just after a request minus just before it."""


async def measure_memory(case: Case, requests: int = 300, warmup: int = 200) -> MemoryUse:
    """Average per-request peak and retained allocations of ``case``, with tracemalloc.

    Only allocations Python's allocator sees are counted (pydantic-core's own Rust buffers are
    not). The driver's own per-request objects (scope copy, receive, send, the list of sent
    messages) are included, the same for every app.
    """
    await run_requests(case, warmup)
    was_tracing = tracemalloc.is_tracing()
    if not was_tracing:
        tracemalloc.start()
    gc.collect()
    gc.disable()  # a collection inside one request would make its numbers meaningless
    try:
        await call_once(case)  # the first traced request may fill caches
        peaks = 0
        retained = 0
        for _ in range(requests):
            before = tracemalloc.get_traced_memory()[0]
            tracemalloc.reset_peak()
            status, body = await call_once(case)
            current, peak = tracemalloc.get_traced_memory()
            if (status, body) != (case.status, case.body):
                raise WrongResponse(
                    f"{case.app_name} answered {case.endpoint.target} with {status} {body!r}"
                )
            peaks += peak - before
            retained += current - before
    finally:
        gc.enable()
        if not was_tracing:
            tracemalloc.stop()
    return MemoryUse(peak=peaks / requests, retained=retained / requests)
