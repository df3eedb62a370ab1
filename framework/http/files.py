"""``FileResponse``: a file from disk, sent in chunks, answering conditional and range requests.

The header logic (ETags, dates, ``Range`` parsing, multipart framing) is in
:mod:`framework.http.conditional`.
"""

from __future__ import annotations

import mimetypes
import os
import secrets
import stat
from collections.abc import Mapping
from urllib.parse import quote

import anyio
import anyio.to_thread

from framework.background import BackgroundTask
from framework.http.conditional import (
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
from framework.http.responses import Response, StreamingResponse, encode_headers
from framework.types import Receive, Scope, Send

__all__ = ["FileResponse"]


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
    :mod:`framework.http.conditional` for the details.
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
        self.raw_headers = encode_headers(headers) if headers else []
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
