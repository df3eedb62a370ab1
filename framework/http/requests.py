"""The incoming side of a connection: :class:`HTTPConnection` (shared with WebSockets) and
:class:`Request`. Everything is read from the scope on first access and cached."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator, Iterator, Mapping
from http.cookies import _unquote as _unquote_cookie
from typing import Any

import anyio
from pydantic_core import from_json

from framework.exceptions import ClientDisconnect, HTTPException, InvalidJSONBody
from framework.http.datastructures import URL, Address, Headers, QueryParams, State
from framework.http.forms import DEFAULT_LIMITS, FormData, FormLimits, parse_form
from framework.types import UNSET, Message, Receive, Scope, Send

__all__ = ["ClientDisconnect", "HTTPConnection", "Request"]

_DISCONNECT: Message = {"type": "http.disconnect"}


def raw_header(scope: Scope, name: bytes) -> bytes | None:
    """The first value of header ``name`` (lower-case bytes) straight from the scope: for the
    framework's own lookups, which need no :class:`Headers` object."""
    for key, value in scope["headers"]:
        if key == name:
            return bytes(value)
    return None


def parse_cookies(header: str) -> dict[str, str]:
    """Parse a ``Cookie`` header (``a=1; b="2"``) leniently: malformed pieces are skipped; a
    repeated name keeps its first value (the most specific path, by RFC 6265 ordering)."""
    cookies: dict[str, str] = {}
    for piece in header.split(";"):
        name, sep, value = piece.partition("=")
        name = name.strip()
        if sep and name and name not in cookies:
            cookies[name] = _unquote_cookie(value.strip())
    return cookies


async def _empty_receive() -> Message:
    raise RuntimeError("This request was created without a receive channel")


async def _empty_send(message: Message) -> None:
    raise RuntimeError("This request was created without a send channel")


def check_declared_length(scope: Scope, limit: int | None) -> None:
    """413 when ``Content-Length`` declares more than ``limit`` (400 when it is not a number)."""
    if limit is None or (declared := raw_header(scope, b"content-length")) is None:
        return
    try:
        length = int(declared)
    except ValueError:
        raise HTTPException(400, detail="Invalid Content-Length header") from None
    if length > limit:
        raise HTTPException(413, detail="Request body too large")


def _checked_chunk(message: Message, received: int, limit: int | None) -> bytes:
    """A body message's chunk: :class:`ClientDisconnect` for a message that is not one (the
    client left), 413 when it takes the body past ``limit`` (``received`` so far)."""
    if message["type"] != "http.request":
        raise ClientDisconnect()
    chunk: bytes = message.get("body", b"")
    if limit is not None and received + len(chunk) > limit:
        raise HTTPException(413, detail="Request body too large")
    return chunk


async def read_body(scope: Scope, receive: Receive, limit: int | None) -> bytes:
    """The whole body, with :meth:`Request.body`'s checks but no :class:`Request`: 413 past
    ``limit``; :class:`ClientDisconnect` if the client leaves first."""
    check_declared_length(scope, limit)
    chunks: list[bytes] = []
    received = 0
    while True:
        message = await receive()
        chunk = _checked_chunk(message, received, limit)
        if chunk:
            received += len(chunk)
            chunks.append(chunk)
        if not message.get("more_body", False):
            return chunks[0] if len(chunks) == 1 else b"".join(chunks)


class HTTPConnection(Mapping[str, Any]):
    """What HTTP requests and WebSocket connections have in common: the scope, read lazily, and
    a read-only mapping over it (``conn["path"]``)."""

    __slots__ = ("_cookies", "_headers", "_query_params", "_receive", "_state", "_url", "scope")

    def __init__(self, scope: Scope, receive: Receive | None = None) -> None:
        self.scope = scope
        self._receive = receive if receive is not None else _empty_receive
        self._url: URL | None = None
        self._headers: Headers | None = None
        self._query_params: QueryParams | None = None
        self._cookies: dict[str, str] | None = None
        self._state: State | None = None

    def __getitem__(self, key: str) -> Any:
        return self.scope[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self.scope)

    def __len__(self) -> int:
        return len(self.scope)

    __eq__ = object.__eq__
    __hash__ = object.__hash__

    @property
    def app(self) -> Any:
        """The :class:`~framework.App` handling this connection."""
        return self.scope.get("app")

    @property
    def url(self) -> URL:
        """The full URL the client asked for, rebuilt from the scope and the ``Host`` header."""
        if self._url is None:
            self._url = URL(scope=self.scope)
        return self._url

    @property
    def base_url(self) -> URL:
        """The URL of the outermost application's root (scheme, host, ``root_path``), ending in
        ``/``: the base ``url_for`` needs, also inside a mounted app."""
        root_path = self.scope.get("app_root_path", self.scope.get("root_path", ""))
        return self.url.replace(path=root_path.rstrip("/") + "/", query="", fragment="")

    @property
    def headers(self) -> Headers:
        """Request headers: case-insensitive, multi-valued, decoded only when read."""
        if self._headers is None:
            self._headers = Headers(scope=self.scope)
        return self._headers

    @property
    def query_params(self) -> QueryParams:
        """The query string parsed into a multi-valued mapping."""
        if self._query_params is None:
            self._query_params = QueryParams(self.scope.get("query_string", b""))
        return self._query_params

    @property
    def path_params(self) -> dict[str, Any]:
        """Path parameters of the matched route, already converted (``{id:int}`` gives an int)."""
        params: dict[str, Any] = self.scope.get("path_params", {})
        return params

    @property
    def cookies(self) -> dict[str, str]:
        """Cookies the client sent."""
        if self._cookies is None:
            header = self.headers.get("cookie")
            self._cookies = parse_cookies(header) if header else {}
        return self._cookies

    @property
    def client(self) -> Address | None:
        """``(host, port)`` of the client, when the server reports it."""
        client = self.scope.get("client")
        return None if client is None else Address(client[0], client[1])

    @property
    def state(self) -> State:
        """Per-request state. It starts as a copy of the lifespan state (ASGI ``scope["state"]``)
        and is shared by middleware and the handler of this request."""
        if self._state is None:
            self._state = State(self.scope.setdefault("state", {}))
        return self._state

    def url_for(self, name: str, /, **path_params: Any) -> URL:
        """The absolute URL of the route called ``name``, with ``path_params`` filled in."""
        router = self.scope.get("router")  # set by the router that routed this connection
        if router is None:
            raise RuntimeError("url_for() needs a request routed by a framework App")
        url: URL = router.url_path_for(name, **path_params).make_absolute_url(self.base_url)
        return url


class Request(HTTPConnection):
    """An HTTP request: the scope plus the body, read from ``receive`` when asked for.
    ``max_body_size`` bounds the body (413 past it), ``form_limits`` the forms of :meth:`form`."""

    __slots__ = (
        "_body",
        "_disconnected",
        "_form",
        "_form_limits",
        "_json",
        "_lock",
        "_max_body_size",
        "_received",
        "_send",
        "_slot",
        "_slot_free",
        "_stream_started",
        "_transport_done",
    )

    def __init__(
        self,
        scope: Scope,
        receive: Receive | None = None,
        send: Send | None = None,
        *,
        max_body_size: int | None = None,
        form_limits: FormLimits | None = None,
    ) -> None:
        super().__init__(scope, receive)
        self._send = send if send is not None else _empty_send
        self._max_body_size = max_body_size
        self._form_limits = form_limits or DEFAULT_LIMITS
        self._body: bytes | None = None
        self._json: Any = UNSET
        self._form: FormData | None = None
        self._stream_started = False
        self._transport_done = False  # the server delivered the last body message
        self._disconnected = False
        self._received = 0
        # Coordination with a streaming response that watches for disconnect (see _watch_receive):
        # one message read ahead, and a lock so that only one coroutine waits in receive().
        self._slot: Message | None = None
        self._slot_free: anyio.Event | None = None
        self._lock: anyio.Lock | None = None

    @property
    def method(self) -> str:
        """The HTTP method, upper-case."""
        method: str = self.scope["method"]
        return method

    @property
    def receive(self) -> Receive:
        """The ASGI receive channel of this request."""
        return self._receive

    def _start_body(self) -> None:
        if self._stream_started:
            raise RuntimeError("The request body has already been consumed")
        self._stream_started = True
        check_declared_length(self.scope, self._max_body_size)

    def _accept(self, message: Message) -> tuple[bytes, bool]:
        """Account for one received message: its chunk and whether more follow."""
        try:
            chunk = _checked_chunk(message, self._received, self._max_body_size)
        except ClientDisconnect:
            self._disconnected = True
            raise
        self._received += len(chunk)
        return chunk, message.get("more_body", False)

    async def _raw_receive(self) -> Message:
        message = await self._receive()
        kind = message["type"]
        if kind == "http.request":
            if not message.get("more_body", False):
                self._transport_done = True
        elif kind == "http.disconnect":
            self._disconnected = True
        return message

    def _take_slot(self) -> Message | None:
        message = self._slot
        if message is not None:
            self._slot = None
            if self._slot_free is not None:
                self._slot_free.set()
        return message

    def _ready_message(self) -> Message | None:
        """A message the body reader can have without waiting: one read ahead, or the disconnect."""
        return self._take_slot() or (_DISCONNECT if self._disconnected else None)

    async def _next_message(self) -> Message:
        """The next body message for the body reader, in order, whoever fetched it."""
        message = self._ready_message()
        if message is not None:
            return message
        if self._lock is None:
            return await self._raw_receive()
        async with self._lock:  # the disconnect watcher may have read one meanwhile
            return self._ready_message() or await self._raw_receive()

    async def _read_ahead(self) -> None:
        """Read one message for :meth:`is_disconnected` or the disconnect watcher, keeping a body
        message in the slot for the body reader."""
        was_done = self._transport_done
        message = await self._raw_receive()
        if message["type"] == "http.request" and not was_done:
            self._slot = message

    async def body(self) -> bytes:
        """The whole body (read once, then cached). Raises 413 past the body size limit."""
        if self._body is None:
            self._start_body()
            chunk, more = self._accept(await self._next_message())
            if not more:
                self._body = chunk
                return chunk
            chunks = [chunk]
            while more:
                chunk, more = self._accept(await self._next_message())
                chunks.append(chunk)
            self._body = b"".join(chunks)
        return self._body

    async def stream(self) -> AsyncIterator[bytes]:
        """The body chunk by chunk as it arrives (after ``body()``: the cached body). Raises
        :class:`ClientDisconnect` if the client leaves mid-body, 413 past the body size limit."""
        if self._body is not None:
            if self._body:
                yield self._body
            return
        self._start_body()
        more = True
        while more:
            chunk, more = self._accept(await self._next_message())
            if chunk:
                yield chunk

    async def json(self) -> Any:
        """The body parsed as JSON. A body that is not JSON raises :class:`InvalidJSONBody` (400)."""
        if self._json is UNSET:
            body = await self.body()
            try:
                self._json = from_json(body)
            except ValueError as exc:
                raise InvalidJSONBody(str(exc)) from None
        return self._json

    async def form(
        self,
        *,
        max_files: int | None = None,
        max_fields: int | None = None,
        max_part_size: int | None = None,
        max_file_size: int | None = None,
    ) -> FormData:
        """The body parsed as a urlencoded or multipart form (cached), files as
        :class:`~framework.http.forms.UploadFile`. Another content type gives 415, a malformed
        body 400, a form past its limits (these, else the route's ``form_limits``) 413."""
        if self._form is None:
            names = ("max_files", "max_fields", "max_part_size", "max_file_size")
            given = zip(names, (max_files, max_fields, max_part_size, max_file_size))
            chosen = {key: value for key, value in given if value is not None}
            limits = dataclasses.replace(self._form_limits, **chosen)
            self._form = await parse_form(self.headers, self.stream(), limits)
        return self._form

    async def close(self) -> None:
        """Release what the request holds (uploaded files of a parsed form)."""
        if self._form is not None:
            await self._form.close()

    def downstream_receive(self) -> Receive:
        """A receive channel for the app run after this request was used (by a middleware): a
        body read here is handed on once, as one message (a body streamed through is gone: the
        app finds it empty), then a message read ahead, then the server's messages."""
        replayed = False

        async def receive() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                if self._body is not None or (self._stream_started and self._transport_done):
                    return {"type": "http.request", "body": self._body or b"", "more_body": False}
            return self._take_slot() or await self._receive()

        return receive

    async def is_disconnected(self) -> bool:
        """True once the client has gone away. Never waits and never loses body messages."""
        if self._disconnected:
            return True
        if (self._lock is not None and self._lock.locked()) or (
            self._slot is not None and not self._transport_done
        ):
            return False
        with anyio.CancelScope() as scope:
            scope.cancel()  # receive() only returns if a message is already waiting
            await self._read_ahead()
        return self._disconnected

    def streaming_receive(self) -> Receive:
        """A receive channel for the disconnect watcher of a streaming response while the handler
        may still read the body: it reads one message ahead and waits until the body reader takes
        it, so only ``http.disconnect`` reaches the watcher. An unread body whose
        ``Content-Length`` is over the limit is refused here (413), while an answer can be sent."""
        if not self._stream_started:
            check_declared_length(self.scope, self._max_body_size)
        if self._lock is None:
            self._lock = anyio.Lock()
        return self._watch_receive

    async def _watch_receive(self) -> Message:
        assert self._lock is not None
        while not self._disconnected:
            if self._slot is not None and not self._transport_done:
                event = self._slot_free = anyio.Event()
                await event.wait()
                continue
            async with self._lock:
                if not self._disconnected and (self._slot is None or self._transport_done):
                    await self._read_ahead()
        return _DISCONNECT
