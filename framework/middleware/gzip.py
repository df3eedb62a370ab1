"""Gzip compression of response bodies for clients that accept it:
``app.add_middleware(GZipMiddleware, minimum_size=1000)``. See ``docs/middleware.md``."""

from __future__ import annotations

import functools
import zlib
from collections.abc import Awaitable, Collection

import anyio.to_thread

from framework.http.datastructures import MutableHeaders
from framework.types import ASGIApp, Message, Receive, Scope, Send

__all__ = ["DEFAULT_EXCLUDED_CONTENT_TYPES", "GZipMiddleware", "accepts_gzip"]

# Formats compressed already, and event streams, whose events must not wait in a buffer.
# fmt: off
DEFAULT_EXCLUDED_CONTENT_TYPES: tuple[str, ...] = (
    "application/gzip", "application/x-gzip", "application/zip", "application/grpc", "audio/*",
    "font/woff", "font/woff2", "image/avif", "image/gif", "image/jpeg", "image/png", "image/webp",
    "text/event-stream", "video/*",
)
# fmt: on

_CACHED = 256  # header values seen in practice are few; bounded, so clients cannot grow it


def _quality(params: list[bytes]) -> float:
    for param in params:
        name, _, value = param.partition(b"=")
        if name.strip().lower() == b"q":
            try:
                return float(value.strip())
            except ValueError:
                return 1.0  # an unreadable weight is ignored
    return 1.0


@functools.lru_cache(maxsize=_CACHED)
def accepts_gzip(accept_encoding: bytes) -> bool:
    """Whether an ``Accept-Encoding`` value accepts gzip (``gzip;q=0`` does not)."""
    gzip_q: float | None = None
    star_q: float | None = None
    for item in accept_encoding.split(b","):
        coding, *params = item.split(b";")
        coding = coding.strip().lower()
        if coding in (b"gzip", b"x-gzip"):
            q = _quality(params)
            gzip_q = q if gzip_q is None else max(gzip_q, q)
        elif coding == b"*":
            star_q = _quality(params)
    quality = gzip_q if gzip_q is not None else star_q
    return quality is not None and quality > 0


class GZipMiddleware:
    """Compress response bodies with gzip when the client accepts it (``gzip``, ``x-gzip`` or
    ``*`` with a ``q`` above 0), adding ``Vary: Accept-Encoding`` to what could be compressed.

    ``minimum_size``: smaller bodies are sent as they are. ``compresslevel``: 1 (fast) to 9
    (small). ``exclude_content_types``: media types never compressed (``"video/*"`` covers a whole
    type; by default compressed formats and ``text/event-stream``). Pieces of at least
    ``thread_minimum_size`` bytes are compressed in a worker thread. ``HEAD`` answers, ``206``
    and responses with a ``Content-Encoding`` are never compressed; streamed bodies are flushed
    message by message.
    """

    def __init__(
        self,
        app: ASGIApp,
        minimum_size: int = 500,
        compresslevel: int = 9,
        thread_minimum_size: int = 128 * 1024,
        *,
        exclude_content_types: Collection[str] = DEFAULT_EXCLUDED_CONTENT_TYPES,
    ) -> None:
        if not 0 <= compresslevel <= 9 and compresslevel != -1:
            raise ValueError("compresslevel must be between 0 and 9")
        self.app = app
        self.minimum_size = minimum_size
        self.compresslevel = compresslevel
        self.thread_minimum_size = thread_minimum_size
        self._minimum_digits = len(str(max(minimum_size, 0)))
        self.exclude_content_types = frozenset(
            t.partition(";")[0].strip().lower().encode("latin-1") for t in exclude_content_types
        )
        self.is_excluded = functools.lru_cache(maxsize=_CACHED)(self._is_excluded)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        target: Send | None = None

        def send_compressed(message: Message) -> Awaitable[None]:
            # The start message decides: a response it rules out goes straight to the server
            # from then on, with no coroutine of ours per message; any other to a responder.
            nonlocal target
            if target is not None:
                return target(message)
            target = send
            if message["type"] == "http.response.start":
                for name, value in message.get("headers", ()):
                    if name == b"content-length":
                        # Fewer digits than the minimum is smaller, without parsing the number.
                        digits = len(value)
                        if digits < self._minimum_digits or (
                            digits == self._minimum_digits
                            and value.isdigit()
                            and int(value) < self.minimum_size
                        ):
                            return send(message)
                    elif name == b"content-encoding" or (
                        name == b"content-type" and self.is_excluded(value)
                    ):
                        return send(message)
                if message.get("status") == 206:
                    return send(message)
            if scope["method"] == "HEAD":
                # A HEAD answer has no body to compress; it keeps the uncompressed headers.
                return send(message)
            target = _GZipResponder(self, scope, send)
            return target(message)

        await self.app(scope, receive, send_compressed)

    def _is_excluded(self, content_type: bytes) -> bool:
        """Whether a ``Content-Type`` is never compressed (cached as ``is_excluded``)."""
        media_type = content_type.partition(b";")[0].strip().lower()
        major = media_type.partition(b"/")[0]
        excluded = self.exclude_content_types
        if media_type in excluded or major + b"/*" in excluded:
            return True
        return media_type.startswith(b"application/grpc+") and b"application/grpc" in excluded


class _GZipResponder:
    """Compression of one response: the start is held until the first body shows its size."""

    __slots__ = ("compressor", "held", "middleware", "passing", "scope", "send")

    def __init__(self, middleware: GZipMiddleware, scope: Scope, send: Send) -> None:
        self.middleware = middleware
        self.scope = scope
        self.send = send
        self.passing = False
        self.held: Message | None = None
        self.compressor: zlib._Compress | None = None

    def __call__(self, message: Message) -> Awaitable[None]:
        if self.passing:
            return self.send(message)
        return self._handle(message)

    async def _handle(self, message: Message) -> None:
        kind = message["type"]
        if kind == "http.response.start":
            self.held = message
            return
        if kind == "http.response.body":
            if self.compressor is not None:
                await self._send_compressed(message)
            elif self.held is not None:
                await self._first_body(self.held, message)
            else:
                await self.send(message)
            return
        if kind == "http.response.pathsend" and self.held is not None:
            # A file the server sends itself cannot be compressed here.
            self.passing = True
            start, self.held = self.held, None
            await self.send(start)
        await self.send(message)  # trailers, early hints, ...

    async def _first_body(self, start: Message, message: Message) -> None:
        self.held = None
        body: bytes = message.get("body", b"")
        more_body: bool = message.get("more_body", False)
        if not more_body and len(body) < self.middleware.minimum_size:
            self.passing = True
            await self.send(start)
            await self.send(message)
            return
        headers = MutableHeaders(raw=list(start.get("headers", ())))
        headers.add_vary_header("Accept-Encoding")
        accept = next((v for n, v in self.scope["headers"] if n == b"accept-encoding"), None)
        if accept is None or not accepts_gzip(bytes(accept)):
            self.passing = True
            await self.send({**start, "headers": headers.raw})
            await self.send(message)
            return
        level = self.middleware.compresslevel
        self.compressor = zlib.compressobj(level, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
        data = await self._compress(body, more_body)
        headers["content-encoding"] = "gzip"
        if more_body or start.get("trailers", False):
            del headers["content-length"]
        else:
            headers["content-length"] = str(len(data))
        await self.send({**start, "headers": headers.raw})
        await self.send({**message, "body": data})

    async def _send_compressed(self, message: Message) -> None:
        body: bytes = message.get("body", b"")
        more_body: bool = message.get("more_body", False)
        if more_body and not body:
            await self.send(message)  # nothing to flush
            return
        await self.send({**message, "body": await self._compress(body, more_body)})

    async def _compress(self, body: bytes, more_body: bool) -> bytes:
        if len(body) >= self.middleware.thread_minimum_size:
            return await anyio.to_thread.run_sync(self._compress_now, body, more_body)
        return self._compress_now(body, more_body)

    def _compress_now(self, body: bytes, more_body: bool) -> bytes:
        assert self.compressor is not None
        mode = zlib.Z_SYNC_FLUSH if more_body else zlib.Z_FINISH
        return self.compressor.compress(body) + self.compressor.flush(mode)
