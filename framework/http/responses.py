"""The outgoing side: each response renders its status, header bytes and body once, then sends
them as ASGI messages (one ``await send(...)`` per message)."""

from __future__ import annotations

import functools
import http.cookies
from collections.abc import AsyncIterable, Iterable, Mapping
from datetime import datetime, timezone
from email.utils import format_datetime
from typing import Any, Literal
from urllib.parse import quote

import anyio
from pydantic_core import to_json

from framework.background import BackgroundTask
from framework.concurrency import iterate_in_threadpool
from framework.http.datastructures import URL, MutableHeaders, check_header, encode_headers
from framework.types import Receive, Scope, Send

__all__ = [
    "HTMLResponse",
    "JSONResponse",
    "PlainTextResponse",
    "RedirectResponse",
    "Response",
    "StreamingResponse",
]


# Media types usually come from code, but a handler may pass on one a client sent (an echo): the
# cache is bounded so that clients cannot grow it without end.
@functools.lru_cache(maxsize=256)
def _content_type(media_type: str, charset: str) -> bytes:
    """``text/html`` -> ``text/html; charset=utf-8``, cached: responses build this constantly."""
    check_header("content-type", media_type)
    if media_type.startswith("text/") and "charset=" not in media_type.lower():
        media_type = f"{media_type}; charset={charset}"
    return media_type.encode("latin-1")


class Response:
    """A response whose body is known up front: ``content`` is bytes or str (encoded with
    ``charset``); ``Content-Length`` and ``Content-Type`` are added unless given; a header with CR,
    LF or NUL raises ``ValueError`` here. ``background`` runs after the body is sent."""

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
            self.raw_headers = encode_headers(headers) if headers else []
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
        """Add a ``Set-Cookie`` header (``value`` quoted when it needs to be; an invalid ``key``
        raises ``http.cookies.CookieError``). ``max_age`` is in seconds (``0`` deletes the cookie);
        ``expires`` an aware datetime, an HTTP date string, or seconds from now. ``samesite``:
        ``"lax"`` (default), ``"strict"``, ``"none"`` (browsers then need ``secure=True``, as for
        ``partitioned``) or None. ``;`` or a control character in ``path``, ``domain`` or an
        ``expires`` string raises ``ValueError``: it would add attributes."""
        for name, text in (
            ("path", path),
            ("domain", domain),
            ("expires", expires if isinstance(expires, str) else None),
        ):
            if text is not None and any(c == ";" or c < " " or c == "\x7f" for c in text):
                raise ValueError(f"The cookie {name} must not contain ';' or control characters")
        cookie: http.cookies.SimpleCookie = http.cookies.SimpleCookie()
        cookie[key] = value
        if samesite is not None and samesite.lower() not in ("strict", "lax", "none"):
            raise ValueError("samesite must be 'strict', 'lax' or 'none'")
        if isinstance(expires, datetime):
            expires = format_datetime(expires.astimezone(timezone.utc), usegmt=True)
        attributes: dict[str, Any] = {
            "max-age": None if max_age is None else int(max_age),  # never a string: no attributes
            "expires": expires,
            "path": path,
            "domain": domain,
            "secure": secure or None,
            "httponly": httponly or None,
            "samesite": samesite,
        }
        cookie[key].update({name: v for name, v in attributes.items() if v is not None})
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
        """Tell the client to drop cookie ``key`` (an expired, empty ``Set-Cookie``); ``path``,
        ``domain`` and ``partitioned`` must match the ones it was set with."""
        self.set_cookie(key, "", 0, 0, path, domain, secure, httponly, samesite, partitioned)

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
    """Redirect to ``url`` (in ``Location``, percent-encoded so a CR/LF cannot split it).
    ``status_code``: ``307`` (default) or ``308`` (permanent) repeat the method and body,
    ``303`` follows with a ``GET`` (after a form ``POST``), ``302``/``301`` may become ``GET``."""

    def __init__(
        self,
        url: str | URL,
        status_code: int = 307,
        headers: Mapping[str, str] | None = None,
        background: BackgroundTask | None = None,
    ) -> None:
        super().__init__(b"", status_code, headers, background=background)
        self.headers["location"] = quote(str(url), safe=":/%#?=@[]!$&'()*+,;~")


ContentStream = AsyncIterable[str | bytes] | Iterable[str | bytes]


class StreamingResponse(Response):
    """A body produced piece by piece by an iterator (sync ones run in a worker thread) of bytes
    or str, without ``Content-Length`` unless given. When the client disconnects the iterator is
    closed; watching for that never takes body messages from a handler still reading them."""

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
        self.raw_headers = encode_headers(headers) if headers else []
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
            close = getattr(self.body_iterator, "aclose", None)
            if close is not None:
                with anyio.CancelScope(shield=True):
                    await close()
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
        while (await receive())["type"] != "http.disconnect":
            pass
        cancel_scope.cancel()
