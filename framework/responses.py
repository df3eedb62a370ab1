"""The outgoing side: each response renders its status, header bytes and body once, then sends
them as ASGI messages (one ``await send(...)`` per message)."""

from __future__ import annotations

import http.cookies
import mimetypes
import os
import secrets
import stat
from collections.abc import AsyncIterable, Iterable, Mapping
from datetime import datetime, timezone
from email.utils import format_datetime
from typing import Any, Literal
from urllib.parse import quote

import anyio
import anyio.to_thread
from pydantic_core import to_json

from framework._files import (
    MAX_RANGES,
    Ranges,
    content_range,
    http_date,
    if_range_matches,
    is_not_modified,
    make_etag,
    multipart_heads,
    parse_range,
)
from framework.background import BackgroundTask
from framework.concurrency import iterate_in_threadpool
from framework.datastructures import URL, MutableHeaders, check_header
from framework.types import Receive, Scope, Send

__all__ = [
    "FileResponse",
    "HTMLResponse",
    "JSONResponse",
    "PlainTextResponse",
    "RedirectResponse",
    "Response",
    "StreamingResponse",
]

_content_types: dict[tuple[str, str], bytes] = {}
# Media types usually come from code, but a handler may pass on one a client sent (an echo):
# past this many entries new ones are not cached, so clients cannot grow the cache without end.
_CONTENT_TYPES_CACHED = 256


def _content_type(media_type: str, charset: str) -> bytes:
    """``text/html`` -> ``text/html; charset=utf-8``, cached: responses build this constantly."""
    key = (media_type, charset)
    value = _content_types.get(key)
    if value is None:
        check_header("content-type", media_type)
        text = media_type
        if media_type.startswith("text/") and "charset=" not in media_type.lower():
            text = f"{media_type}; charset={charset}"
        value = text.encode("latin-1")
        if len(_content_types) < _CONTENT_TYPES_CACHED:
            _content_types[key] = value
    return value


def _encode_headers(headers: Mapping[str, str]) -> list[tuple[bytes, bytes]]:
    raw = []
    for name, value in headers.items():
        check_header(name, value)
        raw.append((name.lower().encode("latin-1"), value.encode("latin-1")))
    return raw


class Response:
    """A complete response whose body is known up front.

    ``Response(content=b"...", status_code=200, headers={...}, media_type="text/plain")``.
    ``content`` is bytes or str (encoded with ``charset``). ``Content-Length`` and
    ``Content-Type`` are added unless given. A header containing CR, LF or NUL raises
    ``ValueError`` here, before anything is sent. ``background`` runs after the body is sent.
    """

    media_type: str | None = None
    charset = "utf-8"
    # A streaming response watches receive() for a disconnect while it sends.
    watches_disconnect = False

    def __init__(
        self,
        content: Any = None,
        status_code: int = 200,
        headers: Mapping[str, str] | None = None,
        media_type: str | None = None,
        background: BackgroundTask | None = None,
    ) -> None:
        self.status_code = status_code
        if media_type is not None:
            self.media_type = media_type
        self.background = background
        body = self.body = self.render(content)
        if headers or status_code < 200 or status_code in (204, 304) or self.media_type is None:
            self.raw_headers = _encode_headers(headers) if headers else []
            self._add_entity_headers(len(body))
        else:  # the common case, without a scan for headers the caller already set
            self.raw_headers = [
                (b"content-length", str(len(body)).encode("latin-1")),
                (b"content-type", _content_type(self.media_type, self.charset)),
            ]

    def render(self, content: Any) -> bytes:
        """Turn ``content`` into the body bytes."""
        if isinstance(content, str):
            return content.encode(self.charset)
        if content is None:
            return b""
        if isinstance(content, (bytes, memoryview)):
            return bytes(content)
        raise TypeError(
            f"{type(self).__name__} content must be str or bytes, not {type(content).__name__}"
        )

    def _add_entity_headers(self, length: int | None) -> None:
        raw = self.raw_headers
        has_length = has_type = False
        for name, _ in raw:
            if name == b"content-length":
                has_length = True
            elif name == b"content-type":
                has_type = True
        status = self.status_code
        if length is not None and not has_length and status >= 200 and status not in (204, 304):
            raw.append((b"content-length", str(length).encode("latin-1")))
        if self.media_type is not None and not has_type:
            raw.append((b"content-type", _content_type(self.media_type, self.charset)))

    @property
    def headers(self) -> MutableHeaders:
        """The response headers, editable in place (changes are checked for CR/LF/NUL)."""
        return MutableHeaders(raw=self.raw_headers)

    def set_cookie(
        self,
        key: str,
        value: str = "",
        max_age: int | None = None,
        expires: datetime | str | int | None = None,
        path: str | None = "/",
        domain: str | None = None,
        secure: bool = False,
        httponly: bool = False,
        samesite: Literal["lax", "strict", "none"] | None = "lax",
        partitioned: bool = False,
    ) -> None:
        """Add a ``Set-Cookie`` header.

        ``value`` is quoted when it needs to be; an invalid ``key`` raises
        ``http.cookies.CookieError``. ``max_age`` is in seconds (``0`` deletes the cookie);
        ``expires`` is an aware datetime (sent in GMT), an HTTP date string, or seconds from now.
        ``samesite`` is ``"lax"`` (the default), ``"strict"``, ``"none"`` (browsers then need
        ``secure=True``) or None to leave it out; ``partitioned`` adds ``Partitioned`` (CHIPS,
        also needs ``secure=True`` in browsers). ``path``, ``domain`` or an ``expires`` string
        containing ``;`` or a control character raises ``ValueError``: it would add attributes.
        """
        for name, text in (
            ("path", path),
            ("domain", domain),
            ("expires", expires if isinstance(expires, str) else None),
        ):
            if text is not None and any(c == ";" or c < " " or c == "\x7f" for c in text):
                raise ValueError(f"The cookie {name} must not contain ';' or control characters")
        cookie: http.cookies.SimpleCookie = http.cookies.SimpleCookie()
        cookie[key] = value
        morsel = cookie[key]
        if max_age is not None:
            morsel["max-age"] = int(max_age)  # never a string that could carry attributes
        if expires is not None:
            if isinstance(expires, datetime):
                morsel["expires"] = format_datetime(expires.astimezone(timezone.utc), usegmt=True)
            else:
                morsel["expires"] = expires
        if path is not None:
            morsel["path"] = path
        if domain is not None:
            morsel["domain"] = domain
        if secure:
            morsel["secure"] = True
        if httponly:
            morsel["httponly"] = True
        if samesite is not None:
            if samesite.lower() not in ("strict", "lax", "none"):
                raise ValueError("samesite must be 'strict', 'lax' or 'none'")
            morsel["samesite"] = samesite
        text = cookie.output(header="").strip()
        if partitioned:
            text += "; Partitioned"
        self.headers.append("set-cookie", text)

    def delete_cookie(
        self,
        key: str,
        path: str = "/",
        domain: str | None = None,
        secure: bool = False,
        httponly: bool = False,
        samesite: Literal["lax", "strict", "none"] | None = "lax",
        partitioned: bool = False,
    ) -> None:
        """Tell the client to drop cookie ``key`` (an expired, empty ``Set-Cookie``).

        ``path``, ``domain`` and ``partitioned`` must match the ones it was set with.
        """
        self.set_cookie(
            key,
            max_age=0,
            expires=0,
            path=path,
            domain=domain,
            secure=secure,
            httponly=httponly,
            samesite=samesite,
            partitioned=partitioned,
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await send(
            {"type": "http.response.start", "status": self.status_code, "headers": self.raw_headers}
        )
        body = b"" if scope.get("method") == "HEAD" else self.body
        await send({"type": "http.response.body", "body": body})
        if self.background is not None:
            await self.background()


class PlainTextResponse(Response):
    """A ``text/plain; charset=utf-8`` response."""

    media_type = "text/plain"


class HTMLResponse(Response):
    """A ``text/html; charset=utf-8`` response."""

    media_type = "text/html"


class JSONResponse(Response):
    """``content`` serialised to JSON by pydantic-core (dicts, lists, models, dataclasses,
    datetimes, UUIDs, ...), compact and UTF-8, as ``application/json``."""

    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        return to_json(content, inf_nan_mode="null")  # NaN/inf as null, as pydantic models


class RedirectResponse(Response):
    """Redirect to ``url`` (sent in ``Location``, with characters a URL cannot hold
    percent-encoded, so a CR/LF cannot split the header).

    ``status_code`` picks the kind: ``307`` (the default) and ``302`` are temporary, ``308`` and
    ``301`` permanent (clients may cache them); ``307``/``308`` make the client repeat the same
    method and body, ``303`` makes it follow with a ``GET`` (the answer to a form ``POST``), and
    ``301``/``302`` let it turn a ``POST`` into a ``GET``, as browsers do.
    """

    def __init__(
        self,
        url: str | URL,
        status_code: int = 307,
        headers: Mapping[str, str] | None = None,
        background: BackgroundTask | None = None,
    ) -> None:
        super().__init__(
            content=b"", status_code=status_code, headers=headers, background=background
        )
        self.headers["location"] = quote(str(url), safe=":/%#?=@[]!$&'()*+,;~")


ContentStream = AsyncIterable[str | bytes] | Iterable[str | bytes]


class StreamingResponse(Response):
    """A body produced piece by piece by an iterator (sync or async) of bytes or str.

    Sync iterators run in a worker thread. Streaming stops when the client disconnects (the
    iterator is closed), and watching for that never takes request-body messages from a handler
    still reading them. No ``Content-Length`` is set unless you give one.
    """

    watches_disconnect = True

    def __init__(
        self,
        content: ContentStream,
        status_code: int = 200,
        headers: Mapping[str, str] | None = None,
        media_type: str | None = None,
        background: BackgroundTask | None = None,
    ) -> None:
        self.status_code = status_code
        if media_type is not None:
            self.media_type = media_type
        self.background = background
        if isinstance(content, AsyncIterable):
            self.body_iterator: AsyncIterable[str | bytes] = content
        else:
            self.body_iterator = iterate_in_threadpool(content)
        self.raw_headers = _encode_headers(headers) if headers else []
        self._add_entity_headers(None)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await send(
            {"type": "http.response.start", "status": self.status_code, "headers": self.raw_headers}
        )
        try:
            if scope.get("method") == "HEAD":
                await send({"type": "http.response.body", "body": b""})
            else:
                # An error of the iterator (ClientDisconnect while echoing the request body, for
                # one) is raised as it is, not wrapped in the task group's ExceptionGroup.
                error: Exception | None = None
                async with anyio.create_task_group() as group:
                    group.start_soon(self._cancel_on_disconnect, receive, group.cancel_scope)
                    try:
                        await self._send_chunks(send)
                    except Exception as exc:
                        error = exc
                    group.cancel_scope.cancel()
                if error is not None:
                    raise error
        finally:
            await self._close_iterator()
        if self.background is not None:
            await self.background()

    async def _send_chunks(self, send: Send) -> None:
        charset = self.charset
        try:
            async for chunk in self.body_iterator:
                data = chunk if isinstance(chunk, bytes) else chunk.encode(charset)
                await send({"type": "http.response.body", "body": data, "more_body": True})
            # Shielded from the disconnect watcher: hypercorn reports http.disconnect while
            # this last send is in progress, and cancelling it there leaves the connection open.
            with anyio.CancelScope(shield=True):
                await send({"type": "http.response.body", "body": b"", "more_body": False})
        except OSError:
            pass  # ASGI 2.4 servers raise OSError from send() once the client is gone

    @staticmethod
    async def _cancel_on_disconnect(receive: Receive, cancel_scope: anyio.CancelScope) -> None:
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                cancel_scope.cancel()
                return

    async def _close_iterator(self) -> None:
        close = getattr(self.body_iterator, "aclose", None)
        if close is not None:
            with anyio.CancelScope(shield=True):
                await close()


class _ClientGone(Exception):
    """``send`` raised OSError: the client left (ASGI 2.4 servers say so this way)."""


# What a 304 keeps of the 200 it stands for (RFC 9110, section 15.4.5), plus Last-Modified.
_NOT_MODIFIED_HEADERS = frozenset(
    (b"cache-control", b"content-location", b"date", b"etag", b"expires", b"vary", b"last-modified")
)


class FileResponse(Response):
    """A file from disk, sent in 64 KiB chunks read in a worker thread (never whole in memory).

    Sets ``Content-Length``, ``Last-Modified``, ``ETag`` and ``Accept-Ranges: bytes``; answers
    ``HEAD`` without a body; with ``filename`` adds a ``Content-Disposition``. Uses the ASGI
    ``http.response.pathsend`` extension when the server offers it.

    With ``status_code=200`` it also answers conditional and range requests to GET (and HEAD for
    the conditions): 304 when ``If-None-Match`` or ``If-Modified-Since`` says the client's copy is
    current, 206 for a satisfiable ``Range`` (several ranges as ``multipart/byteranges``), 416 with
    ``Content-Range: bytes */size`` when none is; ``If-Range`` is honoured. See
    :mod:`framework._files` for the details.
    """

    chunk_size = 64 * 1024
    max_ranges = MAX_RANGES
    # The disconnect watcher only reads http.disconnect; FileResponse never reads the body.
    watches_disconnect = True

    def __init__(
        self,
        path: str | os.PathLike[str],
        status_code: int = 200,
        headers: Mapping[str, str] | None = None,
        media_type: str | None = None,
        background: BackgroundTask | None = None,
        filename: str | None = None,
        stat_result: os.stat_result | None = None,
        content_disposition_type: str = "attachment",
    ) -> None:
        self.path = path
        self.status_code = status_code
        self.filename = filename
        self.background = background
        if media_type is None:
            media_type = (
                mimetypes.guess_type(filename or str(path))[0] or "application/octet-stream"
            )
        self.media_type = media_type
        self.raw_headers = _encode_headers(headers) if headers else []
        self.headers.setdefault("accept-ranges", "bytes")
        if filename is not None:
            quoted = quote(filename)
            if quoted != filename:
                disposition = f"{content_disposition_type}; filename*=utf-8''{quoted}"
            else:
                disposition = f'{content_disposition_type}; filename="{filename}"'
            self.headers.setdefault("content-disposition", disposition)
        self.stat_result = stat_result
        if stat_result is not None:
            self._add_file_headers(stat_result)

    def _add_file_headers(self, result: os.stat_result) -> None:
        self._add_entity_headers(result.st_size)
        headers = self.headers
        headers.setdefault("last-modified", http_date(result.st_mtime))
        headers.setdefault("etag", make_etag(result))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        result = self.stat_result
        if result is None:
            try:
                result = await anyio.to_thread.run_sync(os.stat, self.path)
            except FileNotFoundError:
                raise RuntimeError(f"File at path {self.path} does not exist.") from None
            if not stat.S_ISREG(result.st_mode):
                raise RuntimeError(f"File at path {self.path} is not a file.")
            self.stat_result = result
            self._add_file_headers(result)
        size = result.st_size
        method = scope.get("method", "GET")
        status = self.status_code
        headers = self.raw_headers
        ranges: Ranges | None = None
        if status == 200 and method in ("GET", "HEAD"):
            answer = self._evaluate_request(scope, method, size)
            if isinstance(answer, tuple):  # 304 or 416: a fixed answer without the file
                status, headers = answer
                await send({"type": "http.response.start", "status": status, "headers": headers})
                await send({"type": "http.response.body", "body": b""})
                if self.background is not None:
                    await self.background()
                return
            ranges = answer
        try:
            if ranges is None:
                await self._send_whole(scope, receive, send, method == "HEAD")
            else:
                await self._send_ranges(scope, receive, send, ranges, size)
        except _ClientGone:
            pass
        if self.background is not None:
            await self.background()

    def _evaluate_request(
        self, scope: Scope, method: str, size: int
    ) -> Ranges | tuple[int, list[tuple[bytes, bytes]]] | None:
        """Read the conditional and range headers of the request: a fixed ``(status, headers)``
        answer (304 or 416), the byte ranges to send (206) or None (the whole file)."""
        if_none_match = if_modified_since = range_header = if_range = None
        for name, value in scope.get("headers", ()):
            if name == b"if-none-match":
                if_none_match = value.decode("latin-1")
            elif name == b"if-modified-since":
                if_modified_since = value.decode("latin-1")
            elif name == b"range":
                range_header = value.decode("latin-1")
            elif name == b"if-range":
                if_range = value.decode("latin-1")
        if if_none_match is None and if_modified_since is None and range_header is None:
            return None
        own = self.headers
        etag = own.get("etag")
        last_modified = own.get("last-modified")
        if is_not_modified(if_none_match, if_modified_since, etag, last_modified):
            kept = [(k, v) for k, v in self.raw_headers if k in _NOT_MODIFIED_HEADERS]
            return 304, kept
        # Range requests are defined for GET only (RFC 9110, section 14.2): HEAD gets a 200.
        if range_header is None or method != "GET":
            return None
        if if_range is not None and not if_range_matches(if_range, etag, last_modified):
            return None
        ranges = parse_range(range_header, size, self.max_ranges)
        if ranges == []:
            unsatisfiable = [
                (b"content-range", f"bytes */{size}".encode("latin-1")),
                (b"content-length", b"0"),
            ]
            return 416, unsatisfiable
        return ranges

    async def _send_whole(self, scope: Scope, receive: Receive, send: Send, head: bool) -> None:
        pathsend = "http.response.pathsend" in scope.get("extensions", {})
        if head or pathsend:
            status, headers = self.status_code, self.raw_headers
            await send({"type": "http.response.start", "status": status, "headers": headers})
            if head:
                await send({"type": "http.response.body", "body": b""})
            else:
                await send({"type": "http.response.pathsend", "path": os.fspath(self.path)})
        else:
            size = self.stat_result.st_size if self.stat_result is not None else 0
            await self._stream(
                scope, receive, send, self.status_code, self.raw_headers, [(0, size)], None
            )

    async def _send_ranges(
        self, scope: Scope, receive: Receive, send: Send, ranges: Ranges, size: int
    ) -> None:
        headers = [
            (k, v) for k, v in self.raw_headers if k not in (b"content-length", b"content-range")
        ]
        framing: tuple[list[bytes], bytes] | None = None
        if len(ranges) == 1:
            start, end = ranges[0]
            length = end - start
            headers.append((b"content-range", content_range(start, end, size).encode("latin-1")))
        else:
            boundary = secrets.token_hex(16)
            content_type = self.headers.get("content-type", "application/octet-stream")
            heads, tail, length = multipart_heads(ranges, size, content_type, boundary)
            framing = (heads, tail)
            headers = [(k, v) for k, v in headers if k != b"content-type"]
            multipart = f"multipart/byteranges; boundary={boundary}"
            headers.append((b"content-type", multipart.encode("latin-1")))
        headers.append((b"content-length", str(length).encode("latin-1")))
        await self._stream(scope, receive, send, 206, headers, ranges, framing)

    async def _stream(
        self,
        scope: Scope,
        receive: Receive,
        send: Send,
        status: int,
        headers: list[tuple[bytes, bytes]],
        ranges: Ranges,
        framing: tuple[list[bytes], bytes] | None,
    ) -> None:
        """Open the file, send the start, then the ``ranges`` (with multipart ``framing``).

        The file is opened first, so a file that cannot be read fails before anything is sent.
        Servers older than ASGI 2.4 do not fail ``send`` once the client has gone: there a
        watcher on ``receive`` stops the transfer at ``http.disconnect``.
        """
        try:
            file = await anyio.open_file(self.path, "rb")
        except FileNotFoundError:
            raise RuntimeError(f"File at path {self.path} does not exist.") from None
        try:
            await send({"type": "http.response.start", "status": status, "headers": headers})
            spec = scope.get("asgi", {}).get("spec_version", "2.0")
            if _spec_at_least_2_4(spec):
                await self._send_parts(file, send, ranges, framing)
            else:
                async with anyio.create_task_group() as group:
                    group.start_soon(
                        StreamingResponse._cancel_on_disconnect, receive, group.cancel_scope
                    )
                    await self._send_parts(file, send, ranges, framing)
                    group.cancel_scope.cancel()
        finally:
            with anyio.CancelScope(shield=True):
                await file.aclose()

    async def _send_parts(
        self,
        file: anyio.AsyncFile[bytes],
        send: Send,
        ranges: Ranges,
        framing: tuple[list[bytes], bytes] | None,
    ) -> None:
        async def body(data: bytes, more: bool) -> None:
            # Shielded: a disconnect watcher must not cancel a send half-way. Some servers
            # (hypercorn) report http.disconnect while the last send is still in progress, and
            # a send cancelled there leaves the connection open.
            try:
                with anyio.CancelScope(shield=True):
                    await send({"type": "http.response.body", "body": data, "more_body": more})
            except OSError as exc:
                raise _ClientGone from exc

        position = 0
        last_index = len(ranges) - 1
        sent_last = False
        for index, (start, end) in enumerate(ranges):
            if framing is not None:
                await body(framing[0][index], True)
            if start != position:
                await file.seek(start)
            remaining = end - start
            while remaining > 0:
                chunk = await file.read(min(self.chunk_size, remaining))
                if not chunk:
                    raise RuntimeError(f"File at path {self.path} is shorter than expected.")
                remaining -= len(chunk)
                sent_last = framing is None and index == last_index and remaining == 0
                await body(chunk, not sent_last)
            position = end
        if framing is not None:
            await body(framing[1], False)
        elif not sent_last:
            await body(b"", False)  # an empty file or range list


def _spec_at_least_2_4(spec: str) -> bool:
    major, _, minor = spec.partition(".")
    try:
        return (int(major), int(minor or 0)) >= (2, 4)
    except ValueError:
        return False
