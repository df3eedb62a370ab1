"""``FileResponse``: a file from disk, sent in chunks, answering conditional and range requests
(the header logic is in :mod:`framework.http.conditional`)."""

from __future__ import annotations

import contextlib
import mimetypes
import os
import secrets
import stat
from collections.abc import Mapping, Sequence
from urllib.parse import quote

import anyio.to_thread

from framework.background import BackgroundTask
from framework.http import conditional
from framework.http.conditional import Ranges
from framework.http.datastructures import encode_headers
from framework.http.responses import Response, StreamingResponse
from framework.types import Receive, Scope, Send

__all__ = ["FileResponse"]


class _ClientGone(Exception):
    """``send`` raised OSError: the client left (ASGI 2.4 servers say so this way)."""


# What a 304 keeps of the 200 it stands for (RFC 9110, section 15.4.5), plus Last-Modified.
_NOT_MODIFIED_HEADERS = frozenset(
    (b"cache-control", b"content-location", b"date", b"etag", b"expires", b"vary", b"last-modified")
)
_CONDITIONAL_HEADERS = frozenset((b"if-none-match", b"if-modified-since", b"range", b"if-range"))


class FileResponse(Response):
    """A file from disk, sent in 64 KiB chunks read in a worker thread (or with the ASGI
    ``http.response.pathsend`` extension), with ``Content-Length``, ``Last-Modified``, ``ETag``,
    ``Accept-Ranges: bytes`` and, given ``filename``, ``Content-Disposition``.

    With ``status_code=200`` it answers conditional and range requests: 304 when ``If-None-Match``
    or ``If-Modified-Since`` says the client's copy is current, 206 for a satisfiable ``Range``
    (several as ``multipart/byteranges``; ``If-Range`` honoured), else 416.
    """

    chunk_size = 64 * 1024
    max_ranges = conditional.MAX_RANGES
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
        headers.setdefault("last-modified", conditional.http_date(result.st_mtime))
        headers.setdefault("etag", conditional.make_etag(result))

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
        method = scope.get("method", "GET")
        answer = None
        if self.status_code == 200 and method in ("GET", "HEAD"):
            answer = self._evaluate_request(scope, method, result.st_size)
        if isinstance(answer, tuple):  # 304 or 416: a fixed answer without the file
            status, headers = answer
            await send({"type": "http.response.start", "status": status, "headers": headers})
            await send({"type": "http.response.body", "body": b""})
        else:
            with contextlib.suppress(_ClientGone):
                if answer is None:
                    await self._send_whole(scope, receive, send, method == "HEAD")
                else:
                    await self._send_ranges(scope, receive, send, answer, result.st_size)
        if self.background is not None:
            await self.background()

    def _evaluate_request(
        self, scope: Scope, method: str, size: int
    ) -> Ranges | tuple[int, list[tuple[bytes, bytes]]] | None:
        """A fixed ``(status, headers)`` answer (304 or 416), the ranges to send (206) or None."""
        found = {
            name: value.decode("latin-1")
            for name, value in scope.get("headers", ())
            if name in _CONDITIONAL_HEADERS
        }
        if_none_match = found.get(b"if-none-match")
        if_modified_since = found.get(b"if-modified-since")
        range_header = found.get(b"range")
        if if_none_match is None and if_modified_since is None and range_header is None:
            return None
        etag, last_modified = self.headers.get("etag"), self.headers.get("last-modified")
        if conditional.is_not_modified(if_none_match, if_modified_since, etag, last_modified):
            return 304, [(k, v) for k, v in self.raw_headers if k in _NOT_MODIFIED_HEADERS]
        # Range requests are defined for GET only (RFC 9110, section 14.2): HEAD gets a 200.
        if range_header is None or method != "GET":
            return None
        if_range = found.get(b"if-range")
        if if_range is not None and not conditional.if_range_matches(if_range, etag, last_modified):
            return None
        ranges = conditional.parse_range(range_header, size, self.max_ranges)
        if ranges == []:
            return 416, [(b"content-range", b"bytes */%d" % size), (b"content-length", b"0")]
        return ranges

    async def _send_whole(self, scope: Scope, receive: Receive, send: Send, head: bool) -> None:
        status, headers = self.status_code, self.raw_headers
        if not head and "http.response.pathsend" not in scope.get("extensions", {}):
            size = self.stat_result.st_size if self.stat_result is not None else 0
            await self._stream(scope, receive, send, status, headers, [(0, size)])
            return
        await send({"type": "http.response.start", "status": status, "headers": headers})
        if head:
            await send({"type": "http.response.body", "body": b""})
        else:
            await send({"type": "http.response.pathsend", "path": os.fspath(self.path)})

    async def _send_ranges(
        self, scope: Scope, receive: Receive, send: Send, ranges: Ranges, size: int
    ) -> None:
        headers = [
            (k, v) for k, v in self.raw_headers if k not in (b"content-length", b"content-range")
        ]
        pieces: list[bytes | tuple[int, int]] = []
        if len(ranges) == 1:
            start, end = ranges[0]
            pieces.append((start, end))
            length = end - start
            headers.append(
                (b"content-range", conditional.content_range(start, end, size).encode("latin-1"))
            )
        else:
            boundary = secrets.token_hex(16)
            content_type = self.headers.get("content-type", "application/octet-stream")
            heads, tail, length = conditional.multipart_heads(ranges, size, content_type, boundary)
            for head, part in zip(heads, ranges):
                pieces += (head, part)
            pieces.append(tail)
            headers = [(k, v) for k, v in headers if k != b"content-type"]
            multipart = f"multipart/byteranges; boundary={boundary}"
            headers.append((b"content-type", multipart.encode("latin-1")))
        headers.append((b"content-length", str(length).encode("latin-1")))
        await self._stream(scope, receive, send, 206, headers, pieces)

    async def _stream(
        self,
        scope: Scope,
        receive: Receive,
        send: Send,
        status: int,
        headers: list[tuple[bytes, bytes]],
        pieces: Sequence[bytes | tuple[int, int]],
    ) -> None:
        """Open the file (failing before anything is sent), send the start, then ``pieces``:
        bytes as they are, ``(start, end)`` ranges of the file. Before ASGI 2.4 ``send`` does not
        fail once the client has gone: a watcher on ``receive`` stops the transfer instead."""
        try:
            file = await anyio.open_file(self.path, "rb")
        except FileNotFoundError:
            raise RuntimeError(f"File at path {self.path} does not exist.") from None
        try:
            await send({"type": "http.response.start", "status": status, "headers": headers})
            spec = scope.get("asgi", {}).get("spec_version", "2.0")
            if _spec_at_least_2_4(spec):
                await self._send_pieces(file, send, pieces)
            else:
                async with anyio.create_task_group() as group:
                    group.start_soon(
                        StreamingResponse._cancel_on_disconnect, receive, group.cancel_scope
                    )
                    await self._send_pieces(file, send, pieces)
                    group.cancel_scope.cancel()
        finally:
            with anyio.CancelScope(shield=True):
                await file.aclose()

    async def _send_pieces(
        self, file: anyio.AsyncFile[bytes], send: Send, pieces: Sequence[bytes | tuple[int, int]]
    ) -> None:
        async def body(data: bytes, more: bool) -> None:
            # Shielded: hypercorn reports http.disconnect while the last send is in progress,
            # and a send the disconnect watcher cancels there leaves the connection open.
            try:
                with anyio.CancelScope(shield=True):
                    await send({"type": "http.response.body", "body": data, "more_body": more})
            except OSError as exc:
                raise _ClientGone from exc

        position = 0
        for index, piece in enumerate(pieces):
            more = index < len(pieces) - 1
            if isinstance(piece, bytes):
                await body(piece, more)
                continue
            start, end = piece
            if start != position:
                await file.seek(start)
                position = start
            if start == end and not more:
                await body(b"", False)  # an empty file
            while position < end:
                chunk = await file.read(min(self.chunk_size, end - position))
                if not chunk:
                    raise RuntimeError(f"File at path {self.path} is shorter than expected.")
                position += len(chunk)
                await body(chunk, more or position < end)


def _spec_at_least_2_4(spec: str) -> bool:
    major, _, minor = spec.partition(".")
    try:
        return (int(major), int(minor or 0)) >= (2, 4)
    except ValueError:
        return False
